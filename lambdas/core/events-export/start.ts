import { randomUUID } from 'node:crypto';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EventsExportJobs } from '../../ports/events-export-jobs.ts';
import type { WorkflowMonitor, WorkflowStarter } from '../../ports/workflow-starter.ts';
import { ExportInProgressError, ValidationError } from '../shared/errors.ts';
import { settleEventsExport, takeExportLock } from '../shared/export-settlement.ts';
import { type EventsExportJob, type EventsExportWorkflowInput, lockExpiry, newEventsExportJob } from './job.ts';
import type { EventsExportRequest } from './request.ts';

export interface StartEventsExportDeps {
  readonly jobs: Pick<
    EventsExportJobs,
    'create' | 'get' | 'markFailed' | 'acquireExportLock' | 'exportLockHolder' | 'releaseExportLock'
  >;
  readonly catalog: Pick<CatalogStore, 'getSegment'>;
  /** Starts the run, and says whether the lock's holder still runs (a dead one is settled and replaced). */
  readonly workflows: WorkflowStarter & WorkflowMonitor;
  readonly clock: Clock;
}

export interface StartEventsExportRequest {
  readonly environmentId: string;
  /** The environment's app token, written into every exported event. */
  readonly appToken: string;
  readonly request: EventsExportRequest;
}

/**
 * Starts one bulk raw-event export (seed 002): at most one runs per environment,
 * held by a conditional write that the workflow's success and failure paths release,
 * and that a request meeting a dead holder takes over; another request while one
 * runs is an ExportInProgressError. The job item first, then the workflow execution;
 * a start that throws leaves the job failed and the lock given back, so a retry can start.
 */
export async function startEventsExport(
  deps: StartEventsExportDeps,
  input: StartEventsExportRequest,
): Promise<EventsExportJob> {
  const { environmentId, request } = input;
  if (request.segment_id && !(await deps.catalog.getSegment(environmentId, request.segment_id))) {
    throw new ValidationError([{ field: 'segment_id', problem: `no segment has the id ${request.segment_id}` }]);
  }
  const now = deps.clock.now();
  const job = newEventsExportJob({ jobId: randomUUID(), environmentId, appToken: input.appToken, request, now });
  const settlement = { jobs: deps.jobs, workflows: deps.workflows, clock: deps.clock };
  const taken = await takeExportLock(
    {
      ...settlement,
      lock: deps.jobs,
      workflow: 'events-export',
      settledHolder: async (holderId) => {
        const holder = await deps.jobs.get(environmentId, holderId);
        return holder && settleEventsExport(settlement, holder);
      },
    },
    { environmentId, jobId: job.job_id, until: lockExpiry(job), now },
  );
  if (!taken) throw new ExportInProgressError();
  try {
    await deps.jobs.create(job);
    const workflowInput: EventsExportWorkflowInput = { job_id: job.job_id, app_id: environmentId };
    await deps.workflows.start('events-export', job.job_id, { ...workflowInput });
  } catch (error) {
    // Nothing runs: the job (if written) is failed and the lock given back, so a retry can start.
    await deps.jobs
      .markFailed(environmentId, job.job_id, {
        error: 'The export could not be started; try again.',
        completed_at: deps.clock.now().toISOString(),
      })
      .catch(() => false);
    await deps.jobs.releaseExportLock(environmentId, job.job_id);
    throw error;
  }
  return job;
}
