import type { CompanyExportJob } from '../core/company-export/job.ts';
import type { ExportLock } from './export-lock.ts';

/**
 * Company export jobs, always addressed within one environment, and each
 * environment's lock on its one running requested (not scheduled) export.
 */
export interface CompanyExportJobs extends ExportLock {
  create(job: CompanyExportJob): Promise<void>;
  get(environmentId: string, jobId: string): Promise<CompanyExportJob | undefined>;
  /**
   * Every job still marked running, in every environment: a Scan, for the local
   * stack's sweep at start (nothing of the last process runs any more), never a request.
   */
  listRunning(): Promise<CompanyExportJob[]>;
  /** Running → completed. False when the job was no longer running (it was settled as failed). */
  markCompleted(
    environmentId: string,
    jobId: string,
    result: { rows: number; csv_key: string; completed_at: string },
  ): Promise<boolean>;
  /**
   * → failed. The workflow's own failure step also fails a completed job (an automatic
   * run whose delivery failed after its CSV was published); `onlyWhileRunning` (a job
   * settled from outside its run) leaves a job that ended meanwhile as it is. False
   * when nothing changed.
   */
  markFailed(
    environmentId: string,
    jobId: string,
    result: { error: string; completed_at: string },
    options?: { onlyWhileRunning?: boolean },
  ): Promise<boolean>;
}
