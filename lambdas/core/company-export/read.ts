import type { ObjectStore } from '../../ports/object-store.ts';
import { NotFoundError } from '../shared/errors.ts';
import { type CompanyExportSettlementDeps, settleCompanyExport } from '../shared/export-settlement.ts';
import { companyExportAsSeen, companyExportFileName, companyExportView } from './job.ts';

/** How long a download link works; a new one is signed at every read of the job. */
const DOWNLOAD_URL_SECONDS = 60 * 60;

export interface ReadCompanyExportDeps extends CompanyExportSettlementDeps {
  readonly files: Pick<ObjectStore, 'signedGetUrl'>;
  readonly exportsBucket: string;
}

/**
 * `GET /api/v1/company-exports/jobs/{job_id}`: the job as its environment sees it
 * now (settled first if its run died without a word, failed if it outlived its
 * time limit), with a freshly signed download link once it has completed.
 */
export async function readCompanyExport(
  deps: ReadCompanyExportDeps,
  request: { readonly environmentId: string; readonly jobId: string },
): Promise<ReturnType<typeof companyExportView>> {
  const stored = await deps.jobs.get(request.environmentId, request.jobId);
  if (!stored) throw new NotFoundError(`Failed to retrieve job with id ${request.jobId}: job not found`);
  const job = companyExportAsSeen(await settleCompanyExport(deps, stored), deps.clock.now());
  const downloadUrl =
    job.status === 'completed' && job.csv_key
      ? await deps.files.signedGetUrl(deps.exportsBucket, job.csv_key, {
          expiresInSeconds: DOWNLOAD_URL_SECONDS,
          fileName: companyExportFileName(job),
        })
      : null;
  return companyExportView(job, downloadUrl);
}
