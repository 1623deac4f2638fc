import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, http, startTestStack } from '../support/local-stack.ts';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let trackingKey: string;
let apiKey: string;
let appId: string;
let lake: ReturnType<typeof admin>;

beforeAll(async () => {
  stack = await startTestStack();
  lake = admin(stack);
  const created = await lake.createEnvironment('tracking-tests', 'pro');
  trackingKey = created.body.tracking_key;
  apiKey = created.body.api_key;
  appId = created.body.environment_id;
});
afterAll(async () => {
  await stack?.cleanup();
});

const fieldsOf = (body: any): string[] => body.errors.map((e: { field: string }) => e.field);

const post = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  http(`${stack.url}/${trackingKey}/${method}`, { headers, body });

/** The four example requests of seed 001, byte for byte as the seed shows them. */
const SEED_EXAMPLES = {
  user: `{
"userId": 1234567890,
"attributes": {
"name": "Rasmus Makwarth",
"custom_property": true,
"some_number": 12
}
}`,
  company: `{
"companyId": 101112231415,
"attributes": {
"name": "Acme Corp",
"monthly_spend": 99,
"activated": true
},
"userId": 1234567890
}`,
  event: `{
"event": "Sent message",
"userId": 1234567890,
"attributes": {
"position": "popover",
"version": 3
},
"companyId": "my_company_id"
}`,
  feedback: `{
"featureId": "my_feature_id",
"userId": 1234567890,
"companyId": 101112231415,
"score": 4,
"comment": "It's pretty nice, but I expect slightly more to be fully satisfied"
}`,
};

describe('seed 001 examples, sent verbatim', () => {
  it('each gets 200 and lands in events with its event_type, ids as strings and attributes intact', async () => {
    for (const [method, raw] of Object.entries(SEED_EXAMPLES)) {
      const response = await http(`${stack.url}/${trackingKey}/${method}`, {
        headers: { 'content-type': 'application/json' },
        raw,
      });
      expect(response.status, `${method}: ${response.text}`).toBe(200);
    }
    const rows = await lake.sql(
      `SELECT event_type, event_name, user_id, company_id, feature_id, score, comment, attributes, context_active, source
       FROM events WHERE app_id = ? ORDER BY received_at, event_type`,
      [appId],
    );
    const byType = Object.fromEntries(rows.map((r) => [r.event_type, r]));
    expect(Object.keys(byType).sort()).toEqual(['feedback', 'identify_company', 'identify_user', 'track']);
    expect(byType.identify_user).toMatchObject({
      user_id: '1234567890',
      company_id: null,
      context_active: true,
      source: 'api',
    });
    expect(JSON.parse(byType.identify_user?.attributes as string)).toEqual({
      name: 'Rasmus Makwarth',
      custom_property: true,
      some_number: 12,
    });
    expect(byType.identify_company).toMatchObject({ user_id: '1234567890', company_id: '101112231415' });
    expect(JSON.parse(byType.identify_company?.attributes as string)).toEqual({
      name: 'Acme Corp',
      monthly_spend: 99,
      activated: true,
    });
    expect(byType.track).toMatchObject({
      event_name: 'Sent message',
      user_id: '1234567890',
      company_id: 'my_company_id',
    });
    expect(JSON.parse(byType.track?.attributes as string)).toEqual({ position: 'popover', version: 3 });
    expect(byType.feedback).toMatchObject({
      feature_id: 'my_feature_id',
      user_id: '1234567890',
      company_id: '101112231415',
      score: 4,
      comment: "It's pretty nice, but I expect slightly more to be fully satisfied",
      attributes: null,
    });
  });
});

describe('accepted calls', () => {
  it('keeps the client timestamp (UTC), messageId as event_id, context.active=false, and partitions by the event date', async () => {
    const response = await post('event', {
      event: 'Opened report',
      userId: 'u-ts',
      timestamp: '2025-11-30T23:30:00-02:00',
      messageId: 'msg-ts-1',
      context: { active: false },
    });
    expect(response.status).toBe(200);
    const [row] = await lake.sql(
      `SELECT event_id, timestamp, dt, context_active FROM events WHERE app_id = ? AND user_id = 'u-ts'`,
      [appId],
    );
    expect(row).toEqual({
      event_id: 'msg-ts-1',
      timestamp: '2025-12-01T01:30:00.000Z',
      dt: '2025-12-01',
      context_active: false,
    });
  });

  it('accepts /events as an alias of /event', async () => {
    expect((await post('events', { event: 'Alias', userId: 'u-alias' })).status).toBe(200);
    const rows = await lake.sql(`SELECT event_type FROM events WHERE app_id = ? AND user_id = 'u-alias'`, [appId]);
    expect(rows).toEqual([{ event_type: 'track' }]);
  });

  it('stores __proto__ and constructor attribute keys as data', async () => {
    const raw =
      '{"userId":"u-proto","attributes":{"__proto__":{"isAdmin":true},"constructor":{"prototype":1},"plain":1}}';
    const response = await http(`${stack.url}/${trackingKey}/user`, {
      headers: { 'content-type': 'application/json' },
      raw,
    });
    expect(response.status).toBe(200);
    const [row] = await lake.sql<{ attributes: string }>(
      `SELECT attributes FROM events WHERE app_id = ? AND user_id = 'u-proto'`,
      [appId],
    );
    expect(row?.attributes).toBe('{"__proto__":{"isAdmin":true},"constructor":{"prototype":1},"plain":1}');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('takes a bulk array of mixed calls as one durable batch', async () => {
    const calls = [
      { type: 'user', userId: 'b1' },
      { type: 'company', companyId: 'bc', userId: 'b1', attributes: { name: 'Bulk Co' } },
      { type: 'event', event: 'Bulk thing', userId: 'b1' },
      { type: 'feedback', featureId: 'bf', userId: 'b1', comment: 'fine' },
    ];
    const response = await post('bulk', calls);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, accepted: 4 });
    const rows = await lake.sql(
      `SELECT event_type, source FROM events WHERE app_id = ? AND user_id = 'b1' ORDER BY event_type`,
      [appId],
    );
    expect(rows).toEqual([
      { event_type: 'feedback', source: 'bulk' },
      { event_type: 'identify_company', source: 'bulk' },
      { event_type: 'identify_user', source: 'bulk' },
      { event_type: 'track', source: 'bulk' },
    ]);
  });
});

describe('bad input: a 400 naming each failing field, and nothing stored', () => {
  const cases: Array<{
    name: string;
    method?: string;
    raw?: string;
    body?: unknown;
    headers?: Record<string, string>;
    fields: string[];
  }> = [
    { name: 'a body that is not JSON', raw: '{"userId": 1,', fields: ['body'] },
    {
      name: 'a wrong Content-Type',
      raw: '{"userId":"x"}',
      headers: { 'content-type': 'text/plain' },
      fields: ['Content-Type'],
    },
    { name: 'a missing required field', body: { attributes: {} }, fields: ['userId'] },
    { name: 'a missing event name', method: 'event', body: { userId: 'x' }, fields: ['event'] },
    { name: 'a wrong type', body: { userId: true }, fields: ['userId'] },
    { name: 'attributes that are not an object', body: { userId: 'x', attributes: ['a'] }, fields: ['attributes'] },
    {
      name: 'context.active that is not a boolean',
      body: { userId: 'x', context: { active: 'no' } },
      fields: ['context.active'],
    },
    {
      name: 'a score out of range',
      method: 'feedback',
      body: { featureId: 'f', userId: 'x', score: 6 },
      fields: ['score'],
    },
    {
      name: 'a fractional score',
      method: 'feedback',
      body: { featureId: 'f', userId: 'x', score: 3.5 },
      fields: ['score'],
    },
    {
      name: 'feedback with neither score nor comment',
      method: 'feedback',
      body: { featureId: 'f', userId: 'x' },
      fields: ['score'],
    },
    {
      name: 'a timestamp that is not ISO 8601',
      body: { userId: 'x', timestamp: 'last tuesday' },
      fields: ['timestamp'],
    },
    {
      name: 'a timestamp more than a day in the future',
      body: { userId: 'x', timestamp: new Date(Date.now() + 26 * 3600_000).toISOString() },
      fields: ['timestamp'],
    },
    { name: 'an unknown method', method: 'pageview', body: { userId: 'x' }, fields: ['method'] },
    {
      name: 'several problems at once',
      method: 'event',
      body: { userId: {}, attributes: 5 },
      fields: ['event', 'userId', 'attributes'],
    },
    {
      name: 'a bulk call with a bad element, named by its index',
      method: 'bulk',
      body: [{ type: 'user', userId: 'ok' }, { type: 'event', userId: 'x' }, { type: 'visit' }],
      fields: ['[1].event', '[2].type'],
    },
    {
      name: 'a bulk array over 1,000 calls',
      method: 'bulk',
      body: Array.from({ length: 1001 }, (_, i) => ({ type: 'user', userId: `big-${i}` })),
      fields: ['body'],
    },
    { name: 'a bulk body that is not an array', method: 'bulk', body: { type: 'user', userId: 'x' }, fields: ['body'] },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const method = c.method ?? 'user';
      const response =
        c.raw !== undefined
          ? await http(`${stack.url}/${trackingKey}/${method}`, {
              headers: { 'content-type': 'application/json', ...c.headers },
              raw: c.raw,
            })
          : await post(method, c.body, c.headers);
      expect(response.status, response.text).toBe(400);
      expect(fieldsOf(response.body)).toEqual(c.fields);
      for (const entry of (response.body as any).errors) {
        expect(entry).toMatchObject({ error: 'Bad Request', error_code: '400' });
        expect(entry.details).toMatch(new RegExp(`^${entry.field.replace(/[[\].]/g, '\\$&')}: .+`));
      }
    });
  }

  it('a body over 1 MB', async () => {
    const response = await post('user', { userId: 'big', attributes: { blob: 'x'.repeat(1024 * 1024) } });
    expect(response.status).toBe(400);
    expect(fieldsOf(response.body)).toEqual(['body']);
    expect((response.body as any).errors[0].details).toMatch(/1 MB/);
  });

  it('an unknown tracking key gets 404 naming the key', async () => {
    const response = await http(`${stack.url}/not-a-real-key/event`, { body: { event: 'x', userId: 'u' } });
    expect(response.status).toBe(404);
    expect(fieldsOf(response.body)).toEqual(['trackingKey']);
  });

  it('none of the rejected calls reached the lake', async () => {
    const rows = await lake.sql(
      `SELECT count(*) AS n FROM events WHERE app_id = ? AND (user_id IN ('x', 'big', 'ok') OR user_id LIKE 'big-%')`,
      [appId],
    );
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('environments are kept apart', () => {
  it("one environment's tracking key writes only into its own app_id", async () => {
    const other = await lake.createEnvironment('other', 'free');
    const response = await http(`${stack.url}/${other.body.tracking_key}/event`, {
      body: { event: 'Elsewhere', userId: 'iso-1' },
    });
    expect(response.status).toBe(200);
    const rows = await lake.sql(`SELECT app_id FROM events WHERE user_id = 'iso-1'`);
    expect(rows).toEqual([{ app_id: other.body.environment_id }]);
  });
});

describe('the key in a header or the query, on single-segment paths (the SDKs)', () => {
  const event = (userId: string) => ({ event: 'Keyed', userId });
  const rowsOf = (userIds: string[]) =>
    lake.sql(
      `SELECT user_id, event_type FROM events WHERE app_id = ? AND user_id IN (${userIds.map(() => '?').join(', ')}) ORDER BY user_id`,
      [appId, ...userIds],
    );

  it('Bearer tracking key, Bearer API key, publishableKey and the same key twice all land in the environment', async () => {
    const calls = [
      http(`${stack.url}/event`, { headers: { authorization: `Bearer ${trackingKey}` }, body: event('key-bearer') }),
      http(`${stack.url}/event`, { headers: { authorization: `Bearer ${apiKey}` }, body: event('key-secret') }),
      http(`${stack.url}/events?publishableKey=${trackingKey}`, { body: event('key-query') }),
      http(`${stack.url}/${trackingKey}/event?publishableKey=${trackingKey}`, {
        headers: { authorization: `bearer ${trackingKey}` },
        body: event('key-thrice'),
      }),
      http(`${stack.url}/user`, { headers: { authorization: `Bearer ${apiKey}` }, body: { userId: 'key-user' } }),
      http(`${stack.url}/company`, {
        headers: { authorization: `Bearer ${apiKey}` },
        body: { companyId: 'c', userId: 'key-company' },
      }),
      http(`${stack.url}/feedback`, {
        headers: { authorization: `Bearer ${trackingKey}` },
        body: { key: 'f', userId: 'key-feedback', score: 3, source: 'sdk' },
      }),
    ];
    for (const response of await Promise.all(calls)) {
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual({ success: true });
    }
    const bulk = await http(`${stack.url}/bulk`, {
      headers: { authorization: `Bearer ${apiKey}` },
      body: [{ type: 'user', userId: 'key-bulk' }],
    });
    expect(bulk.body).toEqual({ success: true, accepted: 1 });
    expect(
      await rowsOf([
        'key-bearer',
        'key-secret',
        'key-query',
        'key-thrice',
        'key-user',
        'key-company',
        'key-feedback',
        'key-bulk',
      ]),
    ).toEqual([
      { user_id: 'key-bearer', event_type: 'track' },
      { user_id: 'key-bulk', event_type: 'identify_user' },
      { user_id: 'key-company', event_type: 'identify_company' },
      { user_id: 'key-feedback', event_type: 'feedback' },
      { user_id: 'key-query', event_type: 'track' },
      { user_id: 'key-secret', event_type: 'track' },
      { user_id: 'key-thrice', event_type: 'track' },
      { user_id: 'key-user', event_type: 'identify_user' },
    ]);
  });

  it('two different keys: 400 naming both places; no key: 401; an unknown key: 404 naming its place', async () => {
    const other = (await lake.createEnvironment('other-key', 'free')).body.tracking_key;
    const clash = await http(`${stack.url}/event?publishableKey=${other}`, {
      headers: { authorization: `Bearer ${trackingKey}` },
      body: event('key-clash'),
    });
    expect(clash.status).toBe(400);
    expect(fieldsOf(clash.body)).toEqual(['publishableKey']);
    expect(clash.body.errors[0].details).toMatch(/Authorization/);
    const pathClash = await http(`${stack.url}/${trackingKey}/event`, {
      headers: { authorization: `Bearer ${other}` },
      body: event('key-clash'),
    });
    expect(pathClash.status).toBe(400);
    expect(pathClash.body.errors[0].details).toMatch(/^Authorization: .*path.*trackingKey/);

    const none = await http(`${stack.url}/event`, { body: event('key-none') });
    expect(none.status).toBe(401);
    expect(none.body.errors[0].details).toMatch(/Bearer/);

    const scheme = await http(`${stack.url}/event`, {
      headers: { authorization: `Token ${apiKey}` },
      body: event('x'),
    });
    expect(scheme.status).toBe(400);
    expect(fieldsOf(scheme.body)).toEqual(['Authorization']);

    const unknown = await http(`${stack.url}/event`, {
      headers: { authorization: 'Bearer fl_not-a-real-secret-key-of-any-environment' },
      body: event('key-unknown'),
    });
    expect(unknown.status).toBe(404);
    expect(fieldsOf(unknown.body)).toEqual(['Authorization']);
    expect(unknown.text).not.toContain('not-a-real-secret');
    const unknownQuery = await http(`${stack.url}/features/evaluated?publishableKey=nope`);
    expect(unknownQuery.status).toBe(404);
    expect(fieldsOf(unknownQuery.body)).toEqual(['publishableKey']);

    expect(await rowsOf(['key-clash', 'key-none', 'key-unknown'])).toEqual([]);
  });
});

describe('what the SDKs read and post besides tracking', () => {
  const bearer = () => ({ authorization: `Bearer ${apiKey}` });

  it('answers the start-up reads in the shapes the SDKs check', async () => {
    const features = await http(`${stack.url}/features`, { headers: bearer() });
    expect(features.status).toBe(200);
    expect(features.body).toEqual({ success: true, features: [], flagStateVersion: 0 });
    for (const path of ['features/evaluated', 'features/enabled']) {
      const response = await http(
        `${stack.url}/${path}?context.user.id=u1&publishableKey=${trackingKey}&reflag-sdk-version=browser-sdk%2F1.6.1`,
      );
      expect(response.status, path).toBe(200);
      expect(response.body).toEqual({ success: true, features: {}, flagStateVersion: 0 });
    }
    // @bucketco/tracking-sdk's getFeatureFlags (key in the path) reads `flags`.
    const bucketFlags = await http(`${stack.url}/${trackingKey}/features/enabled?context.user.id=u1`);
    expect(bucketFlags.body).toEqual({ success: true, flags: {} });
    const init = await http(`${stack.url}/feedback/prompting-init`, { headers: bearer(), body: { userId: 'u1' } });
    expect(init.body).toEqual({ success: true });
    const oldInit = await http(`${stack.url}/${trackingKey}/feedback/prompting-init`, { body: { userId: 'u1' } });
    expect(oldInit.body).toEqual({ success: true });
    const optIn = await http(`${stack.url}/flags/opt-in`, {
      headers: bearer(),
      body: { key: 'f', optedIn: true, scope: 'user', context: { user: { id: 'u1' } } },
    });
    expect(optIn.body).toEqual({ success: true, flagStateVersion: 0 });
    const sse = await http(`${stack.url}/sse/client?publishableKey=${trackingKey}&reflag-sdk-version=x`);
    expect(sse.status).toBe(204);
    expect(sse.text).toBe('');
  });

  it('stores flag events and prompt events posted to their own routes, and checks their fields', async () => {
    const flag = await http(`${stack.url}/features/events`, {
      headers: bearer(),
      body: { action: 'check', key: 'sdk-flag', evalResult: true, evalContext: { user: { id: 'sdk-u' } } },
    });
    expect(flag.status, flag.text).toBe(200);
    const prompt = await http(`${stack.url}/feedback/prompt-events`, {
      headers: bearer(),
      body: { action: 'shown', featureId: 'sdk-flag', userId: 'sdk-u', promptId: 'p', promptedQuestion: 'Q?' },
    });
    expect(prompt.status, prompt.text).toBe(200);
    const oldPrompt = await http(`${stack.url}/${trackingKey}/feedback/prompt-events`, {
      body: { action: 'dismissed', featureId: 'sdk-flag', userId: 'sdk-u' },
    });
    expect(oldPrompt.status, oldPrompt.text).toBe(200);
    const bad = await http(`${stack.url}/features/events`, { headers: bearer(), body: { key: 'sdk-flag' } });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['action']);
    const rows = await lake.sql(
      `SELECT event_type, event_name, feature_id, user_id, attributes, source FROM events
       WHERE app_id = ? AND feature_id = 'sdk-flag' ORDER BY event_type, event_name`,
      [appId],
    );
    expect(rows).toEqual([
      {
        event_type: 'feature_flag',
        event_name: 'check',
        feature_id: 'sdk-flag',
        user_id: 'sdk-u',
        attributes: JSON.stringify({ evalResult: true, evalContext: { user: { id: 'sdk-u' } } }),
        source: 'api',
      },
      {
        event_type: 'prompt_event',
        event_name: 'dismissed',
        feature_id: 'sdk-flag',
        user_id: 'sdk-u',
        attributes: null,
        source: 'api',
      },
      {
        event_type: 'prompt_event',
        event_name: 'shown',
        feature_id: 'sdk-flag',
        user_id: 'sdk-u',
        attributes: JSON.stringify({ promptId: 'p', promptedQuestion: 'Q?' }),
        source: 'api',
      },
    ]);
  });

  it('reads check the key as tracking does', async () => {
    expect((await http(`${stack.url}/features`)).status).toBe(401);
    expect((await http(`${stack.url}/features`, { headers: { authorization: 'Bearer nope' } })).status).toBe(404);
    expect((await http(`${stack.url}/sse/client?publishableKey=nope`)).status).toBe(404);
    const clash = await http(`${stack.url}/features/evaluated?publishableKey=${trackingKey}`, {
      headers: { authorization: 'Bearer another' },
    });
    expect(clash.status).toBe(400);
  });
});
