/**
 * The bulk raw-event export workflow (seed 002):
 *
 *   PlanEventsExport → ExportWeeks (Map, one iteration per Monday-based week:
 *   UnloadEventsWeek → AssembleEventsWeekFile) → CompleteEventsExport
 *
 * Every state outside the Map catches everything into RecordEventsExportFailure,
 * which marks the job failed and releases the environment's export lock; a failed
 * iteration fails the Map, whose Catch does the same. A run that exceeds the
 * machine's TimeoutSeconds gets no Catch: the job's deadline and the lock's expiry
 * (core/events-export/job.ts) cover that case.
 */
import { EVENTS_EXPORT_RESULTS_PREFIX, RUN_TIME_LIMIT_SECONDS } from '../contract/exports.ts';
import type { ExportWorkflowSpec } from '../contract/workflow-spec.ts';
import { eventsExportSql } from '../core/events-export/sql.ts';
import { EVENTS_EXPORT_STEPS } from '../core/events-export/step-names.ts';
import { ATHENA_PLACEHOLDERS, athenaQueryTask, catchAll, LAMBDA_TRANSIENT, lambdaTask, retry } from './asl.ts';

/**
 * State names. The Task states key the local handlers, so they are part of the
 * contract and unique across every workflow the local stack runs.
 */
export const EVENTS_EXPORT_STATES = {
  plan: 'PlanEventsExport',
  weeks: 'ExportWeeks',
  query: 'UnloadEventsWeek',
  assemble: 'AssembleEventsWeekFile',
  complete: 'CompleteEventsExport',
  fail: 'RecordEventsExportFailure',
  failed: 'EventsExportFailed',
} as const;

/**
 * Weeks exported at once. Each runs an Athena query (the workgroup's account-wide
 * concurrency is shared with every other query) and then a Lambda that assembles its
 * files; four keeps a year's export moving without crowding out other queries.
 */
export const EVENTS_EXPORT_MAX_CONCURRENCY = 4;

/** The steps Lambda's ARN placeholder. */
const STEPS_FUNCTION_ARN = 'EventsExportStepsFunctionArn';

const S = EVENTS_EXPORT_STATES;
const step = (step: string, comment: string) => ({ functionArn: STEPS_FUNCTION_ARN, step, comment });

/** States.Format's template escapes (Step Functions Developer Guide, "Intrinsic functions"). */
const formatTemplate = (text: string) => text.replace(/[\\'{}]/g, (c) => `\\${c}`);

/**
 * The week's UNLOAD as a States.Format call: Athena takes execution parameters in
 * WHERE clauses only, and UNLOAD's `TO` must be a literal, so the one value pasted is
 * the item's `unload_prefix`, made and checked by the plan step
 * (`eventsExportUnloadPrefix`: a job id of `[A-Za-z0-9_-]` and a date), under the
 * workgroup's own results bucket. TEXTFILE writes each row's one VARCHAR column as it
 * is, followed by `\n`, in gzip files (Athena User Guide, "UNLOAD"): the rows are the
 * file's finished lines (sql.ts). The location must be empty, which a job's own
 * prefix is.
 */
export function unloadQueryString(partitionSql: string): string {
  const location = `s3://\${${ATHENA_PLACEHOLDERS.resultsBucket}}/{}`;
  return `States.Format('${formatTemplate(`UNLOAD (${partitionSql}) TO `)}\\'${location}\\' WITH (format = \\'TEXTFILE\\', compression = \\'GZIP\\')', $.partition.unload_prefix)`;
}

/** The document, given the text of the partition query (Trino: what Athena runs). */
export function eventsExportDefinition(partitionSql: string): Record<string, unknown> {
  return {
    Comment: 'featurelake bulk raw-event export: one query and one gzip file per Monday-based week',
    StartAt: S.plan,
    TimeoutSeconds: RUN_TIME_LIMIT_SECONDS,
    States: {
      [S.plan]: lambdaTask(
        step(
          EVENTS_EXPORT_STEPS.plan,
          'Snapshot the filters, segment and exclusions into the job inputs table; list the weeks',
        ),
        {
          TimeoutSeconds: 120,
          Retry: retry(LAMBDA_TRANSIENT),
          ResultPath: '$.plan',
          Catch: catchAll(S.fail),
          Next: S.weeks,
        },
      ),
      [S.weeks]: {
        Type: 'Map',
        Comment: 'One iteration per week: its query, then its file',
        ItemsPath: '$.plan.partitions',
        ItemSelector: {
          'job_id.$': '$.job_id',
          'app_id.$': '$.app_id',
          'partition.$': '$$.Map.Item.Value',
        },
        MaxConcurrency: EVENTS_EXPORT_MAX_CONCURRENCY,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: S.query,
          States: {
            [S.query]: athenaQueryTask(
              {
                comment:
                  "UNLOAD the week's events as finished lines into gzip files; every value is an execution parameter",
                queryString: { 'QueryString.$': unloadQueryString(partitionSql) },
                parametersPath: '$.partition.athena_params',
                resultsPrefix: EVENTS_EXPORT_RESULTS_PREFIX,
              },
              { Next: S.assemble },
            ),
            [S.assemble]: lambdaTask(
              step(
                EVENTS_EXPORT_STEPS.assembleWeek,
                "Join the UNLOAD's gzip files into <monday>.json.gz or .csv.gz on S3 and record the week done",
              ),
              { TimeoutSeconds: 900, Retry: retry(LAMBDA_TRANSIENT), ResultPath: null, End: true },
            ),
          },
        },
        // The iterations' outputs are not needed, and a year of them would crowd the state.
        ResultPath: null,
        Catch: catchAll(S.fail),
        Next: S.complete,
      },
      [S.complete]: lambdaTask(
        step(EVENTS_EXPORT_STEPS.complete, 'Mark the job completed, release the lock, email the links'),
        { TimeoutSeconds: 120, Retry: retry(LAMBDA_TRANSIENT), ResultPath: null, Catch: catchAll(S.fail), End: true },
      ),
      [S.fail]: lambdaTask(
        step(EVENTS_EXPORT_STEPS.fail, 'Mark the job failed with a message a user can act on, and release the lock'),
        {
          TimeoutSeconds: 60,
          Retry: retry([...LAMBDA_TRANSIENT, 'States.TaskFailed']),
          ResultPath: null,
          Next: S.failed,
        },
      ),
      [S.failed]: {
        Type: 'Fail',
        Error: 'EventsExportFailed',
        Cause: 'The events export failed; the job records why.',
      },
    },
  };
}

/** The events export workflow as the CDK deploys it and the local stack runs it. */
export function eventsExportWorkflow(): ExportWorkflowSpec {
  const trino = eventsExportSql('trino');
  return {
    name: 'events-export',
    definition: eventsExportDefinition(trino),
    placeholders: { stepsFunctionArn: STEPS_FUNCTION_ARN, ...ATHENA_PLACEHOLDERS },
    queries: { [S.query]: { trino, duckdb: eventsExportSql('duckdb') } },
    stepsTasks: [S.plan, S.assemble, S.complete, S.fail],
    stepsLambda: 'events-export-steps',
    resultsPrefix: EVENTS_EXPORT_RESULTS_PREFIX,
  };
}
