/**
 * The bulk raw-event export workflow (seed 002) as one Amazon States Language
 * document, JSONPath only (aws-local-stepfunctions ignores JSONata and variables),
 * deployed by the CDK with `definitionSubstitutions` and run locally by
 * aws-local-stepfunctions with local values substituted.
 *
 *   PlanEventsExport → ExportWeeks (Map, one iteration per Monday-based week:
 *   QueryEventsWeek → WriteEventsWeekFile) → CompleteEventsExport
 *
 * Every state outside the Map catches everything into RecordEventsExportFailure,
 * which marks the job failed and releases the environment's export lock; a failed
 * iteration fails the Map, whose Catch does the same. A run that exceeds the
 * machine's TimeoutSeconds gets no Catch: the job's deadline and the lock's expiry
 * (job.ts) cover that case.
 */
import { EVENTS_EXPORT_RESULTS_PREFIX, RUN_TIME_LIMIT_SECONDS } from '../../contract/exports.ts';

/** `${Name}` placeholders the document expects. */
export const EVENTS_EXPORT_SUBSTITUTIONS = [
  'EventsExportStepsFunctionArn',
  'GlueDatabase',
  'AthenaWorkGroup',
  'ResultsBucket',
] as const;
export type EventsExportSubstitutions = Record<(typeof EVENTS_EXPORT_SUBSTITUTIONS)[number], string>;

/**
 * State names. The Task states key the local handlers, so they are part of the
 * contract and unique across every workflow the local stack runs.
 */
export const EVENTS_EXPORT_STATES = {
  plan: 'PlanEventsExport',
  weeks: 'ExportWeeks',
  query: 'QueryEventsWeek',
  write: 'WriteEventsWeekFile',
  complete: 'CompleteEventsExport',
  fail: 'RecordEventsExportFailure',
  failed: 'EventsExportFailed',
} as const;

/** The `step` values the events-export-steps Lambda dispatches on. */
export const EVENTS_EXPORT_STEPS = {
  plan: 'plan-events-export',
  writeWeek: 'write-events-week',
  complete: 'complete-events-export',
  fail: 'fail-events-export',
} as const;

/**
 * Weeks exported at once. Each runs an Athena query (the workgroup's account-wide
 * concurrency is shared with every other query) and then a Lambda that streams its
 * result; four keeps a year's export moving without crowding out other queries.
 */
export const EVENTS_EXPORT_MAX_CONCURRENCY = 4;

/** Lambda invoke errors that say the service, not the function, failed: worth a retry. */
const LAMBDA_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
const ATHENA_TRANSIENT = ['Athena.TooManyRequestsException', 'Athena.InternalServerException'];

/** Retrying helps only where a service was busy or briefly failing, never for a wrong query. */
const retry = (errors: string[]) => [
  { ErrorEquals: errors, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' },
];

const S = EVENTS_EXPORT_STATES;
const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: S.fail }];
const stepsTask = (step: string, comment: string, timeoutSeconds: number) => ({
  Type: 'Task',
  Comment: comment,
  Resource: '${EventsExportStepsFunctionArn}',
  Parameters: { step, 'job.$': '$' },
  TimeoutSeconds: timeoutSeconds,
  Retry: retry(LAMBDA_TRANSIENT),
});

/** The document, given the Trino text of the partition query (sql.ts). */
export function eventsExportDefinition(partitionSql: string): Record<string, unknown> {
  return {
    Comment: 'featurelake bulk raw-event export: one query and one gzip file per Monday-based week',
    StartAt: S.plan,
    TimeoutSeconds: RUN_TIME_LIMIT_SECONDS,
    States: {
      [S.plan]: {
        ...stepsTask(
          EVENTS_EXPORT_STEPS.plan,
          'Snapshot the filters, segment and exclusions into the job inputs table; list the weeks',
          120,
        ),
        ResultPath: '$.plan',
        Catch: catchAll,
        Next: S.weeks,
      },
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
            [S.query]: {
              Type: 'Task',
              Comment: "The week's events as finished lines; every value is an execution parameter",
              Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
              Parameters: {
                QueryString: partitionSql,
                QueryExecutionContext: { Database: '${GlueDatabase}' },
                WorkGroup: '${AthenaWorkGroup}',
                ResultConfiguration: { OutputLocation: `s3://\${ResultsBucket}/${EVENTS_EXPORT_RESULTS_PREFIX}` },
                'ExecutionParameters.$': '$.partition.athena_params',
              },
              ResultSelector: { 'output_location.$': '$.QueryExecution.ResultConfiguration.OutputLocation' },
              ResultPath: '$.query',
              TimeoutSeconds: 1800,
              Retry: retry(ATHENA_TRANSIENT),
              Next: S.write,
            },
            [S.write]: {
              ...stepsTask(
                EVENTS_EXPORT_STEPS.writeWeek,
                "Gzip the result's lines into <monday>.json.gz or .csv.gz and record the week done",
                900,
              ),
              ResultPath: null,
              End: true,
            },
          },
        },
        // The iterations' outputs are not needed, and a year of them would crowd the state.
        ResultPath: null,
        Catch: catchAll,
        Next: S.complete,
      },
      [S.complete]: {
        ...stepsTask(EVENTS_EXPORT_STEPS.complete, 'Mark the job completed, release the lock, email the links', 120),
        ResultPath: null,
        Catch: catchAll,
        End: true,
      },
      [S.fail]: {
        ...stepsTask(
          EVENTS_EXPORT_STEPS.fail,
          'Mark the job failed with a message a user can act on, and release the lock',
          60,
        ),
        Retry: retry([...LAMBDA_TRANSIENT, 'States.TaskFailed']),
        ResultPath: null,
        Next: S.failed,
      },
      [S.failed]: {
        Type: 'Fail',
        Error: 'EventsExportFailed',
        Cause: 'The events export failed; the job records why.',
      },
    },
  };
}
