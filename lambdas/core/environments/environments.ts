import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** An environment as stored: the API key only as its hash. */
export interface Environment {
  environment_id: string;
  name: string;
  plan: Plan;
  app_token: string;
  tracking_key: string;
  api_key_hash: string;
  created_at: string;
}

/** What creating an environment returns: the only time the API key is shown. */
export interface CreatedEnvironment {
  environment_id: string;
  name: string;
  plan: Plan;
  app_token: string;
  tracking_key: string;
  api_key: string;
}

/** What the admin's list shows of each environment. */
export type ListedEnvironment = EnvironmentView & { created_at: string };

/** What an environment's key holder (or the admin) is shown of it: everything but the key's hash. */
export type EnvironmentView = Omit<Environment, 'api_key_hash' | 'created_at'>;

export function environmentView(environment: Environment): EnvironmentView {
  const { environment_id, name, plan, app_token, tracking_key } = environment;
  return { environment_id, name, plan, app_token, tracking_key };
}

export function listedEnvironment(environment: Environment): ListedEnvironment {
  return { ...environmentView(environment), created_at: environment.created_at };
}

export const createEnvironmentRequest = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  plan: z.enum(PLANS, { error: `must be one of ${PLANS.join(', ')}` }),
});

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(bytes: number): string {
  // Rejection sampling keeps every character equally likely.
  let out = '';
  while (out.length < bytes) {
    for (const b of randomBytes(bytes * 2)) {
      if (b < 248 && out.length < bytes) out += BASE62[b % 62];
    }
  }
  return out;
}

/**
 * API keys are 256 random bits, so a plain SHA-256 is enough to store them: there
 * is nothing to brute-force that a slow hash would protect (unlike passwords).
 */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** Every API key starts so (a tracking key, base62, never does): lets a key be looked up in its own index first. */
export const API_KEY_PREFIX = 'fl_';

/** A new secret API key: 256 random bits, with the prefix that tells it from a tracking key. */
export function newApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function newEnvironment(
  request: z.infer<typeof createEnvironmentRequest>,
  now: Date,
): { stored: Environment; created: CreatedEnvironment } {
  const environmentId = randomUUID();
  const apiKey = newApiKey();
  const common = {
    environment_id: environmentId,
    name: request.name,
    plan: request.plan,
    app_token: `FL-${randomBytes(4).toString('hex')}`,
    tracking_key: base62(24),
  };
  return {
    stored: { ...common, api_key_hash: hashApiKey(apiKey), created_at: now.toISOString() },
    created: { ...common, api_key: apiKey },
  };
}
