import type { AutomaticExportStore } from '../../ports/automatic-export-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CompanyExportJobs } from '../../ports/company-export-jobs.ts';
import type { EventsExportJobs } from '../../ports/events-export-jobs.ts';
import type { ExportLock, ExportLockHolder } from '../../ports/export-lock.ts';
import type { WorkflowMonitor, WorkflowName } from '../../ports/workflow-starter.ts';
import {
  COMPANY_EXPORT_TIMED_OUT_MESSAGE,
  type CompanyExportJob,
  companyExportExecutionName,
} from '../company-export/job.ts';
import { type EventsExportJob, TIMED_OUT_MESSAGE } from '../events-export/job.ts';

/**
 * Export jobs whose run died without a word. A workflow records a job's end in its
 * last step, or in its Catch; a run that ends otherwise (the state machine's
 * TimeoutSeconds, a StopExecution, a failing failure step; locally, the stack killed
 * or restarted) leaves the job `running` and its environment's lock held. These use
 * cases settle such a job (failed, with a message; lock released; an automatic run's
 * status too) when it is read, when its lock is in a new request's way, and, locally,
 * at start. They ask the workflow side whether the execution still runs.
 */

export const INTERRUPTED_EXPORT_MESSAGE =
  'The export was interrupted before it finished (the service running it stopped or was restarted). Start it again.';

/**
 * How long an execution may be unknown after its job was written: the API writes the
 * job (and takes the lock) first and starts the execution right after.
 */
export const EXECUTION_START_GRACE_MS = 2 * 60 * 1000;

export interface SettlementDeps {
  readonly workflows: WorkflowMonitor;
  readonly clock: Clock;
}

/** Why the execution can no longer record its job's end, or undefined while it may. */
async function endedHow(
  deps: SettlementDeps,
  workflow: WorkflowName,
  executionName: string,
  requestedAt: string,
): Promise<'timed-out' | 'interrupted' | undefined> {
  const requested = new Date(requestedAt);
  let state: Awaited<ReturnType<WorkflowMonitor['executionState']>>;
  try {
    state = await deps.workflows.executionState(workflow, executionName, requested);
  } catch {
    // Throttled or briefly unavailable: the job is shown as stored, and the next read asks again.
    return undefined;
  }
  if (state === 'running') return undefined;
  if (state === 'timed-out') return 'timed-out';
  if (state === 'ended') return 'interrupted';
  // Unknown: never started (the request died between its two writes) once the grace is over.
  return deps.clock.now().getTime() - requested.getTime() > EXECUTION_START_GRACE_MS ? 'interrupted' : undefined;
}

export interface CompanyExportSettlementDeps extends SettlementDeps {
  readonly jobs: Pick<CompanyExportJobs, 'get' | 'markFailed' | 'releaseExportLock'>;
  /** An automatic run's status; recording is a no-op for a job that is not the environment's last run. */
  readonly settings?: Pick<AutomaticExportStore, 'recordRun'>;
}

/** The company export job as it is, settled first if its execution has ended without recording it. */
export async function settleCompanyExport(
  deps: CompanyExportSettlementDeps,
  job: CompanyExportJob,
): Promise<CompanyExportJob> {
  if (job.status !== 'running') return job;
  const how = await endedHow(deps, 'company-export', companyExportExecutionName(job), job.created_at);
  if (!how) return job;
  const error = how === 'timed-out' ? COMPANY_EXPORT_TIMED_OUT_MESSAGE : INTERRUPTED_EXPORT_MESSAGE;
  const completedAt = deps.clock.now().toISOString();
  const failed = await deps.jobs.markFailed(
    job.environment_id,
    job.job_id,
    { error, completed_at: completedAt },
    { onlyWhileRunning: true },
  );
  await deps.jobs.releaseExportLock(job.environment_id, job.job_id);
  // It ended by itself between our two reads: as it is now.
  if (!failed) return (await deps.jobs.get(job.environment_id, job.job_id)) ?? job;
  await deps.settings?.recordRun(job.environment_id, job.job_id, {
    status: 'failed',
    error,
    finished_at: completedAt,
  });
  return { ...job, status: 'failed', error, completed_at: completedAt };
}

export interface EventsExportSettlementDeps extends SettlementDeps {
  readonly jobs: Pick<EventsExportJobs, 'get' | 'markFailed' | 'releaseExportLock'>;
}

/** The raw-event export job as it is, settled first if its execution has ended without recording it. */
export async function settleEventsExport(
  deps: EventsExportSettlementDeps,
  job: EventsExportJob,
): Promise<EventsExportJob> {
  if (job.status !== 'running') return job;
  const how = await endedHow(deps, 'events-export', job.job_id, job.created_at);
  if (!how) return job;
  const error = how === 'timed-out' ? TIMED_OUT_MESSAGE : INTERRUPTED_EXPORT_MESSAGE;
  const completedAt = deps.clock.now().toISOString();
  const failed = await deps.jobs.markFailed(job.environment_id, job.job_id, { error, completed_at: completedAt });
  await deps.jobs.releaseExportLock(job.environment_id, job.job_id);
  if (!failed) return (await deps.jobs.get(job.environment_id, job.job_id)) ?? job;
  return { ...job, status: 'failed', error, completed_at: completedAt };
}

/**
 * Takes the environment's export lock for `jobId`. When another job holds it, asks
 * whether that job still runs: a holder that has ended (settled here if it had not
 * said so) or that never became a job frees the lock, which is then taken. False
 * only while the holder really runs.
 */
export async function takeExportLock(
  deps: SettlementDeps & {
    readonly lock: ExportLock;
    readonly workflow: WorkflowName;
    /** The holder's job, settled if its execution has ended; undefined if there is no such job. */
    readonly settledHolder: (jobId: string) => Promise<{ status: string } | undefined>;
  },
  request: { environmentId: string; jobId: string; until: Date; now: Date },
): Promise<boolean> {
  const { environmentId, jobId, until, now } = request;
  if (await deps.lock.acquireExportLock(environmentId, jobId, until, now)) return true;
  const holder = await deps.lock.exportLockHolder(environmentId);
  if (holder && (await holderRuns(deps, holder))) return false;
  if (holder) await deps.lock.releaseExportLock(environmentId, holder.job_id);
  // Conditional again: of two requests that found the same dead holder, one gets it.
  return deps.lock.acquireExportLock(environmentId, jobId, until, now);
}

async function holderRuns(
  deps: SettlementDeps & {
    readonly workflow: WorkflowName;
    readonly settledHolder: (jobId: string) => Promise<{ status: string } | undefined>;
  },
  holder: ExportLockHolder,
): Promise<boolean> {
  const job = await deps.settledHolder(holder.job_id);
  if (job) return job.status === 'running';
  // No job: the request that took the lock writes it next, or died before it did.
  const requestedAt = holder.acquired_at ?? new Date(0).toISOString();
  return (await endedHow(deps, deps.workflow, holder.job_id, requestedAt)) === undefined;
}

/**
 * The local stack's sweep at start: no execution of the last process runs any more,
 * so every job still marked running is settled (the local runner answers `ended` for
 * executions asked for before it started). Returns how many were.
 */
export async function settleExportsCutByRestart(deps: {
  readonly company: CompanyExportSettlementDeps & { readonly jobs: Pick<CompanyExportJobs, 'listRunning'> };
  readonly events: EventsExportSettlementDeps & { readonly jobs: Pick<EventsExportJobs, 'listRunning'> };
}): Promise<number> {
  let settled = 0;
  for (const job of await deps.company.jobs.listRunning()) {
    if ((await settleCompanyExport(deps.company, job)).status !== 'running') settled++;
  }
  for (const job of await deps.events.jobs.listRunning()) {
    if ((await settleEventsExport(deps.events, job)).status !== 'running') settled++;
  }
  return settled;
}
