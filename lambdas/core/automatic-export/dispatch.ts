import { randomUUID } from 'node:crypto';
import type { AutomaticExportStore } from '../../ports/automatic-export-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CompanyExportJobs } from '../../ports/company-export-jobs.ts';
import type { EnvironmentStore } from '../../ports/environment-store.ts';
import type { WorkflowStarter } from '../../ports/workflow-starter.ts';
import { startCompanyExport } from '../company-export/start.ts';
import {
  DAILY_FACTS_WORKFLOW,
  type FactsWorkflowInput,
  scheduledFactsExecutionName,
} from '../daily-facts/orchestration.ts';
import { planAllows } from '../environments/api-auth.ts';
import {
  type AutomaticDelivery,
  automaticExportExecutionName,
  isDue,
  isoDate,
  type StoredAutomaticExport,
  snapshotInstant,
} from './automatic-export.ts';

export interface DispatchDeps {
  readonly settings: Pick<AutomaticExportStore, 'listEnabled' | 'claimRun' | 'releaseRun'>;
  readonly environments: Pick<EnvironmentStore, 'get'>;
  /** No lock: a scheduled run never takes or waits on the one requested export of its environment. */
  readonly jobs: Pick<CompanyExportJobs, 'create' | 'markFailed'>;
  readonly workflows: WorkflowStarter;
  readonly clock: Clock;
}

/** What one fire of the schedule did, environment by environment (the tick's answer, the dispatcher's log line). */
export interface DispatchReport {
  /** The instant the schedule fired for. */
  at: string;
  /** 00:00 UTC of its date: what every export started here is "as of". */
  snapshot_at: string;
  snapshot_date: string;
  started: { environment_id: string; job_id: string; execution_name: string }[];
  skipped: { environment_id: string; reason: string }[];
  failed: { environment_id: string; error: string }[];
  /**
   * The fire's daily facts build, started before the exports (which wait for it):
   * `started` false when this date's build was started by an earlier fire; `error`
   * when it could not be started (the exports then read raw events where facts are
   * not current, as always, and the schedule's retry starts it).
   */
  facts: { execution_name: string; started: boolean; error: string | null };
}

/**
 * One fire of the daily schedule at instant `at`: first the daily facts build of
 * every environment (one execution per date), then, for every enabled setting that
 * is due on that date (daily: always; weekly: Mondays), claim the date on the
 * setting (a conditional write: a second fire for the same date finds it taken)
 * and start one `today` export as of that midnight, which waits for the facts
 * build (bounded) and then delivers the CSV. One environment's failure does not
 * stop the others.
 */
export async function dispatchAutomaticExports(deps: DispatchDeps, at: Date): Promise<DispatchReport> {
  const snapshot = snapshotInstant(at);
  const date = isoDate(snapshot);
  const facts = await startScheduledFacts(deps, date);
  const report: DispatchReport = {
    at: at.toISOString(),
    snapshot_at: snapshot.toISOString(),
    snapshot_date: date,
    started: [],
    skipped: [],
    failed: [],
    facts: facts.report,
  };
  for (const setting of await deps.settings.listEnabled()) {
    const environmentId = setting.environment_id;
    try {
      const outcome = await dispatchOne(deps, setting, snapshot, date, facts.wait);
      if ('reason' in outcome) report.skipped.push({ environment_id: environmentId, reason: outcome.reason });
      else report.started.push({ environment_id: environmentId, ...outcome });
    } catch (error) {
      report.failed.push({ environment_id: environmentId, error: (error as Error).message });
    }
  }
  return report;
}

/**
 * Starts the date's facts build (named by the date: a repeated fire starts nothing).
 * The exports wait for it only if it was started or already ran under that name.
 */
async function startScheduledFacts(
  deps: DispatchDeps,
  date: string,
): Promise<{ report: DispatchReport['facts']; wait: AutomaticDelivery['facts_build'] }> {
  const executionName = scheduledFactsExecutionName(date);
  const startedAt = deps.clock.now().toISOString();
  const input: FactsWorkflowInput = { requested_at: startedAt, trigger: 'schedule' };
  try {
    const { started } = await deps.workflows.start(DAILY_FACTS_WORKFLOW, executionName, { ...input });
    return {
      report: { execution_name: executionName, started, error: null },
      wait: { execution_name: executionName, started_at: startedAt },
    };
  } catch (error) {
    return {
      report: { execution_name: executionName, started: false, error: (error as Error).message },
      wait: undefined,
    };
  }
}

async function dispatchOne(
  deps: DispatchDeps,
  setting: StoredAutomaticExport,
  snapshot: Date,
  date: string,
  factsBuild: AutomaticDelivery['facts_build'],
): Promise<{ job_id: string; execution_name: string } | { reason: string }> {
  const environmentId = setting.environment_id;
  if (!isDue(setting.cadence, snapshot))
    return { reason: `not due: weekly exports run on Mondays, ${date} is not one` };
  const environment = await deps.environments.get(environmentId);
  if (!environment) return { reason: 'the environment no longer exists' };
  if (!planAllows(environment.plan, 'automatic_exports')) {
    return { reason: `the ${environment.plan} plan does not include automatic exports` };
  }
  const executionName = automaticExportExecutionName(environmentId, date);
  // Drawn before the job is made: the claim records it, and the workflow's outcome
  // is written back only while the claim still names it.
  const jobId = randomUUID();
  const previous = await deps.settings.claimRun(environmentId, {
    date,
    job_id: jobId,
    run_at: deps.clock.now().toISOString(),
    snapshot_at: snapshot.toISOString(),
  });
  if (!previous) return { reason: `an export for ${date} was already started` };
  try {
    const { job, started } = await startCompanyExport(
      { jobs: deps.jobs, workflows: deps.workflows, clock: deps.clock },
      {
        environmentId,
        aggregation: 'today',
        asOf: snapshot,
        executionName,
        jobId,
        delivery: {
          environment_id: environmentId,
          snapshot_date: date,
          ...(factsBuild === undefined ? {} : { facts_build: factsBuild }),
        },
      },
    );
    if (!started) {
      // Step Functions already ran this name (an earlier fire whose claim was later
      // overwritten by another date's run): nothing new starts, the status stays as it was.
      await deps.settings.releaseRun(environmentId, jobId, previous);
      await deps.jobs.markFailed(environmentId, job.job_id, {
        error: `Not started: the automatic export for ${date} already ran.`,
        completed_at: deps.clock.now().toISOString(),
      });
      return { reason: `an export for ${date} was already started` };
    }
    return { job_id: job.job_id, execution_name: executionName };
  } catch (error) {
    // Give the date back, so that the schedule's retry of this fire can start it.
    await deps.settings.releaseRun(environmentId, jobId, previous);
    throw error;
  }
}
