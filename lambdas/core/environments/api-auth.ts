import { UnauthorizedError } from '../shared/errors.ts';
import { TtlCache } from '../shared/ttl-cache.ts';
import { type Environment, hashApiKey, type Plan } from './environments.ts';

/**
 * `Authorization: Token <api_key>` (seed 002) for every `/api/v1/…` route, and
 * the plan gate of the export APIs. A failure is seed 002's 401 body, with
 * `details` saying what is wrong.
 */

/** Finds the environment whose API key hashes to the given value. */
export type ApiKeyLookup = (apiKeyHash: string) => Promise<Environment | undefined>;

export const MISSING_TOKEN = 'The Authorization header is missing: send "Authorization: Token <api_key>".';
export const MALFORMED_TOKEN = 'The Authorization header must be "Token <api_key>".';
export const UNKNOWN_TOKEN = 'The API token is not valid: no environment has this key.';

/** Extracts the key from `Token <api_key>` (scheme case-insensitive, as HTTP auth schemes are). */
export function apiKeyFromHeader(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') throw new UnauthorizedError(MISSING_TOKEN);
  const match = /^\s*Token\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) throw new UnauthorizedError(MALFORMED_TOKEN);
  return match[1];
}

/**
 * The environment the request's API key belongs to. Keys are looked up by their
 * SHA-256 (the only form the store holds), so the raw key is never a DynamoDB key.
 */
export async function authenticate(authorization: string | undefined, lookup: ApiKeyLookup): Promise<Environment> {
  const environment = await lookup(hashApiKey(apiKeyFromHeader(authorization)));
  if (!environment) throw new UnauthorizedError(UNKNOWN_TOKEN);
  return environment;
}

/**
 * How long a key's environment is remembered. Under a minute, so that a revoked
 * key or a changed plan takes effect within a minute on every warm Lambda.
 */
export const API_KEY_CACHE_MS = 30_000;

/**
 * Wraps a lookup with a short cache of the keys that were found. Unknown keys are
 * not remembered: a key created a moment ago works at once, and a client spraying
 * random tokens cannot flush the cache of real ones.
 */
export function cachedApiKeyLookup(
  lookup: ApiKeyLookup,
  options: { readonly ttlMs?: number; readonly now?: () => number } = {},
): ApiKeyLookup {
  // Capped, whatever the caller asks: the one-minute revocation promise holds everywhere.
  const ttlMs = Math.min(options.ttlMs ?? API_KEY_CACHE_MS, 60_000);
  const cache = new TtlCache<Environment>(ttlMs, 10_000, options.now);
  const notFound = Symbol('not found');
  return async (apiKeyHash) => {
    try {
      return await cache.get(apiKeyHash, async (hash) => {
        const environment = await lookup(hash);
        // Thrown, not returned, so that TtlCache does not keep the miss.
        if (!environment) throw notFound;
        return environment;
      });
    } catch (error) {
      if (error === notFound) return undefined;
      throw error;
    }
  };
}

/** Features of the product that not every plan includes. */
export type PlanFeature = 'exports' | 'automatic_exports';

/** Which plans include each gated feature (DESIGN "Environments and keys"). */
export const PLAN_FEATURES: Readonly<Record<PlanFeature, readonly Plan[]>> = {
  exports: ['pro', 'enterprise'],
  automatic_exports: ['enterprise'],
};

export function planAllows(plan: Plan, feature: PlanFeature): boolean {
  return PLAN_FEATURES[feature].includes(plan);
}

/** Throws seed 002's plan 401 unless the environment's plan includes `feature`. */
export function requirePlan(environment: Pick<Environment, 'plan' | 'app_token'>, feature: PlanFeature): void {
  if (!planAllows(environment.plan, feature)) {
    throw new UnauthorizedError(
      `Your current plan for application ${environment.app_token} does not support the feature you are trying to access.`,
    );
  }
}
