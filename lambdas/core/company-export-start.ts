import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';
import type { CompanyExportJobs } from '../ports/company-export-jobs.ts';
import type { WorkflowStarter } from '../ports/workflow-starter.ts';
import type { AutomaticDelivery } from './automatic-exports.ts';
import type { Aggregation, CompanyExportJob, CompanyExportWorkflowInput } from './company-export-job.ts';

export interface StartCompanyExportDeps {
  readonly jobs: CompanyExportJobs;
  readonly workflows: WorkflowStarter;
  readonly clock: Clock;
}

export interface StartCompanyExportRequest {
  readonly environmentId: string;
  readonly aggregation: Aggregation;
  /** The instant that stands for "now" in the aggregation. @default the moment the job is made */
  readonly asOf?: Date;
  /** @default a new UUID */
  readonly jobId?: string;
  /**
   * The execution's name, which makes starting idempotent (a name already used
   * starts nothing). @default the job id (a manual export: every request is new)
   */
  readonly executionName?: string;
  /** Automatic exports: where the workflow delivers the CSV after publishing it. */
  readonly delivery?: AutomaticDelivery;
}

/**
 * Starts one company export: the job item first (the workflow completes or fails
 * it), then one workflow execution. A start that throws leaves the job failed with
 * a message to try again. The manual API and the automatic-export dispatcher share it.
 */
export async function startCompanyExport(
  deps: StartCompanyExportDeps,
  request: StartCompanyExportRequest,
): Promise<{ job: CompanyExportJob; started: boolean }> {
  const now = deps.clock.now();
  const job: CompanyExportJob = {
    job_id: request.jobId ?? randomUUID(),
    environment_id: request.environmentId,
    aggregation: request.aggregation,
    as_of: (request.asOf ?? now).toISOString(),
    status: 'running',
    created_at: now.toISOString(),
    completed_at: null,
    rows: null,
    csv_key: null,
    error: null,
  };
  await deps.jobs.create(job);
  const input: CompanyExportWorkflowInput & { delivery?: AutomaticDelivery } = {
    job_id: job.job_id,
    app_id: request.environmentId,
    aggregation: job.aggregation,
    as_of: job.as_of,
    ...(request.delivery ? { delivery: request.delivery } : {}),
  };
  try {
    const { started } = await deps.workflows.start('company-export', request.executionName ?? job.job_id, {
      ...input,
    });
    return { job, started };
  } catch (error) {
    await deps.jobs.markFailed(request.environmentId, job.job_id, {
      error: 'The export could not be started; try again.',
      completed_at: deps.clock.now().toISOString(),
    });
    throw error;
  }
}
