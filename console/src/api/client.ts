import createClient, { type Client } from 'openapi-fetch';
import { ENVIRONMENT_HEADER } from '../../../lambdas/contract/console.ts';
import type { Credentials } from '../session.ts';
import type { components, paths } from './schema.d.ts';

/** The API, typed by the generated schema (npm run console:api): every call the console makes goes through it. */
export type ApiClient = Client<paths>;

/** An environment as the API shows it (GET /api/v1/environment). */
export type EnvironmentView = paths['/api/v1/environment']['get']['responses'][200]['content']['application/json'];

export type ErrorBody = components['schemas']['ErrorBody'];

/**
 * A client for the signed-in credentials, on the console's own origin (the API and
 * the console share it, locally and behind CloudFront). An API key is sent as
 * `Token`; the admin token as `Bearer`, with the environment it acts in when given.
 */
export function apiClient(credentials: Credentials, environmentId?: string): ApiClient {
  const headers: Record<string, string> =
    credentials.kind === 'api-key'
      ? { Authorization: `Token ${credentials.apiKey}` }
      : { Authorization: `Bearer ${credentials.adminToken}` };
  if (credentials.kind === 'admin' && environmentId) headers[ENVIRONMENT_HEADER] = environmentId;
  return createClient<paths>({ baseUrl: window.location.origin, headers });
}
