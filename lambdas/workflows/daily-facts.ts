/**
 * The daily facts workflow (DESIGN "Daily facts"; docs/rollup.md):
 *
 *   ListFactsEnvironments → BuildEachEnvironmentsFacts (Map, one iteration per
 *   environment: PlanCompanyFacts → HasCompanyFactsToBuild → BuildCompanyFacts
 *   (Athena UNLOAD into the build's own prefix of the lake) → CommitCompanyFacts
 *   (the manifest flip) → CleanupCompanyFacts) → FinishDailyFacts
 *
 * The schedule starts it once per date (`daily-facts-<date>`), before the automatic
 * exports; an admin starts it on demand (`facts-build-<uuid>`), for one environment
 * or all. One environment's failure does not stop the others: its iteration ends in
 * EnvironmentFactsFailed, and FinishDailyFacts fails the execution at the end,
 * naming them, so that a failed build shows as a failed execution. A failure or a
 * kill anywhere before an environment's commit leaves its manifest as it was (the
 * old facts, or none); the next run plans the same days again under a new build id,
 * and cleanup deletes the dead build's files later.
 */
import { FACTS_WORKFLOW_STATES } from '../contract/facts.ts';
import type { ExportWorkflowSpec } from '../contract/workflow-spec.ts';
import { companyFactsBuildSql } from '../core/company-export/facts/sql.ts';
import { FACTS_RESULTS_PREFIX, FACTS_STEPS } from '../core/daily-facts/orchestration.ts';
import { ATHENA_PLACEHOLDERS, athenaQueryTask, catchAll, LAMBDA_TRANSIENT, lambdaTask, retry } from './asl.ts';

/** State names (Task states key the local handlers: unique across every workflow). */
export const DAILY_FACTS_STATES = {
  list: 'ListFactsEnvironments',
  each: 'BuildEachEnvironmentsFacts',
  ...FACTS_WORKFLOW_STATES,
  built: 'EnvironmentFactsBuilt',
  failed: 'EnvironmentFactsFailed',
  finish: 'FinishDailyFacts',
} as const;

/**
 * Environments built at once. Each runs one Athena UNLOAD at a time (a first build
 * over a long history is one large query); two keeps the daily run short without
 * crowding the account's Athena concurrency that the exports share.
 */
export const DAILY_FACTS_MAX_CONCURRENCY = 2;

/** The steps Lambda's ARN placeholder, and the lake bucket's (the UNLOAD's destination). */
const STEPS_FUNCTION_ARN = 'FactsStepsFunctionArn';
const LAKE_BUCKET = 'LakeBucket';

const S = DAILY_FACTS_STATES;
const step = (step: string, comment: string) => ({ functionArn: STEPS_FUNCTION_ARN, step, comment });

/** States.Format's template escapes (Step Functions Developer Guide, "Intrinsic functions"). */
const formatTemplate = (text: string) => text.replace(/[\\'{}]/g, (c) => `\\${c}`);

/**
 * The build's UNLOAD as a States.Format call: UNLOAD's `TO` must be a literal, so the
 * one value pasted is the plan's `destination` (`factsBuildPrefix`: a shard number,
 * an environment id of `[A-Za-z0-9_-]` and a build id, checked by the plan step),
 * under the lake bucket. Parquet with Snappy, as Firehose writes the events. The
 * location is new for every build, so it is empty, as UNLOAD requires.
 */
export function factsUnloadQueryString(buildSql: string): string {
  const location = `s3://\${${LAKE_BUCKET}}/{}`;
  return `States.Format('${formatTemplate(`UNLOAD (${buildSql}) TO `)}\\'${location}\\' WITH (format = \\'PARQUET\\', compression = \\'SNAPPY\\')', $.plan.destination)`;
}

/** The document, given the text of the build query (Trino: what Athena runs). */
export function dailyFactsDefinition(buildSql: string): Record<string, unknown> {
  return {
    Comment: "featurelake daily facts: build every environment's closed days that have no current facts",
    StartAt: S.list,
    // A first build over a long history is one UNLOAD per environment, each at most
    // the Athena task's 30 minutes; a day's build takes seconds.
    TimeoutSeconds: 6 * 60 * 60,
    States: {
      [S.list]: lambdaTask(step(FACTS_STEPS.list, 'The environments to build: the one asked for, or all'), {
        TimeoutSeconds: 120,
        Retry: retry(LAMBDA_TRANSIENT),
        ResultPath: '$.list',
        Next: S.each,
      }),
      [S.each]: {
        Type: 'Map',
        Comment: 'One iteration per environment: plan, build, commit, clean up',
        // Each item is `{app_id, days?}`: the iteration's input.
        ItemsPath: '$.list.environments',
        MaxConcurrency: DAILY_FACTS_MAX_CONCURRENCY,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: S.plan,
          States: {
            [S.plan]: lambdaTask(
              step(FACTS_STEPS.plan, 'Which closed days are stale; the build id, cutoff and inputs'),
              {
                TimeoutSeconds: 600,
                Retry: retry(LAMBDA_TRANSIENT),
                ResultPath: '$.plan',
                Catch: catchAll(S.failed),
                Next: S.hasDays,
              },
            ),
            [S.hasDays]: {
              Type: 'Choice',
              Choices: [{ Variable: '$.plan.days_count', NumericGreaterThan: 0, Next: S.build }],
              // Nothing stale: the commit still advances the watermark.
              Default: S.commit,
            },
            [S.build]: athenaQueryTask(
              {
                comment: "UNLOAD the stale days' facts as Parquet into the build's own prefix; values are parameters",
                queryString: { 'QueryString.$': factsUnloadQueryString(buildSql) },
                parametersPath: '$.plan.athena_params',
                resultsPrefix: FACTS_RESULTS_PREFIX,
              },
              { Catch: catchAll(S.failed), Next: S.commit },
            ),
            [S.commit]: lambdaTask(
              step(FACTS_STEPS.commit, "Make the build current for all its days at once (the manifest's one write)"),
              {
                Parameters: { step: FACTS_STEPS.commit, 'job.$': '$.plan' },
                TimeoutSeconds: 60,
                Retry: retry(LAMBDA_TRANSIENT),
                ResultPath: '$.commit',
                Catch: catchAll(S.failed),
                Next: S.cleanup,
              },
            ),
            [S.cleanup]: lambdaTask(
              step(FACTS_STEPS.cleanup, 'Delete builds retired (or never committed) more than a day ago'),
              {
                Parameters: { step: FACTS_STEPS.cleanup, 'job.$': '$' },
                TimeoutSeconds: 600,
                Retry: retry(LAMBDA_TRANSIENT),
                ResultPath: null,
                Catch: catchAll(S.failed),
                Next: S.built,
              },
            ),
            // What the iteration gives the Map's result: small, however large the plan was.
            [S.built]: { Type: 'Pass', Parameters: { 'app_id.$': '$.app_id', failed: false }, End: true },
            [S.failed]: {
              Type: 'Pass',
              Comment: "This environment's facts stay as they were; the next run builds them",
              Parameters: { 'app_id.$': '$.app_id', failed: true, 'error.$': '$.failure.Error' },
              End: true,
            },
          },
        },
        ResultPath: '$.results',
        Next: S.finish,
      },
      [S.finish]: lambdaTask(
        step(FACTS_STEPS.finish, 'Log what was built; fail the execution if any environment failed'),
        { TimeoutSeconds: 60, Retry: retry(LAMBDA_TRANSIENT), ResultPath: '$.summary', End: true },
      ),
    },
  };
}

/** The daily facts workflow as the CDK deploys it and the local stack runs it. */
export function dailyFactsWorkflow(): ExportWorkflowSpec {
  const trino = companyFactsBuildSql('trino');
  return {
    name: 'daily-facts',
    definition: dailyFactsDefinition(trino),
    placeholders: { stepsFunctionArn: STEPS_FUNCTION_ARN, ...ATHENA_PLACEHOLDERS, lakeBucket: LAKE_BUCKET },
    queries: { [S.build]: { trino, duckdb: companyFactsBuildSql('duckdb') } },
    stepsTasks: [S.list, S.plan, S.commit, S.cleanup, S.finish],
    stepsLambda: 'facts-steps',
    resultsPrefix: FACTS_RESULTS_PREFIX,
  };
}
