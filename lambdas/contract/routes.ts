/** Which Lambda serves a route; the HTTP API (lib/http-api.ts) and the local server both read ROUTES. */
export type HandlerName =
  | 'tracking'
  | 'admin'
  | 'health'
  | 'catalog'
  | 'company-exports'
  | 'automatic-exports'
  | 'events-exports'
  | 'openapi'
  | 'lake-insights';

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway HTTP API path syntax: `{name}` is one path segment. */
  readonly path: string;
  readonly handler: HandlerName;
}

/** `POST /user`, `/company`, … : seed 001's methods on single-segment paths. */
export const TRACKING_METHOD_PATHS = ['/user', '/company', '/event', '/events', '/feedback', '/bulk'] as const;

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
  { method: 'GET', path: '/api/v1/company-exports/jobs/{job_id}/files/{filename}', handler: 'company-exports' },
  { method: 'PUT', path: '/api/v1/company-exports/automatic', handler: 'automatic-exports' },
  { method: 'GET', path: '/api/v1/company-exports/automatic', handler: 'automatic-exports' },
  { method: 'POST', path: '/admin/v1/scheduler/tick', handler: 'admin' },
  { method: 'POST', path: '/admin/v1/facts/build', handler: 'admin' },
  { method: 'GET', path: '/admin/v1/facts/builds/{execution_name}', handler: 'admin' },
  { method: 'POST', path: '/api/v1/analytics/exports', handler: 'events-exports' },
  { method: 'GET', path: '/api/v1/analytics/exports/jobs', handler: 'events-exports' },
  { method: 'GET', path: '/api/v1/analytics/exports/jobs/{job_id}', handler: 'events-exports' },
  { method: 'GET', path: '/api/v1/analytics/exports/jobs/{job_id}/files/{filename}', handler: 'events-exports' },
  // One route for every tracking method, so that an unknown method reaches the
  // handler and gets a 400 naming it, rather than API Gateway's bare 404.
  { method: 'POST', path: '/{trackingKey}/{method}', handler: 'tracking' },
  // The tracking methods with the key in `Authorization: Bearer` or `?publishableKey=`
  // (Reflag's and Bucket's current SDKs; DESIGN "Tracking: SDK wire compatibility").
  ...TRACKING_METHOD_PATHS.map((path) => ({ method: 'POST' as const, path, handler: 'tracking' as const })),
  // What the SDKs call besides tracking. Static segments win over `{param}` ones
  // (API Gateway's rule; the local server keeps it), so `/features/events` is never
  // read as tracking key "features", method "events".
  { method: 'POST', path: '/features/events', handler: 'tracking' },
  { method: 'POST', path: '/feedback/prompt-events', handler: 'tracking' },
  { method: 'POST', path: '/{trackingKey}/feedback/prompt-events', handler: 'tracking' },
  { method: 'POST', path: '/feedback/prompting-init', handler: 'tracking' },
  { method: 'POST', path: '/{trackingKey}/feedback/prompting-init', handler: 'tracking' },
  { method: 'POST', path: '/flags/opt-in', handler: 'tracking' },
  { method: 'GET', path: '/features', handler: 'tracking' },
  { method: 'GET', path: '/features/evaluated', handler: 'tracking' },
  { method: 'GET', path: '/features/enabled', handler: 'tracking' },
  { method: 'GET', path: '/{trackingKey}/features/enabled', handler: 'tracking' },
  { method: 'GET', path: '/sse/client', handler: 'tracking' },
  { method: 'GET', path: '/openapi.json', handler: 'openapi' },
  // The console's reads of the lake (docs/console.md: Tracking and Features pages).
  { method: 'GET', path: '/api/v1/tracking/events', handler: 'lake-insights' },
  { method: 'GET', path: '/api/v1/tracking/unassociated', handler: 'lake-insights' },
  { method: 'GET', path: '/api/v1/stars-funnel', handler: 'lake-insights' },
  // The console's "who am I" after signing in with an API key (served by the admin Lambda, which holds the environment store).
  { method: 'GET', path: '/api/v1/environment', handler: 'admin' },
  { method: 'POST', path: '/api/v1/environment/api-key', handler: 'admin' },
  { method: 'GET', path: '/admin/v1/environments', handler: 'admin' },
];

/** Largest request body the tracking API accepts (bytes). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Most calls in one `bulk` request. */
export const MAX_BULK_CALLS = 1000;
