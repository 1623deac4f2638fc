import type { Clock } from '../../ports/clock.ts';
import type { EventsExportJobs } from '../../ports/events-export-jobs.ts';
import type { WorkflowMonitor } from '../../ports/workflow-starter.ts';
import type { DownloadLinkDeps } from '../shared/download-links.ts';
import { NotFoundError } from '../shared/errors.ts';
import { settleEventsExport } from '../shared/export-settlement.ts';
import { type ExportFilesDeps, fileDownloads, redirectUrl } from './downloads.ts';
import {
  byNewest,
  detailView,
  downloadableFiles,
  type EventsExportJob,
  effectiveJob,
  isJobVisible,
  listedView,
  presignSeconds,
} from './job.ts';

/**
 * What reading jobs takes: a job whose run died without a word is settled (failed,
 * its lock freed) when it is read, so every read may write.
 */
export interface ReadEventsExportsDeps {
  readonly jobs: Pick<EventsExportJobs, 'get' | 'list' | 'markFailed' | 'releaseExportLock'>;
  readonly workflows: WorkflowMonitor;
  readonly clock: Clock;
}

const notFound = (jobId: string) => new NotFoundError(`Failed to retrieve job with id ${jobId}: job not found`);

/** The job as its environment may see it now, or 404: another environment's job, or one past its 3 days. */
async function visibleJob(
  deps: ReadEventsExportsDeps,
  environmentId: string,
  jobId: string,
  now: Date,
): Promise<EventsExportJob> {
  const stored = jobId ? await deps.jobs.get(environmentId, jobId) : undefined;
  if (!stored || !isJobVisible(stored, now)) throw notFound(jobId);
  return effectiveJob(await settleEventsExport(deps, stored), now);
}

/** `GET /api/v1/analytics/exports/jobs`: the environment's visible jobs, newest first. */
export async function listEventsExports(deps: ReadEventsExportsDeps, environmentId: string, now: Date) {
  const visible = (await deps.jobs.list(environmentId)).filter((job) => isJobVisible(job, now));
  const jobs = (await Promise.all(visible.map((job) => settleEventsExport(deps, job))))
    .map((job) => effectiveJob(job, now))
    .sort(byNewest);
  return jobs.map((job) => listedView(job, now));
}

/** `GET /api/v1/analytics/exports/jobs/{job_id}`: the job, with a link to each file that works while they live. */
export async function showEventsExport(
  deps: ReadEventsExportsDeps & DownloadLinkDeps,
  environmentId: string,
  jobId: string,
  now: Date,
) {
  const job = await visibleJob(deps, environmentId, jobId, now);
  return detailView(job, await fileDownloads(deps, job, now));
}

/**
 * `GET …/jobs/{job_id}/files/{filename}` (with the environment's API key, or a
 * link's verified environment): a freshly presigned S3 URL of the file, or 404
 * saying why there is none.
 */
export async function eventsExportFileUrl(
  deps: ReadEventsExportsDeps & ExportFilesDeps,
  environmentId: string,
  request: { readonly jobId: string; readonly filename: string },
  now: Date,
): Promise<string> {
  const { filename } = request;
  const job = await visibleJob(deps, environmentId, request.jobId, now);
  if (!downloadableFiles(job, now).includes(filename)) {
    throw new NotFoundError(
      job.status === 'completed'
        ? `Failed to retrieve file ${filename} of job ${job.job_id}: no such file, or its 2 days have passed`
        : `Failed to retrieve file ${filename} of job ${job.job_id}: the job is ${job.status}`,
    );
  }
  return redirectUrl(deps, job, filename, presignSeconds(job, now));
}
