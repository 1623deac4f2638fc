import type { Clock } from '../../ports/clock.ts';
import type { CompanyExportJobs } from '../../ports/company-export-jobs.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { type DownloadLinkDeps, downloadLink, REDIRECT_URL_SECONDS } from '../shared/download-links.ts';
import { NotFoundError } from '../shared/errors.ts';
import { type CompanyExportSettlementDeps, settleCompanyExport } from '../shared/export-settlement.ts';
import { companyExportAsSeen, companyExportFileName, companyExportView } from './job.ts';

/** How long a download link works; a new one is made at every read of the job. */
const DOWNLOAD_LINK_SECONDS = 60 * 60;

export const companyExportFileLink = (jobId: string, filename: string) =>
  `/api/v1/company-exports/jobs/${jobId}/files/${encodeURIComponent(filename)}`;

export interface ReadCompanyExportDeps extends CompanyExportSettlementDeps, DownloadLinkDeps {}

export interface CompanyExportFileDeps {
  readonly jobs: Pick<CompanyExportJobs, 'get'>;
  readonly clock: Clock;
  readonly files: Pick<ObjectStore, 'signedGetUrl'>;
  readonly exportsBucket: string;
}

const notFound = (jobId: string) => new NotFoundError(`Failed to retrieve job with id ${jobId}: job not found`);

/**
 * `GET /api/v1/company-exports/jobs/{job_id}`: the job as its environment sees it
 * now (settled first if its run died without a word, failed if it outlived its
 * time limit), with a download link once it has completed: to the API's file
 * route, working for an hour whatever role signed it.
 */
export async function readCompanyExport(
  deps: ReadCompanyExportDeps,
  request: { readonly environmentId: string; readonly jobId: string },
): Promise<ReturnType<typeof companyExportView>> {
  const stored = await deps.jobs.get(request.environmentId, request.jobId);
  if (!stored) throw notFound(request.jobId);
  const now = deps.clock.now();
  const job = companyExportAsSeen(await settleCompanyExport(deps, stored), now);
  if (job.status !== 'completed' || !job.csv_key) return companyExportView(job, null);
  const filename = companyExportFileName(job);
  const grant = {
    kind: 'company-export',
    environmentId: job.environment_id,
    jobId: job.job_id,
    filename,
    expires: Math.floor(now.getTime() / 1000) + DOWNLOAD_LINK_SECONDS,
  } as const;
  return companyExportView(job, await downloadLink(deps, grant, companyExportFileLink(job.job_id, filename)));
}

/**
 * `GET /api/v1/company-exports/jobs/{job_id}/files/{filename}` (with the
 * environment's API key, or a link's verified environment): a freshly presigned
 * S3 URL of the job's CSV, or 404 saying why there is none.
 */
export async function companyExportFileUrl(
  deps: CompanyExportFileDeps,
  request: { readonly environmentId: string; readonly jobId: string; readonly filename: string },
): Promise<string> {
  const stored = await deps.jobs.get(request.environmentId, request.jobId);
  if (!stored) throw notFound(request.jobId);
  const job = companyExportAsSeen(stored, deps.clock.now());
  if (job.status !== 'completed' || !job.csv_key) {
    throw new NotFoundError(`Failed to retrieve the file of job ${job.job_id}: the job is ${job.status}`);
  }
  const filename = companyExportFileName(job);
  if (request.filename !== filename) {
    throw new NotFoundError(
      `Failed to retrieve file ${request.filename} of job ${job.job_id}: its file is ${filename}`,
    );
  }
  return deps.files.signedGetUrl(deps.exportsBucket, job.csv_key, {
    expiresInSeconds: REDIRECT_URL_SECONDS,
    fileName: filename,
  });
}
