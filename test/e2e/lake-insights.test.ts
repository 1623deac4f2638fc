import { parse } from 'csv-parse/sync';
import { TrinoSQL } from 'dt-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RECENT_EVENTS_SQL,
  STARS_FUNNEL_STATES,
  starsFunnelSql,
  UNASSOCIATED_SQL,
} from '../../lambdas/core/insights/lake-insights.ts';
import { admin, http, startTestStack } from '../support/local-stack.ts';
import { randomRollupDataset } from '../support/rollup-data.ts';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
interface Env {
  environment_id: string;
  tracking_key: string;
  api_key: string;
}
let stack: Stack;
let a: Env;
let b: Env;
const dataset = randomRollupDataset(5);
const token = (env: Env) => ({ authorization: `Token ${env.api_key}` });
const get = (env: Env, path: string) => http<any>(`${stack.url}${path}`, { headers: token(env) });
const track = async (env: Env, method: string, body: unknown) => {
  const response = await http(`${stack.url}/${env.tracking_key}/${method}`, { body });
  expect(response.status, response.text).toBe(200);
};

beforeAll(async () => {
  stack = await startTestStack();
  const create = async (name: string, plan: 'pro' | 'free') =>
    (await admin(stack).createEnvironment(name, plan)).body as Env;
  a = await create('insights-a', 'pro');
  b = await create('insights-b', 'free');
});
afterAll(async () => {
  await stack?.cleanup();
});

describe('GET /api/v1/tracking/events', () => {
  it('answers the newest events first, as soon as they are accepted, and only the key’s own', async () => {
    await track(a, 'event', { event: 'Opened editor', userId: 'ua-1', companyId: 'ca-1' });
    await track(b, 'event', { event: 'B only', userId: 'ub-1' });
    const first = await get(a, '/api/v1/tracking/events');
    expect(first.status, first.text).toBe(200);
    expect(first.body.limit).toBe(50);
    expect(first.body.events.map((e: any) => e.event_name)).toEqual(['Opened editor']);
    expect(first.body.events[0]).toMatchObject({
      event_type: 'track',
      user_id: 'ua-1',
      company_id: 'ca-1',
      attributes: null,
      attributes_truncated: false,
      context_active: true,
      source: 'api',
    });

    await track(a, 'user', { userId: 'ua-2', attributes: { bio: 'x'.repeat(2000) } });
    // Received in another millisecond: two events of one millisecond have no newer one.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await track(a, 'event', { event: 'Sent message', userId: 1234567890, context: { active: false } });
    const second = await get(a, '/api/v1/tracking/events?limit=2');
    expect(second.status, second.text).toBe(200);
    expect(second.body.events.map((e: any) => [e.event_type, e.event_name, e.user_id])).toEqual([
      ['track', 'Sent message', '1234567890'],
      ['identify_user', null, 'ua-2'],
    ]);
    expect(second.body.events[0].context_active).toBe(false);
    expect(second.body.events[1].attributes).toHaveLength(500);
    expect(second.body.events[1].attributes_truncated).toBe(true);
    const times = second.body.events.map((e: any) => e.received_at);
    expect([...times].sort().reverse()).toEqual(times);

    const other = await get(b, '/api/v1/tracking/events?limit=200');
    expect(other.body.events.map((e: any) => e.event_name)).toEqual(['B only']);
  });

  it('refuses a bad limit with a 400 naming it, and a missing or wrong key with a 401', async () => {
    for (const limit of ['0', '201', 'abc', '1.5', '-1']) {
      const response = await get(a, `/api/v1/tracking/events?limit=${limit}`);
      expect(response.status, limit).toBe(400);
      expect(response.body.errors[0].field).toBe('limit');
    }
    expect((await http(`${stack.url}/api/v1/tracking/events`)).status).toBe(401);
    expect((await get({ ...a, api_key: 'not-a-key' }, '/api/v1/tracking/events')).status).toBe(401);
  });
});

describe('GET /api/v1/tracking/unassociated', () => {
  it('counts tracks whose user no company call ever carried, with the users listed', async () => {
    // ua-1 tracked with a companyId: associated. ux-2 is associated by a company call (the seed's way).
    await track(a, 'company', { companyId: 'ca-2', userId: 'ux-2', attributes: { name: 'Acme' } });
    await track(a, 'bulk', [
      { type: 'event', event: 'Orphan', userId: 'ux-1' },
      { type: 'event', event: 'Orphan', userId: 'ux-1' },
      { type: 'event', event: 'Orphan', userId: 'ux-1', messageId: 'retried' },
      { type: 'event', event: 'Orphan', userId: 'ux-1', messageId: 'retried' },
      { type: 'event', event: 'Associated later', userId: 'ux-2' },
      { type: 'event', event: 'Orphan', userId: 'ux-3' },
    ]);
    const response = await get(a, '/api/v1/tracking/unassociated');
    expect(response.status, response.text).toBe(200);
    // 1234567890's track above has no company either; a retried messageId counts once.
    expect(response.body).toMatchObject({ window_days: 30, unassociated_tracks: 5, unassociated_users: 3, limit: 50 });
    expect(response.body.users.map((u: any) => [u.user_id, u.tracks])).toEqual([
      ['ux-1', 3],
      ['1234567890', 1],
      ['ux-3', 1],
    ]);
    expect(Date.parse(response.body.users[0].last_seen)).toBeGreaterThan(Date.now() - 60_000);

    const top = await get(a, '/api/v1/tracking/unassociated?limit=1');
    expect(top.body).toMatchObject({ unassociated_tracks: 5, unassociated_users: 3 });
    expect(top.body.users).toHaveLength(1);

    // B's own orphan only; A's users never show there.
    const other = await get(b, '/api/v1/tracking/unassociated');
    expect(other.body).toMatchObject({ unassociated_tracks: 1, unassociated_users: 1 });
    expect(other.body.users.map((u: any) => u.user_id)).toEqual(['ub-1']);

    const bad = await get(a, '/api/v1/tracking/unassociated?limit=x');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('limit');
  });
});

describe('GET /api/v1/stars-funnel', () => {
  it('holds the counts of a today export with the same as_of, feature by feature', async () => {
    const env = (await admin(stack).createEnvironment('funnel', 'pro')).body as Env;
    for (const feature of dataset.catalog.features) {
      const { id, ...body } = feature;
      const put = await http(`${stack.url}/api/v1/features/${encodeURIComponent(id)}`, {
        method: 'PUT',
        headers: token(env),
        body,
      });
      expect(put.status, put.text).toBeLessThan(300);
    }
    for (const segment of dataset.catalog.segments) {
      const { id, ...body } = segment;
      await http(`${stack.url}/api/v1/segments/${encodeURIComponent(id)}`, {
        method: 'PUT',
        headers: token(env),
        body,
      });
    }
    const calls = dataset.batches.flatMap((batch) => batch.calls);
    for (let i = 0; i < calls.length; i += 500) await track(env, 'bulk', calls.slice(i, i + 500));
    const asOf = dataset.asOf.toISOString();

    const funnel = await get(env, `/api/v1/stars-funnel?as_of=${encodeURIComponent(asOf)}`);
    expect(funnel.status, funnel.text).toBe(200);
    expect(funnel.body.as_of).toBe(asOf);

    const started = await http<any>(`${stack.url}/api/v1/company-exports`, {
      headers: token(env),
      body: { aggregation: 'today', as_of: asOf },
    });
    expect(started.status, started.text).toBe(202);
    await stack.workflowsIdle();
    const job = await get(env, started.body.links);
    expect(job.body.status, job.text).toBe('completed');
    const redirect = await fetch(job.body.download_url, { redirect: 'manual' });
    const csv = await (await fetch(redirect.headers.get('location') as string)).text();
    const [header, ...rows] = parse(csv) as string[][];
    const idColumn = header?.indexOf('Feature ID') as number;
    const stateColumn = header?.indexOf('STARS State') as number;
    const expected = dataset.catalog.features.map((feature) => {
      const counts = { never: 0, tried: 0, retained: 0, churned: 0 };
      for (const row of rows) {
        if (row[idColumn] !== feature.id) continue;
        const state = STARS_FUNNEL_STATES[row[stateColumn] as string];
        if (state) counts[state] += 1;
      }
      return { feature_id: feature.id, feature_name: feature.name, ...counts };
    });
    const byId = (x: { feature_id: string }, y: { feature_id: string }) => (x.feature_id < y.feature_id ? -1 : 1);
    expect([...funnel.body.features].sort(byId)).toEqual(expected.sort(byId));
    // A comparison of empty funnels would prove nothing.
    const states = new Set(
      expected.flatMap((f) =>
        Object.entries(f)
          .filter(([k, v]) => k !== 'feature_id' && k !== 'feature_name' && Number(v) > 0)
          .map(([k]) => k),
      ),
    );
    expect(states.size).toBeGreaterThan(1);

    // Another environment's key sees its own (empty) catalog, never this one's.
    const other = await get(a, `/api/v1/stars-funnel?as_of=${encodeURIComponent(asOf)}`);
    expect(other.body.features).toEqual([]);
    const bad = await get(env, '/api/v1/stars-funnel?as_of=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('as_of');
  });
});

describe('the lake queries', () => {
  it('are valid Trino SQL, as Athena runs them', () => {
    const trino = new TrinoSQL();
    const funnels = [
      starsFunnelSql('trino'),
      starsFunnelSql('trino', { fromFacts: true, shape: 'one-date' }),
      starsFunnelSql('trino', { fromFacts: true, shape: 'dates' }),
      starsFunnelSql('trino', { fromFacts: true, shape: 'weeks' }),
    ];
    for (const sql of [RECENT_EVENTS_SQL, UNASSOCIATED_SQL, ...funnels]) {
      expect(trino.validate(sql)).toEqual([]);
    }
  });
});
