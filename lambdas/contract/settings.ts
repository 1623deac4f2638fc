/**
 * The Lambdas' settings: which environment variables the CDK constructs in lib/
 * set and the handlers read (parsed once, in lambdas/config.ts).
 */

/** Environment variables the Lambda handlers read (parsed in lambdas/config.ts). */
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
  /** The verified SES identity export notifications are sent from. */
  emailFrom: 'FEATURELAKE_EMAIL_FROM',
  /** The HTTP API's public base URL, for links in export notifications. */
  publicApiUrl: 'FEATURELAKE_PUBLIC_API_URL',
  /** The KMS key that seals automatic-export bucket secrets. */
  exportSecretsKeyArn: 'FEATURELAKE_EXPORT_SECRETS_KEY_ARN',
} as const;
