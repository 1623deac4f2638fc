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

const environment = (authorization?: string, headers: Record<string, string> = {}) =>
  http(`${stack.url}/api/v1/environment`, { headers: { ...headers, ...(authorization ? { authorization } : {}) } });
const bearer = () => `Bearer ${stack.adminToken}`;
const create = async (name: string, plan: 'free' | 'pro' | 'enterprise' = 'pro') =>
  (await admin(stack).createEnvironment(name, plan)).body;

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

describe('POST /api/v1/environment/api-key', () => {
  it('answers a new key, shown once; the old key is refused at once and the new one works everywhere', async () => {
    const env = await create('Rotating');
    // The old key is in the key caches of the Token handlers now.
    expect((await environment(`Token ${env.api_key}`)).status).toBe(200);
    expect(
      (await http(`${stack.url}/api/v1/features`, { headers: { authorization: `Token ${env.api_key}` } })).status,
    ).toBe(200);
    const rotated = await http(`${stack.url}/api/v1/environment/api-key`, {
      method: 'POST',
      headers: { authorization: `Token ${env.api_key}` },
    });
    expect(rotated.status).toBe(201);
    expect(Object.keys(rotated.body)).toEqual(['api_key']);
    expect(rotated.body.api_key).toMatch(/^fl_[\w-]{43}$/);
    expect(rotated.body.api_key).not.toBe(env.api_key);
    const refused = await environment(`Token ${env.api_key}`);
    expect(refused.status).toBe(401);
    expect(refused.body.errors[0].details).toBe('The API token is not valid: no environment has this key.');
    expect(
      (await http(`${stack.url}/api/v1/features`, { headers: { authorization: `Token ${env.api_key}` } })).status,
    ).toBe(401);
    expect((await environment(`Token ${rotated.body.api_key}`)).body.environment_id).toBe(env.environment_id);
    // The rotated-away key cannot rotate again.
    const again = await http(`${stack.url}/api/v1/environment/api-key`, {
      method: 'POST',
      headers: { authorization: `Token ${env.api_key}` },
    });
    expect(again.status).toBe(401);
  });

  it('lets the admin replace the key of the environment its header names', async () => {
    const env = await create('Admin rotates');
    const rotated = await http(`${stack.url}/api/v1/environment/api-key`, {
      method: 'POST',
      headers: { authorization: bearer(), 'featurelake-environment': env.environment_id },
    });
    expect(rotated.status).toBe(201);
    expect((await environment(`Token ${env.api_key}`)).status).toBe(401);
    expect((await environment(`Token ${rotated.body.api_key}`)).status).toBe(200);
  });
});

describe('the admin token on Token routes', () => {
  it('acts in the environment the Featurelake-Environment header names, on every Token route', async () => {
    const env = await create('Acted in', 'enterprise');
    const headers = { authorization: bearer(), 'featurelake-environment': env.environment_id };
    expect((await environment(bearer(), { 'featurelake-environment': env.environment_id })).body.name).toBe('Acted in');
    const put = await http(`${stack.url}/api/v1/features/admin-made`, {
      method: 'PUT',
      headers,
      body: { name: 'Admin made', type: 'event', event_names: ['x'] },
    });
    expect(put.status).toBe(201);
    // The environment's own key sees what the admin made there, and another environment does not.
    const own = await http(`${stack.url}/api/v1/features`, { headers: { authorization: `Token ${env.api_key}` } });
    expect(own.body.features.map((f: { id: string }) => f.id)).toEqual(['admin-made']);
    const other = await create('Not acted in');
    const theirs = await http(`${stack.url}/api/v1/features`, { headers: { authorization: `Token ${other.api_key}` } });
    expect(theirs.body.features).toEqual([]);
    expect((await http(`${stack.url}/api/v1/analytics/exports/jobs`, { headers })).status).toBe(200);
    expect((await http(`${stack.url}/api/v1/company-exports/automatic`, { headers })).status).toBe(200);
  });

  it('without the header is a 401 saying to send it; an unknown id a 404 naming the header; a wrong token a 401', async () => {
    const missing = await environment(bearer());
    expect(missing.status).toBe(401);
    expect(missing.body.errors[0].details).toBe(
      'The admin token acts in one environment at a time on this route: send the header "Featurelake-Environment: <environment_id>".',
    );
    const unknown = await environment(bearer(), { 'featurelake-environment': 'no-such-environment' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]).toMatchObject({
      field: 'Featurelake-Environment',
      message: 'No environment has the id given in the Featurelake-Environment header.',
    });
    const env = await create('Guarded');
    const wrong = await environment('Bearer not-the-admin-token', { 'featurelake-environment': env.environment_id });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors[0].details).toBe('The admin token is not valid.');
  });
});

describe('GET /admin/v1/environments', () => {
  it('lists every environment with its public keys, never an API key or its hash', async () => {
    const env = await create('Listed', 'free');
    const listed = await http(`${stack.url}/admin/v1/environments`, { headers: { authorization: bearer() } });
    expect(listed.status).toBe(200);
    const entry = listed.body.environments.find(
      (e: { environment_id: string }) => e.environment_id === env.environment_id,
    );
    expect(entry).toEqual({
      environment_id: env.environment_id,
      name: 'Listed',
      plan: 'free',
      app_token: env.app_token,
      tracking_key: env.tracking_key,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(listed.text).not.toContain('api_key');
    // The demo environment of the stack is listed too.
    expect(listed.body.environments.map((e: { name: string }) => e.name)).toContain('demo');
    expect(
      (await http(`${stack.url}/admin/v1/environments`, { headers: { authorization: `Token ${env.api_key}` } })).status,
    ).toBe(401);
  });
});
