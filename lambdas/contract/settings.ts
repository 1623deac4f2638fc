/**
 * The Lambdas' settings: which environment variables each Lambda is given. The
 * CDK constructs in lib/ give them (HandlerFunction checks the list at synth),
 * the handlers read them (lambdas/config.ts, once, failing fast).
 */
import type { LambdaName } from './lambdas.ts';

/** The environment variable of each setting. */
export const ENV = {
  stateTable: 'FEATURELAKE_STATE_TABLE',
  eventStream: 'FEATURELAKE_EVENT_STREAM',
  adminSecretArn: 'FEATURELAKE_ADMIN_SECRET_ARN',
  athenaWorkgroup: 'FEATURELAKE_ATHENA_WORKGROUP',
  glueDatabase: 'FEATURELAKE_GLUE_DATABASE',
  lakeBucket: 'FEATURELAKE_LAKE_BUCKET',
  exportsBucket: 'FEATURELAKE_EXPORTS_BUCKET',
  companyExportStateMachineArn: 'FEATURELAKE_COMPANY_EXPORT_STATE_MACHINE_ARN',
  eventsExportStateMachineArn: 'FEATURELAKE_EVENTS_EXPORT_STATE_MACHINE_ARN',
  dailyFactsStateMachineArn: 'FEATURELAKE_DAILY_FACTS_STATE_MACHINE_ARN',
  /** The Athena workgroup of the daily facts build (its own scan cutoff and results prefix). */
  dailyFactsWorkgroup: 'FEATURELAKE_DAILY_FACTS_WORKGROUP',
  /** The verified SES identity export notifications are sent from. */
  emailFrom: 'FEATURELAKE_EMAIL_FROM',
  /**
   * featurelake's public base URL (the HTTP API's, or the `publicBaseUrl` context
   * parameter behind a custom domain), for the download links the API returns and emails.
   */
  publicApiUrl: 'FEATURELAKE_PUBLIC_API_URL',
  /** The secret whose value signs and checks download links. */
  downloadLinkSecretArn: 'FEATURELAKE_DOWNLOAD_LINK_SECRET_ARN',
  /** The KMS key that seals automatic-export bucket secrets. */
  exportSecretsKeyArn: 'FEATURELAKE_EXPORT_SECRETS_KEY_ARN',
  /**
   * `1`: company exports read the daily facts where they are current (docs/rollup.md,
   * "Daily facts"); `0`: the full recompute from raw events (the reference, and the fallback).
   */
  rollupFromFacts: 'FEATURELAKE_ROLLUP_FROM_FACTS',
} as const;

export type Setting = keyof typeof ENV;

/**
 * Every Lambda's settings: exactly the environment variables it is deployed
 * with, and all of them read when it starts.
 */
export const LAMBDA_SETTINGS = {
  tracking: ['stateTable', 'eventStream'],
  // companyExportStateMachineArn: POST /admin/v1/scheduler/tick starts automatic exports in this Lambda;
  // dailyFactsStateMachineArn: that tick, and POST /admin/v1/facts/build, start the daily facts build.
  admin: [
    'stateTable',
    'adminSecretArn',
    'athenaWorkgroup',
    'glueDatabase',
    'companyExportStateMachineArn',
    'dailyFactsStateMachineArn',
  ],
  health: [],
  // adminSecretArn: the admin token also opens every `Token` route (with the Featurelake-Environment header).
  catalog: ['stateTable', 'adminSecretArn'],
  'company-exports': [
    'stateTable',
    'adminSecretArn',
    'exportsBucket',
    'companyExportStateMachineArn',
    'publicApiUrl',
    'downloadLinkSecretArn',
  ],
  // dailyFactsStateMachineArn: an automatic export waits for its fire's facts build (DescribeExecution only);
  // rollupFromFacts: `0` switches the exports back to the full recompute.
  'export-steps': [
    'stateTable',
    'exportsBucket',
    'lakeBucket',
    'exportSecretsKeyArn',
    'dailyFactsStateMachineArn',
    'rollupFromFacts',
  ],
  'automatic-exports': ['stateTable', 'exportSecretsKeyArn', 'adminSecretArn'],
  'export-dispatcher': ['stateTable', 'companyExportStateMachineArn', 'dailyFactsStateMachineArn'],
  'events-exports': [
    'stateTable',
    'adminSecretArn',
    'exportsBucket',
    'eventsExportStateMachineArn',
    'publicApiUrl',
    'downloadLinkSecretArn',
  ],
  'events-export-steps': [
    'stateTable',
    'exportsBucket',
    'lakeBucket',
    'emailFrom',
    'publicApiUrl',
    'downloadLinkSecretArn',
  ],
  openapi: [],
  // rollupFromFacts: the STARS funnel reads the daily facts as the exports do (`0`: the full recompute).
  'lake-insights': ['stateTable', 'adminSecretArn', 'athenaWorkgroup', 'glueDatabase', 'lakeBucket', 'rollupFromFacts'],
  // dailyFactsWorkgroup: where the plan query runs.
  'facts-steps': ['stateTable', 'lakeBucket', 'dailyFactsWorkgroup', 'glueDatabase'],
} as const satisfies Record<LambdaName, readonly Setting[]>;

/** The settings of one Lambda. */
export type LambdaSetting<L extends LambdaName> = (typeof LAMBDA_SETTINGS)[L][number];

/** A value for each of one Lambda's settings. */
export type LambdaSettings<L extends LambdaName> = { readonly [S in LambdaSetting<L>]: string };
