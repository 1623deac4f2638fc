import type { ObjectStore } from '../../ports/object-store.ts';
import { type DownloadLinkDeps, downloadLink, REDIRECT_URL_SECONDS } from '../shared/download-links.ts';
import { downloadableFiles, type EventsExportJob, exportFileKey, fileLink, filesExpiry } from './job.ts';

/** Where a job's files are, and the store that presigns the short-lived URL a link redirects to. */
export interface ExportFilesDeps {
  readonly files: Pick<ObjectStore, 'signedGetUrl'>;
  readonly exportsBucket: string;
}

export interface FileDownload {
  readonly filename: string;
  readonly url: string;
}

/**
 * A fresh presigned S3 URL of one file of the job, for the file route's redirect:
 * it lives a few minutes (REDIRECT_URL_SECONDS says why that is enough), never past
 * `maxSeconds` (the files' own expiry).
 */
export function redirectUrl(
  deps: ExportFilesDeps,
  job: Pick<EventsExportJob, 'environment_id' | 'job_id'>,
  filename: string,
  maxSeconds: number,
): Promise<string> {
  return deps.files.signedGetUrl(deps.exportsBucket, exportFileKey(job.environment_id, job.job_id, filename), {
    expiresInSeconds: Math.min(REDIRECT_URL_SECONDS, maxSeconds),
    fileName: filename,
  });
}

/**
 * Every file of the job still downloadable at `now`, in chunk order, each with a
 * link to the file route that works until the files expire (seed 002: 2 days after
 * the job completes), on AWS too: the job's detail view and the completion email
 * list the same files and links.
 */
export async function fileDownloads(deps: DownloadLinkDeps, job: EventsExportJob, now: Date): Promise<FileDownload[]> {
  const expiry = filesExpiry(job);
  if (!expiry) return [];
  // Whole seconds, rounded down: a link never claims a moment the files do not have.
  const expires = Math.floor(expiry.getTime() / 1000);
  const grant = { kind: 'events-export', environmentId: job.environment_id, jobId: job.job_id, expires } as const;
  return Promise.all(
    downloadableFiles(job, now).map(async (filename) => ({
      filename,
      url: await downloadLink(deps, { ...grant, filename }, fileLink(job.job_id, filename)),
    })),
  );
}
