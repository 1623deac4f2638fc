import { randomUUID } from 'node:crypto';
import type { AutomaticExportStore } from '../../ports/automatic-export-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CompanyExportJobs } from '../../ports/company-export-jobs.ts';
import type { WorkflowMonitor, WorkflowStarter } from '../../ports/workflow-starter.ts';
import type { AutomaticDelivery } from '../automatic-export/automatic-export.ts';
import { ExportInProgressError } from '../shared/errors.ts';
import { settleCompanyExport, takeExportLock } from '../shared/export-settlement.ts';
import {
  type Aggregation,
  type CompanyExportJob,
  type CompanyExportWorkflowInput,
  companyExportDeadline,
  companyExportExecutionName,
} from './job.ts';

export interface StartCompanyExportDeps {
  readonly jobs: Pick<CompanyExportJobs, 'create' | 'markFailed'>;
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
  const jobId = request.jobId ?? randomUUID();
  const job: CompanyExportJob = {
    job_id: jobId,
    environment_id: request.environmentId,
    aggregation: request.aggregation,
    as_of: (request.asOf ?? now).toISOString(),
    status: 'running',
    created_at: now.toISOString(),
    completed_at: null,
    rows: null,
    csv_key: null,
    error: null,
    execution_name: request.executionName ?? jobId,
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
    const { started } = await deps.workflows.start('company-export', companyExportExecutionName(job), {
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

/** Seed 002's 409 worded for company exports. */
export const COMPANY_EXPORT_IN_PROGRESS =
  'There is already a company export in progress, you can only have one company export in progress at a time.';

export interface StartRequestedCompanyExportDeps extends StartCompanyExportDeps {
  readonly jobs: CompanyExportJobs;
  readonly workflows: WorkflowStarter & WorkflowMonitor;
  /** Settles an automatic run's status when a dead holder of the lock turns out to be one. */
  readonly settings?: Pick<AutomaticExportStore, 'recordRun'>;
}

/**
 * A company export someone asked for (`POST /api/v1/company-exports`): at most one
 * runs per environment (each is minutes of query time), held by a conditional write
 * that the workflow's success and failure paths release, and that a request meeting a
 * dead holder takes over. Another request while one runs is an ExportInProgressError.
 * Scheduled automatic exports start through startCompanyExport and never take or wait
 * on this lock: a person clicking Download must not cost the customer a delivery.
 */
export async function startRequestedCompanyExport(
  deps: StartRequestedCompanyExportDeps,
  request: Omit<StartCompanyExportRequest, 'executionName' | 'delivery' | 'jobId'>,
): Promise<{ job: CompanyExportJob; started: boolean }> {
  const now = deps.clock.now();
  const jobId = randomUUID();
  const taken = await takeExportLock(
    {
      lock: deps.jobs,
      workflows: deps.workflows,
      clock: deps.clock,
      workflow: 'company-export',
      settledHolder: async (holderId) => {
        const holder = await deps.jobs.get(request.environmentId, holderId);
        return holder && settleCompanyExport(deps, holder);
      },
    },
    {
      environmentId: request.environmentId,
      jobId,
      until: companyExportDeadline({ created_at: now.toISOString() }),
      now,
    },
  );
  if (!taken) throw new ExportInProgressError(COMPANY_EXPORT_IN_PROGRESS);
  try {
    return await startCompanyExport(deps, { ...request, jobId });
  } catch (error) {
    // Nothing runs (startCompanyExport failed the job if it wrote it): give the lock back.
    await deps.jobs.releaseExportLock(request.environmentId, jobId);
    throw error;
  }
}
