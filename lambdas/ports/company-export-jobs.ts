import type { CompanyExportJob } from '../core/company-export-job.ts';

/** Company export jobs, always addressed within one environment. */
export interface CompanyExportJobs {
  create(job: CompanyExportJob): Promise<void>;
  get(environmentId: string, jobId: string): Promise<CompanyExportJob | undefined>;
  markCompleted(
    environmentId: string,
    jobId: string,
    result: { rows: number; csv_key: string; completed_at: string },
  ): Promise<void>;
  markFailed(environmentId: string, jobId: string, result: { error: string; completed_at: string }): Promise<void>;
}
