import type { ObjectStore } from '../../ports/object-store.ts';
import { downloadableFiles, type EventsExportJob, exportFileKey } from './job.ts';

/** Where a job's files are, and the store that signs their URLs. */
export interface ExportFilesDeps {
  readonly files: Pick<ObjectStore, 'signedGetUrl'>;
  readonly exportsBucket: string;
}

export interface SignedDownload {
  readonly filename: string;
  readonly url: string;
}

/**
 * A fresh presigned URL of one file of the job, living `expiresInSeconds`. Signed
 * when asked for, never stored: a URL signed by a Lambda role dies with the role's
 * session (DESIGN "Bulk raw-event export jobs").
 */
export function signedFileUrl(
  deps: ExportFilesDeps,
  job: Pick<EventsExportJob, 'environment_id' | 'job_id'>,
  filename: string,
  expiresInSeconds: number,
): Promise<string> {
  return deps.files.signedGetUrl(deps.exportsBucket, exportFileKey(job.environment_id, job.job_id, filename), {
    expiresInSeconds,
    fileName: filename,
  });
}

/**
 * Every file of the job still downloadable at `now`, in chunk order, each with a
 * fresh URL: the job's detail view and the completion email list the same files.
 */
export function signedDownloads(
  deps: ExportFilesDeps,
  job: EventsExportJob,
  now: Date,
  expiresInSeconds: number,
): Promise<SignedDownload[]> {
  return Promise.all(
    downloadableFiles(job, now).map(async (filename) => ({
      filename,
      url: await signedFileUrl(deps, job, filename, expiresInSeconds),
    })),
  );
}
