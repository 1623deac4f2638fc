import type { CatalogStore } from '../../ports/catalog-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EventsExportJobs } from '../../ports/events-export-jobs.ts';
import type { LakeInputsWriter } from '../../ports/lake-inputs.ts';
import type { Mailer } from '../../ports/mailer.ts';
import { readableWorkflowFailure } from '../company-export/job.ts';
import { toAthenaLiteral } from '../shared/athena-literals.ts';
import type { DownloadLinkDeps } from '../shared/download-links.ts';
import { eventsExportUnloadPrefix } from './assemble-week.ts';
import { fileDownloads } from './downloads.ts';
import { asLakeInputRows, eventsExportInputRows } from './inputs.ts';
import { type EventsExportJob, type EventsExportWorkflowInput, exportFileName } from './job.ts';
import { exportReadyEmail } from './notification.ts';
import { planWeeklyPartitions } from './partitions.ts';
import type { ExportFormat } from './request.ts';
import { eventsExportParams } from './sql.ts';

/**
 * The steps of the events export workflow (DESIGN "Bulk raw-event export jobs"),
 * each taking only the port methods it needs. Each reads its job from the state
 * table by the execution input `{job_id, app_id}`; what a step throws ends the run
 * through the workflow's Catch, which runs failEventsExport.
 */

/** One weekly partition as plan hands it to the Map state, and the Map to assembleEventsExportWeek. */
export interface EventsExportPartitionItem {
  readonly week: string;
  readonly from: string;
  readonly to: string;
  readonly file_name: string;
  readonly format: ExportFormat;
  /** The partition query's values, as SQL literal texts (Athena takes execution parameters so). */
  readonly athena_params: readonly string[];
  /** Where the week's UNLOAD writes, under the results bucket (eventsExportUnloadPrefix: checked). */
  readonly unload_prefix: string;
}

async function load(
  jobs: Pick<EventsExportJobs, 'get'>,
  input: Readonly<EventsExportWorkflowInput>,
): Promise<EventsExportJob> {
  const found = await jobs.get(input.app_id, input.job_id);
  if (!found) throw new Error(`export job ${input.job_id} is not in the state table`);
  return found;
}

export interface PlanEventsExportDeps {
  readonly jobs: Pick<EventsExportJobs, 'get'>;
  readonly catalog: Pick<CatalogStore, 'getSegment' | 'getExclusions'>;
  readonly inputs: LakeInputsWriter;
}

/**
 * Snapshots what the queries read (the segment, the exclusions) into the job's lake
 * inputs, and plans one partition per week of the range.
 */
export async function planEventsExport(
  deps: PlanEventsExportDeps,
  input: Readonly<EventsExportWorkflowInput>,
): Promise<{ partitions: EventsExportPartitionItem[] }> {
  const stored = await load(deps.jobs, input);
  const request = stored.request;
  const segment = request.segment_id ? await deps.catalog.getSegment(input.app_id, request.segment_id) : undefined;
  if (request.segment_id && !segment) {
    throw new Error(`segment ${request.segment_id} was deleted before the export ran`);
  }
  const exclusions = request.exclusions ? await deps.catalog.getExclusions(input.app_id) : undefined;
  const rows = eventsExportInputRows({
    jobId: stored.job_id,
    appToken: stored.app_token,
    request,
    segment,
    exclusions: exclusions ?? { user_ids: [], company_ids: [] },
  });
  await deps.inputs.writeInputs(stored.job_id, asLakeInputRows(rows));
  const partitions = planWeeklyPartitions(request.from, request.to).map((p) => ({
    ...p,
    file_name: exportFileName(p.week, request.format),
    format: request.format,
    // Athena takes execution parameters as SQL literal texts (and only in WHERE clauses).
    athena_params: eventsExportParams({
      jobId: stored.job_id,
      environmentId: input.app_id,
      partition: p,
      segmentAsOf: segment ? request.to : undefined,
    }).map(toAthenaLiteral),
    unload_prefix: eventsExportUnloadPrefix(stored.job_id, p.week),
  }));
  return { partitions };
}

/** Where errors that must not fail the job (an email that could not be sent) are reported. */
export type StepLog = (entry: Record<string, unknown>) => void;

/** `apiBaseUrl` (known late locally, hence a function) and `linkKey` make the email's links. */
export interface CompleteEventsExportDeps extends DownloadLinkDeps {
  readonly jobs: Pick<EventsExportJobs, 'get' | 'markCompleted' | 'releaseExportLock'>;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly log: StepLog;
}

/** Marks the job completed, frees the environment's lock, and emails the links to `emails`. */
export async function completeEventsExport(
  deps: CompleteEventsExportDeps,
  input: Readonly<EventsExportWorkflowInput>,
): Promise<Record<string, never>> {
  const now = deps.clock.now();
  const completed = await deps.jobs.markCompleted(input.app_id, input.job_id, now.toISOString());
  await deps.jobs.releaseExportLock(input.app_id, input.job_id);
  const stored = await load(deps.jobs, input);
  if (!completed || stored.request.emails.length === 0) return {};
  // The files are written and the job is done: an email that cannot be sent is logged, not a failure.
  try {
    const files = await fileDownloads(deps, stored, now);
    await deps.mailer.send(exportReadyEmail({ job: stored, files, apiBaseUrl: deps.apiBaseUrl() }));
  } catch (error) {
    deps.log({ level: 'error', step: 'complete-events-export', job_id: input.job_id, email: (error as Error).message });
  }
  return {};
}

export interface FailEventsExportDeps {
  readonly jobs: Pick<EventsExportJobs, 'markFailed' | 'releaseExportLock'>;
  readonly clock: Clock;
  readonly log: StepLog;
}

/** The Catch of every state: records the job failed with a message a user can act on, and frees the lock. */
export async function failEventsExport(
  deps: FailEventsExportDeps,
  input: Readonly<EventsExportWorkflowInput> & { readonly failure?: { Error?: string; Cause?: string } },
): Promise<Record<string, never>> {
  // The user reads a message without the machine's paths; the whole failure stays in the log.
  deps.log({ level: 'error', step: 'fail-events-export', job_id: input.job_id, failure: input.failure });
  const message =
    input.failure?.Error === 'States.Timeout'
      ? 'A week of the export took longer than its time limit and was stopped. Export a shorter range, or try again later.'
      : readableWorkflowFailure(input.failure);
  await deps.jobs.markFailed(input.app_id, input.job_id, {
    error: message,
    completed_at: deps.clock.now().toISOString(),
  });
  await deps.jobs.releaseExportLock(input.app_id, input.job_id);
  return {};
}
