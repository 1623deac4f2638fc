/**
 * The company export workflow (seed 000, manual and automatic):
 *
 *   (automatic only) CheckDailyFacts ⟲ WaitForDailyFacts →
 *   PrepareRollupInputs → RunRollupFromFactsQuery, its one-date or weekly shape
 *   (RunOneDateRollupFromFactsQuery, RunWeeklyRollupFromFactsQuery), or RunRollupQuery
 *   (the prepare step's `from_facts`, `one_date`, `weekly`) → PublishCsv →
 *   (automatic only) DeliverToCustomerBucket
 *
 * An automatic export first waits for its fire's daily facts build (bounded: see
 * core/daily-facts/orchestration.ts), so that it reads the new day's facts rather
 * than its raw events; the wait is for cost only, so a failed check goes on to the
 * export. Every other Task catches everything into RecordFailure, which records
 * the job as failed.
 */
import { COMPANY_EXPORT_RESULTS_PREFIX } from '../contract/exports.ts';
import type { ExportWorkflowSpec } from '../contract/workflow-spec.ts';
import { DELIVERY_ERRORS } from '../core/automatic-export/customer-bucket.ts';
import { COMPANY_EXPORT_TIME_LIMIT_SECONDS } from '../core/company-export/job.ts';
import type { SqlDialectName } from '../core/company-export/rollup/dialect.ts';
import {
  companyRollupFromFactsSql,
  companyRollupOneDateFromFactsSql,
  companyRollupSql,
  companyRollupWeeklyFromFactsSql,
} from '../core/company-export/rollup/sql.ts';
import { EXPORT_STEPS } from '../core/company-export/step-names.ts';
import { CHECK_DAILY_FACTS_STEP, FACTS_WAIT_POLL_SECONDS } from '../core/daily-facts/orchestration.ts';
import { ATHENA_PLACEHOLDERS, athenaQueryTask, catchAll, LAMBDA_TRANSIENT, lambdaTask, retry } from './asl.ts';

/** Task state names: local handlers are keyed by them, so they are part of the contract. */
export const COMPANY_EXPORT_STATES = {
  /** Automatic exports only (`$.delivery.facts_build`): has the fire's daily facts build ended? */
  checkFacts: 'CheckDailyFacts',
  prepare: 'PrepareRollupInputs',
  /** The full recompute from raw events (FEATURELAKE_ROLLUP_FROM_FACTS=0: the reference and the fallback). */
  query: 'RunRollupQuery',
  /** The rollup over the current daily facts and the raw events they do not cover (the default). */
  queryFromFacts: 'RunRollupFromFactsQuery',
  /** The same for a job of one output date (`today`, the automatic exports): one aggregation per timeline. */
  queryOneDateFromFacts: 'RunOneDateRollupFromFactsQuery',
  /** The same for a job of dates a week apart (`3m_weekly`, `6m_weekly`): running values over weeks. */
  queryWeeklyFromFacts: 'RunWeeklyRollupFromFactsQuery',
  publish: 'PublishCsv',
  /** Automatic exports only (the execution input has `delivery`): upload the CSV to the customer's bucket. */
  deliver: 'DeliverToCustomerBucket',
  fail: 'RecordFailure',
} as const;

/** The rollup's texts in one dialect, one per query state. */
export interface CompanyRollupTexts {
  /** `companyRollupSql`: the full recompute. */
  readonly full: string;
  /** `companyRollupFromFactsSql`. */
  readonly fromFacts: string;
  /** `companyRollupOneDateFromFactsSql`. */
  readonly oneDateFromFacts: string;
  /** `companyRollupWeeklyFromFactsSql`. */
  readonly weeklyFromFacts: string;
}

/** The rollup's four texts in a dialect. */
export function companyRollupTexts(dialect: SqlDialectName): CompanyRollupTexts {
  return {
    full: companyRollupSql(dialect),
    fromFacts: companyRollupFromFactsSql(dialect),
    oneDateFromFacts: companyRollupOneDateFromFactsSql(dialect),
    weeklyFromFacts: companyRollupWeeklyFromFactsSql(dialect),
  };
}

/** The steps Lambda's ARN placeholder. */
const STEPS_FUNCTION_ARN = 'ExportStepsFunctionArn';

/**
 * The customer's bucket may be briefly unavailable (throttling, 5xx, the network):
 * wait longer than for our own services, since it is someone else's. Its refusals
 * (keys, bucket, permissions) are never retried: only the user can fix them.
 */
const retryCustomerBucket = () => [
  ...retry(LAMBDA_TRANSIENT),
  {
    ErrorEquals: [DELIVERY_ERRORS.retryable],
    IntervalSeconds: 30,
    MaxAttempts: 3,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
];

/**
 * The document, given the texts of the rollup query (Trino: what Athena runs): the
 * full recompute, the one reading the daily facts, and its one-date shape.
 */
export function companyExportDefinition(texts: CompanyRollupTexts): Record<string, unknown> {
  const S = COMPANY_EXPORT_STATES;
  const step = (step: string, comment: string) => ({ functionArn: STEPS_FUNCTION_ARN, step, comment });
  /** A query state of the rollup: one of its texts over the prepared parameters, then publish. */
  const rollupQuery = (comment: string, queryString: string) =>
    athenaQueryTask(
      {
        comment,
        queryString,
        parametersPath: '$.prepared.athena_params',
        resultsPrefix: COMPANY_EXPORT_RESULTS_PREFIX,
      },
      { Catch: catchAll(S.fail), Next: S.publish },
    );
  return {
    Comment: 'featurelake company feature-adoption export: rollup query over the lake, then the CSV',
    StartAt: 'WaitForFactsIfAutomatic',
    TimeoutSeconds: COMPANY_EXPORT_TIME_LIMIT_SECONDS,
    States: {
      WaitForFactsIfAutomatic: {
        Type: 'Choice',
        Comment: "Scheduled exports carry $.delivery.facts_build: the fire's facts build, started just before",
        Choices: [{ Variable: '$.delivery.facts_build', IsPresent: true, Next: S.checkFacts }],
        Default: S.prepare,
      },
      [S.checkFacts]: lambdaTask(
        step(CHECK_DAILY_FACTS_STEP, "Whether the fire's daily facts build still runs, within the wait's limit"),
        {
          Parameters: { step: CHECK_DAILY_FACTS_STEP, 'job.$': '$.delivery.facts_build' },
          ResultPath: '$.facts_wait',
          TimeoutSeconds: 60,
          Retry: retry(LAMBDA_TRANSIENT),
          // Waiting is for cost only: an export is exact whatever the facts' state.
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.facts_wait', Next: S.prepare }],
          Next: 'FactsStillBuilding',
        },
      ),
      FactsStillBuilding: {
        Type: 'Choice',
        Choices: [{ Variable: '$.facts_wait.wait', BooleanEquals: true, Next: 'WaitForDailyFacts' }],
        Default: S.prepare,
      },
      WaitForDailyFacts: { Type: 'Wait', Seconds: FACTS_WAIT_POLL_SECONDS, Next: S.checkFacts },
      [S.prepare]: lambdaTask(
        step(
          EXPORT_STEPS.prepareCompanyExport,
          'Snapshot the catalog and the aggregation dates into the job inputs table',
        ),
        {
          ResultPath: '$.prepared',
          TimeoutSeconds: 120,
          Retry: retry(LAMBDA_TRANSIENT),
          Catch: catchAll(S.fail),
          Next: 'ReadFactsOrRaw',
        },
      ),
      ReadFactsOrRaw: {
        Type: 'Choice',
        Comment:
          'The prepare step says which text its inputs are for: over the daily facts (for one date, dates a week apart, or other dates), or the full recompute (FEATURELAKE_ROLLUP_FROM_FACTS=0)',
        Choices: [
          {
            And: [
              { Variable: '$.prepared.from_facts', IsPresent: true },
              { Variable: '$.prepared.from_facts', BooleanEquals: true },
              { Variable: '$.prepared.one_date', IsPresent: true },
              { Variable: '$.prepared.one_date', BooleanEquals: true },
            ],
            Next: S.queryOneDateFromFacts,
          },
          {
            And: [
              { Variable: '$.prepared.from_facts', IsPresent: true },
              { Variable: '$.prepared.from_facts', BooleanEquals: true },
              { Variable: '$.prepared.weekly', IsPresent: true },
              { Variable: '$.prepared.weekly', BooleanEquals: true },
            ],
            Next: S.queryWeeklyFromFacts,
          },
          {
            And: [
              { Variable: '$.prepared.from_facts', IsPresent: true },
              { Variable: '$.prepared.from_facts', BooleanEquals: true },
            ],
            Next: S.queryFromFacts,
          },
        ],
        Default: S.query,
      },
      [S.queryFromFacts]: rollupQuery(
        'The rollup over the current daily facts and the raw events they do not cover; values are parameters',
        texts.fromFacts,
      ),
      [S.queryOneDateFromFacts]: rollupQuery(
        'The same for one output date: each timeline aggregated once; values are parameters',
        texts.oneDateFromFacts,
      ),
      [S.queryWeeklyFromFacts]: rollupQuery(
        'The same for dates a week apart: running values over weekly sums; values are parameters',
        texts.weeklyFromFacts,
      ),
      [S.query]: rollupQuery('The full recompute from raw events; every value is an execution parameter', texts.full),
      [S.publish]: lambdaTask(
        step(
          EXPORT_STEPS.publishCompanyExport,
          'Re-encode the result as the export CSV in the exports bucket and complete the job',
        ),
        {
          ResultPath: '$.published',
          TimeoutSeconds: 900,
          Retry: retry(LAMBDA_TRANSIENT),
          Catch: catchAll(S.fail),
          Next: 'DeliverIfAutomatic',
        },
      ),
      DeliverIfAutomatic: {
        Type: 'Choice',
        Comment: 'Only the scheduled (automatic) exports carry $.delivery; a manual export ends here',
        Choices: [{ Variable: '$.delivery', IsPresent: true, Next: S.deliver }],
        Default: 'ExportSucceeded',
      },
      [S.deliver]: lambdaTask(
        step(
          EXPORT_STEPS.deliverCompanyExport,
          "Upload the CSV to the customer's S3-compatible bucket and record the run as successful",
        ),
        {
          ResultPath: '$.delivered',
          TimeoutSeconds: 900,
          Retry: retryCustomerBucket(),
          Catch: catchAll(S.fail),
          Next: 'ExportSucceeded',
        },
      ),
      ExportSucceeded: { Type: 'Succeed' },
      [S.fail]: lambdaTask(
        step(EXPORT_STEPS.failCompanyExport, 'Record the job as failed with a message a user can act on'),
        {
          ResultPath: null,
          TimeoutSeconds: 60,
          Retry: retry([...LAMBDA_TRANSIENT, 'States.TaskFailed']),
          Next: 'ExportFailed',
        },
      ),
      ExportFailed: {
        Type: 'Fail',
        Error: 'CompanyExportFailed',
        Cause: 'The company export failed; the job records why.',
      },
    },
  };
}

/** The company export workflow as the CDK deploys it and the local stack runs it. */
export function companyExportWorkflow(): ExportWorkflowSpec {
  const S = COMPANY_EXPORT_STATES;
  const trino = companyRollupTexts('trino');
  const duckdb = companyRollupTexts('duckdb');
  return {
    name: 'company-export',
    definition: companyExportDefinition(trino),
    placeholders: { stepsFunctionArn: STEPS_FUNCTION_ARN, ...ATHENA_PLACEHOLDERS },
    queries: {
      [S.queryFromFacts]: { trino: trino.fromFacts, duckdb: duckdb.fromFacts },
      [S.queryOneDateFromFacts]: { trino: trino.oneDateFromFacts, duckdb: duckdb.oneDateFromFacts },
      [S.queryWeeklyFromFacts]: { trino: trino.weeklyFromFacts, duckdb: duckdb.weeklyFromFacts },
      [S.query]: { trino: trino.full, duckdb: duckdb.full },
    },
    stepsTasks: [S.checkFacts, S.prepare, S.publish, S.deliver, S.fail],
    stepsLambda: 'export-steps',
    resultsPrefix: COMPANY_EXPORT_RESULTS_PREFIX,
  };
}
