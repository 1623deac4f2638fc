import { COMPANY_EXPORT_RESULTS_PREFIX } from '../../contract/exports.ts';
import { DELIVERY_ERRORS } from '../automatic-export/customer-bucket.ts';
import { COMPANY_EXPORT_TIME_LIMIT_SECONDS } from './job.ts';

/**
 * The company export workflow (seed 000, manual and automatic) as one Amazon States Language
 * document. The CDK deploys it with `definitionSubstitutions`; the local stack runs
 * the same document in aws-local-stepfunctions with local values substituted. It
 * uses JSONPath only: aws-local-stepfunctions ignores JSONata and variables.
 */

/** `${Name}` placeholders the document expects. */
export const COMPANY_EXPORT_SUBSTITUTIONS = [
  'ExportStepsFunctionArn',
  'GlueDatabase',
  'AthenaWorkGroup',
  'ResultsBucket',
] as const;
export type CompanyExportSubstitutions = Record<(typeof COMPANY_EXPORT_SUBSTITUTIONS)[number], string>;

/** Task state names: local handlers are keyed by them, so they are part of the contract. */
export const COMPANY_EXPORT_STATES = {
  prepare: 'PrepareRollupInputs',
  query: 'RunRollupQuery',
  publish: 'PublishCsv',
  /** Automatic exports only (the execution input has `delivery`): upload the CSV to the customer's bucket. */
  deliver: 'DeliverToCustomerBucket',
  fail: 'RecordFailure',
} as const;

/** The `step` values the export-steps Lambda dispatches on. */
export const EXPORT_STEPS = {
  prepareCompanyExport: 'prepare-company-export',
  publishCompanyExport: 'publish-company-export',
  failCompanyExport: 'fail-company-export',
  deliverCompanyExport: 'deliver-company-export',
} as const;

const LAMBDA_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** Retrying helps only where the service was busy or briefly failing, never for a wrong query. */
const retryTransient = (errors: string[]) => [
  { ErrorEquals: errors, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' },
];

/**
 * The customer's bucket may be briefly unavailable (throttling, 5xx, the network):
 * wait longer than for our own services, since it is someone else's. Its refusals
 * (keys, bucket, permissions) are never retried: only the user can fix them.
 */
const retryCustomerBucket = [
  ...retryTransient(LAMBDA_TRANSIENT),
  {
    ErrorEquals: [DELIVERY_ERRORS.retryable],
    IntervalSeconds: 30,
    MaxAttempts: 3,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
];

const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: COMPANY_EXPORT_STATES.fail }];

export function companyExportDefinition(rollupSql: string): Record<string, unknown> {
  const S = COMPANY_EXPORT_STATES;
  return {
    Comment: 'featurelake company feature-adoption export: rollup query over the lake, then the CSV',
    StartAt: S.prepare,
    TimeoutSeconds: COMPANY_EXPORT_TIME_LIMIT_SECONDS,
    States: {
      [S.prepare]: {
        Type: 'Task',
        Comment: 'Snapshot the catalog and the aggregation dates into the job inputs table',
        Resource: '${ExportStepsFunctionArn}',
        Parameters: { step: EXPORT_STEPS.prepareCompanyExport, 'job.$': '$' },
        ResultPath: '$.prepared',
        TimeoutSeconds: 120,
        Retry: retryTransient(LAMBDA_TRANSIENT),
        Catch: catchAll,
        Next: S.query,
      },
      [S.query]: {
        Type: 'Task',
        Comment: 'One rollup SQL text; every value is an execution parameter',
        Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
        Parameters: {
          QueryString: rollupSql,
          QueryExecutionContext: { Database: '${GlueDatabase}' },
          WorkGroup: '${AthenaWorkGroup}',
          ResultConfiguration: { OutputLocation: `s3://\${ResultsBucket}/${COMPANY_EXPORT_RESULTS_PREFIX}` },
          'ExecutionParameters.$': '$.prepared.athena_params',
        },
        ResultSelector: { 'output_location.$': '$.QueryExecution.ResultConfiguration.OutputLocation' },
        ResultPath: '$.query',
        TimeoutSeconds: 1800,
        Retry: retryTransient(['Athena.TooManyRequestsException', 'Athena.InternalServerException']),
        Catch: catchAll,
        Next: S.publish,
      },
      [S.publish]: {
        Type: 'Task',
        Comment: 'Re-encode the result as the export CSV in the exports bucket and complete the job',
        Resource: '${ExportStepsFunctionArn}',
        Parameters: { step: EXPORT_STEPS.publishCompanyExport, 'job.$': '$' },
        ResultPath: '$.published',
        TimeoutSeconds: 900,
        Retry: retryTransient(LAMBDA_TRANSIENT),
        Catch: catchAll,
        Next: 'DeliverIfAutomatic',
      },
      DeliverIfAutomatic: {
        Type: 'Choice',
        Comment: 'Only the scheduled (automatic) exports carry $.delivery; a manual export ends here',
        Choices: [{ Variable: '$.delivery', IsPresent: true, Next: S.deliver }],
        Default: 'ExportSucceeded',
      },
      [S.deliver]: {
        Type: 'Task',
        Comment: "Upload the CSV to the customer's S3-compatible bucket and record the run as successful",
        Resource: '${ExportStepsFunctionArn}',
        Parameters: { step: EXPORT_STEPS.deliverCompanyExport, 'job.$': '$' },
        ResultPath: '$.delivered',
        TimeoutSeconds: 900,
        Retry: retryCustomerBucket,
        Catch: catchAll,
        Next: 'ExportSucceeded',
      },
      ExportSucceeded: { Type: 'Succeed' },
      [S.fail]: {
        Type: 'Task',
        Comment: 'Record the job as failed with a message a user can act on',
        Resource: '${ExportStepsFunctionArn}',
        Parameters: { step: EXPORT_STEPS.failCompanyExport, 'job.$': '$' },
        ResultPath: null,
        TimeoutSeconds: 60,
        Retry: retryTransient([...LAMBDA_TRANSIENT, 'States.TaskFailed']),
        Next: 'ExportFailed',
      },
      ExportFailed: {
        Type: 'Fail',
        Error: 'CompanyExportFailed',
        Cause: 'The company export failed; the job records why.',
      },
    },
  };
}

/** Fills `${Name}` placeholders, as Step Functions does with definitionSubstitutions. */
export function substitute(
  definition: Record<string, unknown>,
  values: Record<string, string>,
): Record<string, unknown> {
  const text = JSON.stringify(definition).replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) return whole;
    return JSON.stringify(value).slice(1, -1);
  });
  return JSON.parse(text) as Record<string, unknown>;
}
