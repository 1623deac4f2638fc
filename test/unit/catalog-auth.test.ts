import { describe, expect, it } from 'vitest';
import {
  authenticate,
  cachedApiKeyLookup,
  MALFORMED_TOKEN,
  MISSING_TOKEN,
  requirePlan,
  UNKNOWN_TOKEN,
} from '../../lambdas/core/environments/api-auth.ts';
import { type Environment, hashApiKey, type Plan } from '../../lambdas/core/environments/environments.ts';
import { errorResponse, UnauthorizedError } from '../../lambdas/core/shared/errors.ts';

const KEY = 'fl_secret-key';
const environment = (plan: Plan = 'free'): Environment => ({
  environment_id: 'env-1',
  name: 'acme',
  plan,
  app_token: 'FL-51f4acf7',
  tracking_key: 'tk',
  api_key_hash: hashApiKey(KEY),
  created_at: '2026-01-01T00:00:00.000Z',
});

/** A lookup over a mutable key table, counting its calls (the stand-in for DynamoDB). */
function table(entries: Environment[]) {
  const byHash = new Map(entries.map((e) => [e.api_key_hash, e]));
  let calls = 0;
  return {
    byHash,
    calls: () => calls,
    lookup: async (hash: string) => {
      calls += 1;
      return byHash.get(hash);
    },
  };
}

async function unauthorized(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => {
      throw new Error('expected a 401');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  return errorResponse(error);
}

const seedBody = (details: string) => ({
  status: 401,
  body: {
    errors: [
      {
        details,
        error: 'Unauthorized',
        error_code: '401',
        message: 'You are not authorized to perform the requested action.',
      },
    ],
  },
});

describe('authenticate', () => {
  const keys = table([environment()]);

  it('finds the environment of `Token <api_key>`, by the key hash', async () => {
    await expect(authenticate(`Token ${KEY}`, keys.lookup)).resolves.toMatchObject({ environment_id: 'env-1' });
    await expect(authenticate(`token   ${KEY} `, keys.lookup)).resolves.toMatchObject({ environment_id: 'env-1' });
  });

  it('answers seed 002 401s whose details say what is wrong', async () => {
    expect(await unauthorized(authenticate(undefined, keys.lookup))).toEqual(seedBody(MISSING_TOKEN));
    expect(await unauthorized(authenticate('  ', keys.lookup))).toEqual(seedBody(MISSING_TOKEN));
    for (const header of [KEY, `Bearer ${KEY}`, 'Token', `Token ${KEY} extra`]) {
      expect(await unauthorized(authenticate(header, keys.lookup))).toEqual(seedBody(MALFORMED_TOKEN));
    }
    expect(await unauthorized(authenticate('Token fl_not-a-key', keys.lookup))).toEqual(seedBody(UNKNOWN_TOKEN));
  });
});

describe('cachedApiKeyLookup', () => {
  it('spares repeated lookups of a known key, and forgets a revoked key within a minute', async () => {
    const keys = table([environment()]);
    let now = 1_000_000;
    const lookup = cachedApiKeyLookup(keys.lookup, { now: () => now });
    await authenticate(`Token ${KEY}`, lookup);
    await authenticate(`Token ${KEY}`, lookup);
    expect(keys.calls()).toBe(1);

    keys.byHash.clear(); // the key is revoked
    now += 59_999;
    await unauthorized(authenticate(`Token ${KEY}`, lookup));
  });

  it('keeps to a minute even when asked for longer', async () => {
    const keys = table([environment()]);
    let now = 0;
    const lookup = cachedApiKeyLookup(keys.lookup, { ttlMs: 3_600_000, now: () => now });
    await authenticate(`Token ${KEY}`, lookup);
    keys.byHash.clear();
    now += 60_001;
    await unauthorized(authenticate(`Token ${KEY}`, lookup));
  });

  it('does not remember unknown keys, so a key made a moment later works at once', async () => {
    const keys = table([]);
    const lookup = cachedApiKeyLookup(keys.lookup);
    await unauthorized(authenticate(`Token ${KEY}`, lookup));
    keys.byHash.set(hashApiKey(KEY), environment());
    await expect(authenticate(`Token ${KEY}`, lookup)).resolves.toMatchObject({ environment_id: 'env-1' });
  });
});

describe('requirePlan', () => {
  const planDetails =
    'Your current plan for application FL-51f4acf7 does not support the feature you are trying to access.';

  it.each([
    ['free', 'exports', false],
    ['pro', 'exports', true],
    ['enterprise', 'exports', true],
    ['free', 'automatic_exports', false],
    ['pro', 'automatic_exports', false],
    ['enterprise', 'automatic_exports', true],
  ] as const)('%s plan, %s → allowed: %s', (plan, feature, allowed) => {
    const check = () => requirePlan(environment(plan), feature);
    if (allowed) {
      expect(check).not.toThrow();
      return;
    }
    try {
      check();
      expect.unreachable();
    } catch (error) {
      expect(errorResponse(error)).toEqual(seedBody(planDetails));
    }
  });
});
