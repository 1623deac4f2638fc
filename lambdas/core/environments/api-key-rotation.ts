import type { EnvironmentStore } from '../../ports/environment-store.ts';
import { ConflictError } from '../shared/errors.ts';
import { forgetApiKeyHash } from './api-auth.ts';
import { type Environment, hashApiKey, newApiKey } from './environments.ts';

export const KEY_CHANGED_MEANWHILE =
  'The API key of this environment was replaced by another request meanwhile: sign in with the newest key and try again.';

/**
 * `POST /api/v1/environment/api-key`: a new API key replaces the environment's
 * one (one conditional write on the hash the request was authenticated with), and
 * is shown this once. The old key stops working at once in this process (its
 * cached lookups are dropped) and within API_KEY_CACHE_MS on every other warm one.
 */
export async function rotateApiKey(
  store: Pick<EnvironmentStore, 'replaceApiKeyHash'>,
  environment: Environment,
): Promise<{ api_key: string }> {
  const apiKey = newApiKey();
  const replaced = await store.replaceApiKeyHash(
    environment.environment_id,
    environment.api_key_hash,
    hashApiKey(apiKey),
  );
  if (!replaced) throw new ConflictError(KEY_CHANGED_MEANWHILE);
  forgetApiKeyHash(environment.api_key_hash);
  return { api_key: apiKey };
}
