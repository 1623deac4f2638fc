import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, http, startTestStack } from '../support/local-stack.ts';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let trackingKey: string;
let appId: string;
let lake: ReturnType<typeof admin>;

beforeAll(async () => {
  stack = await startTestStack();
  lake = admin(stack);
  const created = await lake.createEnvironment('tracking-tests', 'pro');
  trackingKey = created.body.tracking_key;
  appId = created.body.environment_id;
});
afterAll(async () => {
  await stack?.cleanup();
});

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
  const fieldsOf = (body: any): string[] => body.errors.map((e: { field: string }) => e.field);
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
