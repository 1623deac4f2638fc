import { ENVIRONMENT_HEADER } from '../../contract/console.ts';
import type { EnvironmentStore } from '../../ports/environment-store.ts';
import type { SecretSource } from '../../ports/secret-source.ts';
import { NotFoundError, UnauthorizedError } from '../shared/errors.ts';
import { TtlCache } from '../shared/ttl-cache.ts';
import { API_KEY_PREFIX, type Environment, hashApiKey, type Plan, sameSecret } from './environments.ts';

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

export const ADMIN_NEEDS_ENVIRONMENT = `The admin token acts in one environment at a time on this route: send the header "${ENVIRONMENT_HEADER}: <environment_id>".`;
export const ADMIN_TOKEN_INVALID = 'The admin token is not valid.';
export const UNKNOWN_ENVIRONMENT = `No environment has the id given in the ${ENVIRONMENT_HEADER} header.`;

export interface EnvironmentAuthDeps {
  /** `get` is needed only when the admin token is accepted. */
  readonly environments: Pick<EnvironmentStore, 'findByApiKeyHash'> & Partial<Pick<EnvironmentStore, 'get'>>;
  /**
   * The admin token, which then also opens every `Token` route, acting in the
   * environment that the `Featurelake-Environment` header names (the console's admin).
   */
  readonly adminToken?: SecretSource;
  /** How long a found API key is remembered (capped at one minute). @default 30 s */
  readonly keyCacheMs?: number;
}

/** The request headers authentication reads (API Gateway lowercases their names). */
export type AuthHeaders = Readonly<Record<string, string | undefined>> | undefined;

/**
 * The one authentication of every `Token` route: `Authorization: Token <api_key>`
 * (seed 002), or `Authorization: Bearer <admin token>` with `Featurelake-Environment:
 * <environment_id>`. Resolves to the environment the request acts in; a failure is
 * seed 002's 401 (or a 404 naming the header for an unknown environment).
 */
export function environmentAuthenticator(deps: EnvironmentAuthDeps): (headers: AuthHeaders) => Promise<Environment> {
  const lookup = cachedApiKeyLookup((hash) => deps.environments.findByApiKeyHash(hash), { ttlMs: deps.keyCacheMs });
  return async (headers) => {
    const authorization = headers?.authorization;
    const bearer = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    const get = deps.environments.get?.bind(deps.environments);
    // An API key sent as Bearer (or a Lambda that takes no admin token) is told the Token form.
    if (bearer === undefined || bearer.startsWith(API_KEY_PREFIX) || !deps.adminToken || !get) {
      return authenticate(authorization, lookup);
    }
    if (!sameSecret(bearer, await deps.adminToken.value())) throw new UnauthorizedError(ADMIN_TOKEN_INVALID);
    const environmentId = headers?.[ENVIRONMENT_HEADER.toLowerCase()]?.trim();
    if (!environmentId) throw new UnauthorizedError(ADMIN_NEEDS_ENVIRONMENT);
    // An id is a UUID; anything far longer is no id (and no DynamoDB key).
    const environment = environmentId.length <= 128 ? await get(environmentId) : undefined;
    if (!environment) throw new NotFoundError(UNKNOWN_ENVIRONMENT, ENVIRONMENT_HEADER);
    return environment;
  };
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
  KEY_CACHES.add(new WeakRef(cache));
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

/** Every key cache of this process: a Lambda instance's, or all handlers' in the one process of the local stack. */
const KEY_CACHES = new Set<WeakRef<TtlCache<Environment>>>();

/**
 * Forgets a rotated-away key in every cache of this process at once: the Lambda
 * instance that rotated it (and the whole local stack) refuses it from the next
 * request; other warm instances within API_KEY_CACHE_MS.
 */
export function forgetApiKeyHash(apiKeyHash: string): void {
  for (const ref of KEY_CACHES) {
    const cache = ref.deref();
    if (cache) cache.delete(apiKeyHash);
    else KEY_CACHES.delete(ref);
  }
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
