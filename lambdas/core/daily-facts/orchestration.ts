/**
 * Running the daily facts build (DESIGN "Daily facts"; docs/rollup.md): the daily
 * schedule starts it before the automatic exports, an admin starts it on demand
 * (`POST /admin/v1/facts/build`, `featurelake facts build`), and an automatic
 * export waits for the fire's build before it reads the lake. The build itself
 * (what to build, the SQL, the manifest flip) is core/company-export's; this is
 * only when it runs and how the exports line up behind it.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../ports/clock.ts';
import type { EnvironmentStore } from '../../ports/environment-store.ts';
import type { ExecutionState, WorkflowMonitor, WorkflowStarter } from '../../ports/workflow-starter.ts';
import { NotFoundError } from '../shared/errors.ts';

/** The workflow that builds the daily facts (lambdas/workflows/daily-facts.ts). */
export const DAILY_FACTS_WORKFLOW = 'daily-facts';

/** Where the facts workgroup's query results (the UNLOADs' manifests) go in the results bucket. */
export const FACTS_RESULTS_PREFIX = 'daily-facts/';

/** The `step` values the daily facts workflow sends its steps Lambda (lambdas/handlers/facts-steps.ts). */
export const FACTS_STEPS = {
  list: 'list-facts-environments',
  plan: 'plan-company-facts',
  commit: 'commit-company-facts',
  cleanup: 'cleanup-company-facts',
  finish: 'finish-daily-facts',
} as const;

/**
 * How long an automatic export waits for the fire's facts build before it reads the
 * lake anyway. Waiting is only for cost (an export is exact whatever the state of
 * the facts: it reads raw events where they are not current); a build that takes
 * longer (the first one over a long history) must not hold the exports back for
 * long, nor eat much of their 1-hour run time.
 */
export const FACTS_WAIT_LIMIT_SECONDS = 20 * 60;

/** How often a waiting export asks whether the build has ended (its Wait state). */
export const FACTS_WAIT_POLL_SECONDS = 30;

/**
 * The schedule's build for the fire of `snapshotDate` (YYYY-MM-DD): one name per
 * date, so a repeated fire (Scheduler's retries, a second tick) starts nothing new.
 */
export const scheduledFactsExecutionName = (snapshotDate: string): string => `daily-facts-${snapshotDate}`;

/** A build asked for by an admin: every request is a new execution. */
export const onDemandFactsExecutionName = (id: string = randomUUID()): string => `facts-build-${id}`;

/** Execution names this module makes: what the status route accepts. */
export const FACTS_EXECUTION_NAME = /^(daily-facts-\d{4}-\d{2}-\d{2}|facts-build-[0-9a-f-]{36})$/;

/** Days to rebuild, inclusive (YYYY-MM-DD). */
export interface FactsDays {
  readonly from: string;
  readonly to: string;
}

/** What the facts workflow is started with (its execution input). */
export interface FactsWorkflowInput {
  /** When the build was asked for (ISO). */
  readonly requested_at: string;
  /** Only this environment's facts; absent: every environment's. */
  readonly environment_id?: string;
  /** Only these days of it (a rebuild an admin asked for); absent: every stale closed day. */
  readonly days?: FactsDays;
  readonly trigger: 'schedule' | 'admin';
}

const isoDay = z.iso.date({ error: 'must be a date, YYYY-MM-DD' });

/** `POST /admin/v1/facts/build`. */
export const factsBuildRequest = z
  .object({
    environment_id: z
      .string({ error: 'must be a string' })
      .trim()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .optional(),
    days: z
      .object(
        { from: isoDay, to: isoDay },
        { error: 'must be an object {from, to} of dates (YYYY-MM-DD), the days to rebuild' },
      )
      .refine((days) => days.from <= days.to, { error: 'from must not be after to', path: ['to'] })
      .optional(),
  })
  .refine((request) => request.days === undefined || request.environment_id !== undefined, {
    error: 'is required when days are given: days are rebuilt for one environment at a time',
    path: ['environment_id'],
  });

/** The answer of `POST /admin/v1/facts/build` (202). */
export interface FactsBuildStarted {
  workflow: typeof DAILY_FACTS_WORKFLOW;
  execution_name: string;
  environment_id: string | null;
  days: FactsDays | null;
  requested_at: string;
  /** Links to the build's status. */
  links: string;
}

export interface StartFactsBuildDeps {
  readonly environments: Pick<EnvironmentStore, 'get'>;
  readonly workflows: WorkflowStarter;
  readonly clock: Clock;
}

/**
 * An on-demand build (a first run over an existing lake builds all of history): of
 * one environment, after checking it exists, or of every environment.
 */
export async function startFactsBuild(
  deps: StartFactsBuildDeps,
  request: z.output<typeof factsBuildRequest>,
): Promise<FactsBuildStarted> {
  if (request.environment_id !== undefined && !(await deps.environments.get(request.environment_id))) {
    throw new NotFoundError(`No environment ${request.environment_id}.`, 'environment_id');
  }
  const executionName = onDemandFactsExecutionName();
  const requestedAt = deps.clock.now().toISOString();
  const input: FactsWorkflowInput = {
    requested_at: requestedAt,
    trigger: 'admin',
    ...(request.environment_id === undefined ? {} : { environment_id: request.environment_id }),
    ...(request.days === undefined ? {} : { days: request.days }),
  };
  await deps.workflows.start(DAILY_FACTS_WORKFLOW, executionName, { ...input });
  return {
    workflow: DAILY_FACTS_WORKFLOW,
    execution_name: executionName,
    environment_id: request.environment_id ?? null,
    days: request.days ?? null,
    requested_at: requestedAt,
    links: `/admin/v1/facts/builds/${executionName}`,
  };
}

/** The answer of `GET /admin/v1/facts/builds/{execution_name}`. */
export interface FactsBuildStatus {
  execution_name: string;
  /**
   * `running`; `ended` (succeeded or failed: a failed build leaves the facts it had
   * not flipped as they were, and the next build does them); `timed-out`; `unknown`
   * (no such execution, or one the local stack ran before it was restarted).
   */
  status: ExecutionState;
}

export async function factsBuildStatus(
  deps: { readonly workflows: WorkflowMonitor; readonly clock: Clock },
  executionName: string,
): Promise<FactsBuildStatus> {
  if (!FACTS_EXECUTION_NAME.test(executionName)) {
    throw new NotFoundError(`No facts build ${executionName}.`, 'execution_name');
  }
  // "Asked for now": a local runner that does not know the name answers `unknown`.
  const status = await deps.workflows.executionState(DAILY_FACTS_WORKFLOW, executionName, deps.clock.now());
  return { execution_name: executionName, status };
}

/** The `step` the company export workflow's CheckDailyFacts state sends the export steps Lambda. */
export const CHECK_DAILY_FACTS_STEP = 'check-daily-facts';

/** What an automatic export carries to wait for its fire's facts build (the dispatcher sets it). */
export const awaitFactsInput = z.object({
  execution_name: z.string().regex(FACTS_EXECUTION_NAME),
  /** When the dispatcher started the build: the wait ends FACTS_WAIT_LIMIT_SECONDS after it. */
  started_at: z.iso.datetime(),
});
export type AwaitFacts = z.output<typeof awaitFactsInput>;

/**
 * The export workflow's `WaitForDailyFacts` loop asks this: wait (again) while the
 * build runs and the wait has not reached its limit; go on otherwise, whatever
 * became of the build (the export is exact either way).
 */
export async function checkDailyFacts(
  deps: { readonly workflows: WorkflowMonitor; readonly clock: Clock },
  after: AwaitFacts,
): Promise<{ wait: boolean; facts: ExecutionState }> {
  const startedAt = new Date(after.started_at);
  const facts = await deps.workflows.executionState(DAILY_FACTS_WORKFLOW, after.execution_name, startedAt);
  const waitedSeconds = (deps.clock.now().getTime() - startedAt.getTime()) / 1000;
  return { wait: facts === 'running' && waitedSeconds < FACTS_WAIT_LIMIT_SECONDS, facts };
}

/** The execution input, as the ListFactsEnvironments step parses it. */
const factsDays = z.object({ from: z.iso.date(), to: z.iso.date() });

export const factsWorkflowInput = z.object({
  requested_at: z.iso.datetime(),
  environment_id: z.string().min(1).optional(),
  days: factsDays.optional(),
  trigger: z.enum(['schedule', 'admin']),
});

/** One iteration of the workflow's Map: an environment, and the days to rebuild if restricted. */
export const factsEnvironmentInput = z.object({ app_id: z.string().min(1), days: factsDays.optional() });

/** The environments a run builds: the one an admin asked for (with its days, if given), or every environment. */
export async function listFactsEnvironments(
  deps: { readonly environments: Pick<EnvironmentStore, 'list'> },
  input: z.output<typeof factsWorkflowInput>,
): Promise<{ environments: z.output<typeof factsEnvironmentInput>[] }> {
  if (input.environment_id !== undefined) {
    return { environments: [{ app_id: input.environment_id, ...(input.days ? { days: input.days } : {}) }] };
  }
  return {
    environments: (await deps.environments.list()).map((environment) => ({ app_id: environment.environment_id })),
  };
}

/** What each Map iteration of the workflow ends with. */
export const factsIterationResults = z.object({
  results: z.array(z.object({ app_id: z.string(), failed: z.boolean(), error: z.string().nullable().optional() })),
});

/** The error FinishDailyFacts fails the execution with when an environment's build failed. */
export class DailyFactsIncompleteError extends Error {
  override readonly name = 'DailyFactsIncomplete';
}

/**
 * The run's end: how many environments were built, and a failure naming those that
 * were not (their facts stay as they were; the next run builds them), so that the
 * execution shows as failed and its alarm fires.
 */
export function finishDailyFacts(input: z.output<typeof factsIterationResults>): {
  environments: number;
  failed: number;
} {
  const failed = input.results.filter((result) => result.failed);
  const summary = { environments: input.results.length, failed: failed.length };
  console.log(JSON.stringify({ level: failed.length ? 'error' : 'info', message: 'daily facts', ...summary, failed }));
  if (failed.length > 0) {
    throw new DailyFactsIncompleteError(
      `the facts of ${failed.length} of ${input.results.length} environment(s) were not built: ${failed
        .slice(0, 10)
        .map((result) => `${result.app_id} (${result.error ?? 'failed'})`)
        .join(', ')}`,
    );
  }
  return summary;
}
