/**
 * Names both sides of the deployment agree on: the CDK constructs in lib/ set
 * them, the handlers in lambdas/ read them. Nothing here has behaviour.
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

/**
 * The single DynamoDB state table. Items are keyed `pk`/`sk`; lookups by key go
 * through sparse GSIs so that creating an environment is one conditional write
 * (dynalite has no transactions, and neither do we need them).
 */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expires_at',
  byTrackingKey: { indexName: 'by-tracking-key', partitionKey: 'tracking_key' },
  byApiKeyHash: { indexName: 'by-api-key-hash', partitionKey: 'api_key_hash' },
} as const;

/** Which Lambda serves a route; the HTTP API and the local server both read ROUTES. */
export type HandlerName =
  | 'tracking'
  | 'admin'
  | 'health'
  | 'catalog'
  | 'company-exports'
  | 'automatic-exports'
  | 'events-exports';

/** Every Lambda: the route handlers, and the one behind the export workflows' Task states. */
export type LambdaName = HandlerName | 'export-steps' | 'export-dispatcher' | 'events-export-steps';

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway HTTP API path syntax: `{name}` is one path segment. */
  readonly path: string;
  readonly handler: HandlerName;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/health', handler: 'health' },
  { method: 'POST', path: '/admin/v1/environments', handler: 'admin' },
  { method: 'POST', path: '/admin/v1/sql', handler: 'admin' },
  { method: 'GET', path: '/api/v1/features', handler: 'catalog' },
  { method: 'PUT', path: '/api/v1/features/{id}', handler: 'catalog' },
  { method: 'GET', path: '/api/v1/features/{id}', handler: 'catalog' },
  { method: 'DELETE', path: '/api/v1/features/{id}', handler: 'catalog' },
  { method: 'GET', path: '/api/v1/segments', handler: 'catalog' },
  { method: 'PUT', path: '/api/v1/segments/{id}', handler: 'catalog' },
  { method: 'GET', path: '/api/v1/segments/{id}', handler: 'catalog' },
  { method: 'DELETE', path: '/api/v1/segments/{id}', handler: 'catalog' },
  { method: 'GET', path: '/api/v1/exclusions', handler: 'catalog' },
  { method: 'PUT', path: '/api/v1/exclusions', handler: 'catalog' },
  { method: 'POST', path: '/api/v1/company-exports', handler: 'company-exports' },
  { method: 'GET', path: '/api/v1/company-exports/jobs/{job_id}', handler: 'company-exports' },
  { method: 'PUT', path: '/api/v1/company-exports/automatic', handler: 'automatic-exports' },
  { method: 'GET', path: '/api/v1/company-exports/automatic', handler: 'automatic-exports' },
  { method: 'POST', path: '/admin/v1/scheduler/tick', handler: 'admin' },
  { method: 'POST', path: '/api/v1/analytics/exports', handler: 'events-exports' },
  { method: 'GET', path: '/api/v1/analytics/exports/jobs', handler: 'events-exports' },
  { method: 'GET', path: '/api/v1/analytics/exports/jobs/{job_id}', handler: 'events-exports' },
  { method: 'GET', path: '/api/v1/analytics/exports/jobs/{job_id}/files/{filename}', handler: 'events-exports' },
  // One route for every tracking method, so that an unknown method reaches the
  // handler and gets a 400 naming it, rather than API Gateway's bare 404.
  { method: 'POST', path: '/{trackingKey}/{method}', handler: 'tracking' },
];

/** Handler entry files, relative to the repository root. */
export const HANDLER_ENTRIES: Record<LambdaName, string> = {
  tracking: 'lambdas/handlers/tracking.ts',
  admin: 'lambdas/handlers/admin.ts',
  health: 'lambdas/handlers/health.ts',
  catalog: 'lambdas/handlers/catalog.ts',
  'company-exports': 'lambdas/handlers/company-exports.ts',
  'export-steps': 'lambdas/handlers/company-export-steps.ts',
  'automatic-exports': 'lambdas/handlers/automatic-exports.ts',
  'export-dispatcher': 'lambdas/handlers/export-dispatcher.ts',
  'events-exports': 'lambdas/handlers/events-exports.ts',
  'events-export-steps': 'lambdas/handlers/events-export-steps.ts',
};

/** Largest request body the tracking API accepts (bytes). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Most calls in one `bulk` request. */
export const MAX_BULK_CALLS = 1000;

/** Lambda's own ceiling for a function's timeout. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 15 * 60;

/**
 * Timeout of the two workflow-steps Lambdas (export-steps, events-export-steps):
 * Lambda's maximum, since a publish or a week file streams up to a GB in one call.
 * The CDK deploys it and the local stack gives their local invocations the same
 * budget (middy stops a handler when the budget runs out).
 */
export const WORKFLOW_STEPS_TIMEOUT_SECONDS = LAMBDA_MAX_TIMEOUT_SECONDS;

/**
 * Slack between an API starting an execution and the execution's own clock: a job
 * still `running` this long after its state machine's TimeoutSeconds has failed.
 */
export const WORKFLOW_DEADLINE_MARGIN_MS = 5 * 60 * 1000;
