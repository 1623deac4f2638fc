import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, http, startTestStack } from '../support/local-stack.ts';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.cleanup();
});

const environment = (authorization?: string) =>
  http(`${stack.url}/api/v1/environment`, { headers: authorization ? { authorization } : {} });

describe('GET /api/v1/environment', () => {
  it("answers the key's own environment, never a key or its hash", async () => {
    const created = (await admin(stack).createEnvironment('Acme staging', 'enterprise')).body;
    const other = (await admin(stack).createEnvironment('Globex', 'free')).body;
    const response = await environment(`Token ${created.api_key}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      environment_id: created.environment_id,
      name: 'Acme staging',
      plan: 'enterprise',
      app_token: created.app_token,
      tracking_key: created.tracking_key,
    });
    expect((await environment(`Token ${other.api_key}`)).body.environment_id).toBe(other.environment_id);
  });

  it("refuses a missing or unknown key with seed 002's 401", async () => {
    const missing = await environment();
    expect(missing.status).toBe(401);
    expect(missing.body.errors[0].details).toBe(
      'The Authorization header is missing: send "Authorization: Token <api_key>".',
    );
    const unknown = await environment('Token fl_nope');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({
      errors: [
        {
          error: 'Unauthorized',
          error_code: '401',
          message: 'You are not authorized to perform the requested action.',
          details: 'The API token is not valid: no environment has this key.',
        },
      ],
    });
  });
});
