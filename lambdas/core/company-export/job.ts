import { z } from 'zod';
import { WORKFLOW_DEADLINE_MARGIN_MS } from '../../contract/lambdas.ts';

export const AGGREGATIONS = ['today', '30d_daily', '3m_weekly', '6m_weekly'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** `POST /api/v1/company-exports`. */
export const companyExportRequest = z.object({
  aggregation: z.enum(AGGREGATIONS, {
    error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${AGGREGATIONS.join(', ')}`),
  }),
  as_of: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 instant with a time zone, e.g. 2025-12-01T00:00:00Z' })
    .optional(),
});

export type JobStatus = 'running' | 'completed' | 'failed';

/** A company export job as stored (state table, scoped by environment). */
export interface CompanyExportJob {
  job_id: string;
  environment_id: string;
  aggregation: Aggregation;
  /** The instant that stands for "now" in the aggregation's definition (ISO, UTC). */
  as_of: string;
  status: JobStatus;
  created_at: string;
  completed_at: string | null;
  rows: number | null;
  /** Key of the CSV in the exports bucket, once completed. */
  csv_key: string | null;
  error: string | null;
  /**
   * The workflow execution that runs it (manual exports: the job id; automatic ones:
   * named by environment and date). Absent on jobs stored before it was recorded.
   */
  execution_name?: string;
}

/** The name of the execution that runs the job. */
export const companyExportExecutionName = (job: Pick<CompanyExportJob, 'job_id' | 'execution_name'>): string =>
  job.execution_name ?? job.job_id;

/** What the job workflow receives as its execution input. */
export interface CompanyExportWorkflowInput {
  job_id: string;
  app_id: string;
  aggregation: Aggregation;
  as_of: string;
}

/**
 * The state machine's TimeoutSeconds. A run that hits it gets no Catch, and a local
 * run interrupted by a restart of the stack never ends, so readers see a job still
 * `running` this long (plus a margin) after it was created as failed.
 */
export const COMPANY_EXPORT_TIME_LIMIT_SECONDS = 60 * 60;

export const COMPANY_EXPORT_TIMED_OUT_MESSAGE =
  'The export did not finish within its time limit of 1 hour and was stopped (or the stack running it was restarted). Start it again, or export a shorter aggregation.';

/** When a run still marked running has outlived its time limit (and the lock of a requested export expires). */
export function companyExportDeadline(job: Pick<CompanyExportJob, 'created_at'>): Date {
  return new Date(Date.parse(job.created_at) + COMPANY_EXPORT_TIME_LIMIT_SECONDS * 1000 + WORKFLOW_DEADLINE_MARGIN_MS);
}

/** The job as a reader sees it now: a run that outlived its time limit has failed, whatever the item says. */
export function companyExportAsSeen(job: CompanyExportJob, now: Date): CompanyExportJob {
  const deadline = companyExportDeadline(job).getTime();
  if (job.status === 'running' && now.getTime() > deadline) {
    return {
      ...job,
      status: 'failed',
      completed_at: new Date(deadline).toISOString(),
      error: COMPANY_EXPORT_TIMED_OUT_MESSAGE,
    };
  }
  return job;
}

export function companyExportCsvKey(environmentId: string, jobId: string): string {
  return `company-exports/${environmentId}/${jobId}.csv`;
}

export function companyExportFileName(job: Pick<CompanyExportJob, 'aggregation' | 'as_of'>): string {
  return `company-export-${job.aggregation}-${job.as_of.slice(0, 10)}.csv`;
}

export function companyExportView(job: CompanyExportJob, downloadUrl: string | null) {
  return {
    job_id: job.job_id,
    status: job.status,
    aggregation: job.aggregation,
    as_of: job.as_of,
    created_at: job.created_at,
    completed_at: job.completed_at,
    rows: job.rows,
    download_url: downloadUrl,
    error: job.error,
  };
}

/** A workflow failure as Step Functions hands it to a Catch. */
export interface WorkflowFailure {
  readonly Error?: string;
  readonly Cause?: string;
}

/** Turns a workflow failure into a message a user can act on. */
export function readableWorkflowFailure(failure: WorkflowFailure | undefined): string {
  const error = failure?.Error ?? 'Error';
  const cause = failure?.Cause ?? '';
  if (error === 'States.Timeout') {
    return 'The export took longer than its time limit and was stopped. Try a shorter aggregation, or try again later.';
  }
  let reason = cause;
  try {
    const parsed = JSON.parse(cause) as {
      errorMessage?: string;
      QueryExecution?: { Status?: { StateChangeReason?: string } };
    };
    reason = parsed.QueryExecution?.Status?.StateChangeReason ?? parsed.errorMessage ?? cause;
  } catch {
    // a plain-text cause
  }
  reason = withoutServerDetails(reason);
  if (/Bytes scanned limit|exceeded the bytes scanned/i.test(reason)) {
    return `The export query would scan more data than the workgroup allows (${reason}). Raise the companyExportScanLimitBytes context (or athenaScanLimitBytes) or export a shorter range.`;
  }
  return `The export failed: ${reason || error}`;
}

/**
 * An engine's or a step's words without what belongs to the machine: absolute file
 * paths (DuckDB names the lake file it could not read), s3:// and file:// locations,
 * loopback or private host:port pairs, and stack trace lines. What happened stays.
 */
export function withoutServerDetails(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line))
    .join('\n')
    .replace(/(?:s3|file):\/\/[^\s'"]+/g, 'a file of the lake')
    .replace(/(["'`]?)(?:[A-Za-z]:)?(?:\/[^\s/'"`]+){2,}\/?\1/g, 'a file of the lake')
    .replace(
      /\b(?:localhost|127(?:\.\d{1,3}){3}|10(?:\.\d{1,3}){3}|192\.168(?:\.\d{1,3}){2}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2})(?::\d+)?\b/g,
      'an internal service',
    )
    .trim();
}
