/**
 * The pieces every export workflow's Amazon States Language document is built
 * from: one retry policy, one catch-all, a Task state that invokes a steps
 * Lambda and one that runs an Athena query. Documents use JSONPath only:
 * aws-local-stepfunctions ignores JSONata and variables.
 *
 * Each builder writes the fields it owns first and the caller's after them, in
 * the caller's order: the deployed DefinitionString is this text, key order
 * included.
 */
import type { WorkflowPlaceholder } from '../contract/workflow-spec.ts';

/** Lambda invoke errors that say the service, not the function, failed: worth a retry. */
export const LAMBDA_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
export const ATHENA_TRANSIENT = ['Athena.TooManyRequestsException', 'Athena.InternalServerException'];

/** Retrying helps only where a service was busy or briefly failing, never for a wrong query. */
export function retry(errors: readonly string[]): Record<string, unknown>[] {
  return [{ ErrorEquals: [...errors], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' }];
}

/** Any error goes to the failure-recording state, with the error under `$.failure` for it to read. */
export function catchAll(failState: string): Record<string, unknown>[] {
  return [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: failState }];
}

/** The placeholders the Athena query Task states use; each spec adds its steps Lambda's. */
export const ATHENA_PLACEHOLDERS = {
  glueDatabase: 'GlueDatabase',
  athenaWorkGroup: 'AthenaWorkGroup',
  resultsBucket: 'ResultsBucket',
} as const satisfies Partial<Record<WorkflowPlaceholder, string>>;

const placeholder = (name: string) => `\${${name}}`;

/** A Task state that invokes the steps Lambda (behind `functionArn`, a placeholder name) with `{ step, job }`. */
export function lambdaTask(
  task: { readonly functionArn: string; readonly step: string; readonly comment: string },
  fields: Record<string, unknown>,
): Record<string, unknown> {
  return {
    Type: 'Task',
    Comment: task.comment,
    Resource: placeholder(task.functionArn),
    Parameters: { step: task.step, 'job.$': '$' },
    ...fields,
  };
}

/**
 * A Task state that runs `queryString` in Athena (the workflow's workgroup and
 * database) with the execution parameters at `parametersPath`, and keeps only
 * where the result went, under `$.query`.
 */
export function athenaQueryTask(
  task: {
    readonly comment: string;
    /** The text, or an intrinsic that makes it from the state's input (`{'QueryString.$': …}`). */
    readonly queryString: string | { readonly 'QueryString.$': string };
    readonly parametersPath: string;
    readonly resultsPrefix: string;
  },
  fields: Record<string, unknown>,
): Record<string, unknown> {
  return {
    Type: 'Task',
    Comment: task.comment,
    Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
    Parameters: {
      ...(typeof task.queryString === 'string' ? { QueryString: task.queryString } : task.queryString),
      QueryExecutionContext: { Database: placeholder(ATHENA_PLACEHOLDERS.glueDatabase) },
      WorkGroup: placeholder(ATHENA_PLACEHOLDERS.athenaWorkGroup),
      ResultConfiguration: {
        OutputLocation: `s3://${placeholder(ATHENA_PLACEHOLDERS.resultsBucket)}/${task.resultsPrefix}`,
      },
      'ExecutionParameters.$': task.parametersPath,
    },
    ResultSelector: { 'output_location.$': '$.QueryExecution.ResultConfiguration.OutputLocation' },
    ResultPath: '$.query',
    TimeoutSeconds: 1800,
    Retry: retry(ATHENA_TRANSIENT),
    ...fields,
  };
}
