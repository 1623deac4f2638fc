import { FILES_VISIBLE_DAYS } from '../../contract/exports.ts';
import { type EventsExportJob, filesExpiry, jobLink } from './job.ts';

/**
 * The email sent to a completed job's `emails` (seed 002: "a notification with
 * download links when the export is ready"). Each file's link points at the API's
 * file route and works, in a browser or with `curl -L`, until the files expire:
 * the same links as the job's `presigned_urls`.
 */
export function exportReadyEmail(input: {
  readonly job: EventsExportJob;
  readonly files: readonly { filename: string; url: string }[];
  /** The API's public base URL, e.g. https://api.example.com (no trailing slash needed). */
  readonly apiBaseUrl: string;
}): { to: string[]; subject: string; text: string } {
  const { job } = input;
  const base = input.apiBaseUrl.replace(/\/+$/, '');
  const expiry = filesExpiry(job);
  const request = job.request;
  const lines = [
    `Your featurelake export ${job.job_id} (environment ${job.app_token}) is ready.`,
    '',
    `Events from ${request.from} to ${request.to}, ${request.format.toUpperCase()}, one gzip file per week (named by its Monday).`,
    `The files and these links work for ${FILES_VISIBLE_DAYS} days${expiry ? `, until ${expiry.toISOString()}` : ''}:`,
    '',
    ...input.files.map((file) => `  ${file.filename}\n    ${file.url}`),
    '',
    `Job status (with your API key): ${base}${jobLink(job.job_id)}`,
  ];
  return {
    to: [...request.emails],
    subject: `Your featurelake export ${request.from} to ${request.to} is ready`,
    text: lines.join('\n'),
  };
}
