import { FILES_VISIBLE_DAYS } from '../../contract/exports.ts';
import { type EventsExportJob, fileLink, filesExpiry, jobLink } from './job.ts';

/**
 * The email sent to a completed job's `emails` (seed 002: "a notification with
 * download links when the export is ready").
 *
 * Each file gets two links: a presigned URL that works in a browser but only for
 * `linkSeconds` (a URL signed by a Lambda role dies with the role's session, so it
 * cannot be promised for two days), and the API's file link, which works for the
 * whole two days with the environment's API key and answers with a fresh URL.
 */
export function exportReadyEmail(input: {
  readonly job: EventsExportJob;
  readonly files: readonly { filename: string; url: string }[];
  /** The API's public base URL, e.g. https://api.example.com (no trailing slash). */
  readonly apiBaseUrl: string;
  readonly linkSeconds: number;
}): { to: string[]; subject: string; text: string } {
  const { job } = input;
  const base = input.apiBaseUrl.replace(/\/+$/, '');
  const expiry = filesExpiry(job);
  const request = job.request;
  const lines = [
    `Your featurelake export ${job.job_id} (environment ${job.app_token}) is ready.`,
    '',
    `Events from ${request.from} to ${request.to}, ${request.format.toUpperCase()}, one gzip file per week (named by its Monday).`,
    `The files can be downloaded for ${FILES_VISIBLE_DAYS} days${expiry ? `, until ${expiry.toISOString()}` : ''}.`,
    '',
    `Direct links (valid for ${describeSeconds(input.linkSeconds)}):`,
    ...input.files.map((file) => `  ${file.filename}\n    ${file.url}`),
    '',
    'Links that stay valid as long as the files, with your API key:',
    ...input.files.map(
      (file) =>
        `  curl -L -H "Authorization: Token $API_KEY" -o ${file.filename} ${base}${fileLink(job.job_id, file.filename)}`,
    ),
    '',
    `Job status: ${base}${jobLink(job.job_id)}`,
  ];
  return {
    to: [...request.emails],
    subject: `Your featurelake export ${request.from} to ${request.to} is ready`,
    text: lines.join('\n'),
  };
}

function describeSeconds(seconds: number): string {
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}
