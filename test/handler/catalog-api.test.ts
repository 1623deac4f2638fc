import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCatalogStore } from '../../lambdas/adapters/aws/dynamodb-catalog-store.ts';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { ApiGatewayServer, type LambdaHttpHandler } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { type HandlerName, ROUTES } from '../../lambdas/contract/routes.ts';

const CATALOG_ROUTES = ROUTES.filter((route) => route.handler === 'catalog');

import { MALFORMED_TOKEN, MISSING_TOKEN, UNKNOWN_TOKEN } from '../../lambdas/core/environments/api-auth.ts';
import { newEnvironment, type Plan } from '../../lambdas/core/environments/environments.ts';
import { makeHandler } from '../../lambdas/handlers/catalog.ts';
import { http, type InMemoryStateTable, inMemoryStateTable } from '../support/local-stack.ts';

const TABLE = 'catalog-test-state';
const START = new Date('2026-03-10T12:00:00.000Z');

let state: InMemoryStateTable;
let api: ApiGatewayServer;
let url: string;
let now = START;
const clock = { now: () => now };
let environments: DynamoDbEnvironmentStore;

beforeAll(async () => {
  // In memory: nothing of this test outlives it.
  state = await inMemoryStateTable(TABLE);
  const documents = state.documents;
  environments = new DynamoDbEnvironmentStore({ client: documents, tableName: TABLE });
  const handler = makeHandler({
    environments,
    catalog: new DynamoDbCatalogStore({ client: documents, tableName: TABLE }),
    clock,
  });
  // The handler map takes every HandlerName; this server routes only the catalog's.
  api = new ApiGatewayServer(CATALOG_ROUTES, { catalog: handler } as unknown as Record<HandlerName, LambdaHttpHandler>);
  url = await api.listen(0);
});

afterAll(async () => {
  await api?.close();
  await state?.close();
});

async function environment(plan: Plan = 'pro') {
  const { stored, created } = newEnvironment({ name: `env-${plan}`, plan }, START);
  await environments.create(stored);
  return { id: created.environment_id, key: created.api_key };
}

/** A client of the API with one environment's key. */
function as(key: string | undefined, headers: Record<string, string> = {}) {
  const auth: Record<string, string> = key === undefined ? {} : { authorization: `Token ${key}` };
  const call = (method: string, path: string, body?: unknown) =>
    http(`${url}${path}`, { method, headers: { ...auth, ...headers }, body });
  return {
    get: (path: string) => call('GET', path),
    put: (path: string, body: unknown) => call('PUT', path, body),
    del: (path: string) => call('DELETE', path),
    raw: (method: string, path: string, raw: string) =>
      http(`${url}${path}`, { method, headers: { ...auth, ...headers }, raw }),
  };
}

const unauthorized = (details: string) => ({
  errors: [
    {
      details,
      error: 'Unauthorized',
      error_code: '401',
      message: 'You are not authorized to perform the requested action.',
    },
  ],
});

const notFound = (message: string) => ({
  errors: [{ details: null, error: 'Resource not found', error_code: '404', message }],
});

const messaging = { name: 'Messaging', type: 'event', event_names: ['Sent message', 'Read message'] };

describe('Token auth', () => {
  it('refuses every catalog route without a valid token, with seed 002 bodies', async () => {
    const paths: Array<[string, string]> = [
      ['GET', '/api/v1/features'],
      ['PUT', '/api/v1/features/f1'],
      ['GET', '/api/v1/features/f1'],
      ['DELETE', '/api/v1/features/f1'],
      ['GET', '/api/v1/segments'],
      ['PUT', '/api/v1/segments/s1'],
      ['GET', '/api/v1/segments/s1'],
      ['DELETE', '/api/v1/segments/s1'],
      ['GET', '/api/v1/exclusions'],
      ['PUT', '/api/v1/exclusions'],
    ];
    expect(paths.map(([method, path]) => `${method} ${path.replace(/\/[fs]1$/, '/{id}')}`).sort()).toEqual(
      CATALOG_ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    for (const [method, path] of paths) {
      const response = await http(`${url}${path}`, { method, body: method === 'PUT' ? messaging : undefined });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.body).toEqual(unauthorized(MISSING_TOKEN));
    }
  });

  it('says whether the header is malformed or the token unknown', async () => {
    const { key } = await environment();
    const bearer = await http(`${url}/api/v1/features`, { headers: { authorization: `Bearer ${key}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.body).toEqual(unauthorized(MALFORMED_TOKEN));
    const wrong = await as(`${key}x`).get('/api/v1/features');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(unauthorized(UNKNOWN_TOKEN));
  });

  it('checks the token before anything else: a bad request with no token is a 401', async () => {
    const response = await as(undefined).put('/api/v1/features/bad%20id', { name: '' });
    expect(response.status).toBe(401);
  });

  it('serves the catalog on every plan, free included', async () => {
    const { key } = await environment('free');
    expect((await as(key).put('/api/v1/features/f1', messaging)).status).toBe(201);
    expect((await as(key).get('/api/v1/exclusions')).status).toBe(200);
  });
});

describe('features', () => {
  it('round-trips a feature: 201, then 200 keeping created_at, then 204 and 404', async () => {
    const api = as((await environment()).key);
    now = new Date('2026-03-10T12:00:00.000Z');
    const created = await api.put('/api/v1/features/messaging', messaging);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: 'messaging',
      name: 'Messaging',
      type: 'event',
      event_names: ['Sent message', 'Read message'],
      flag_checks: false,
      adoption: { min_active_days: 5, window_days: 28 },
      retention: { min_active_days: 1, window_days: 28 },
      created_at: '2026-03-10T12:00:00.000Z',
      updated_at: '2026-03-10T12:00:00.000Z',
    });
    expect(created.text.indexOf('"id"')).toBe(1);
    expect(await api.get('/api/v1/features/messaging')).toMatchObject({ status: 200, body: created.body });

    now = new Date('2026-03-11T08:30:00.000Z');
    const replaced = await api.put('/api/v1/features/messaging', {
      ...messaging,
      event_names: ['Sent message'],
      adoption: { min_active_days: 3, window_days: 14 },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      event_names: ['Sent message'],
      adoption: { min_active_days: 3, window_days: 14 },
      created_at: '2026-03-10T12:00:00.000Z',
      updated_at: '2026-03-11T08:30:00.000Z',
    });
    expect((await api.get('/api/v1/features/messaging')).body).toEqual(replaced.body);

    const deleted = await api.del('/api/v1/features/messaging');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const gone = await api.get('/api/v1/features/messaging');
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual(notFound('Failed to retrieve feature with id messaging: feature not found'));
    const again = await api.del('/api/v1/features/messaging');
    expect(again.status).toBe(404);
    expect(again.body).toEqual(notFound('Failed to delete feature with id messaging: feature not found'));
  });

  it('stores flag_checks (a feature of flag checks alone may list no event names), and names it when it is not a boolean', async () => {
    const api = as((await environment()).key);
    const flags = { name: 'Dark mode', type: 'event', event_names: [], flag_checks: true };
    const created = await api.put('/api/v1/features/dark-mode', flags);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(flags);
    expect((await api.get('/api/v1/features/dark-mode')).body).toEqual(created.body);
    expect((await api.get('/api/v1/features')).body.features).toEqual([created.body]);

    const bad = await api.put('/api/v1/features/dark-mode', { ...flags, flag_checks: 'true' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('flag_checks: must be true or false');
    const noUse = await api.put('/api/v1/features/dark-mode', { ...flags, flag_checks: false });
    expect(noUse.status).toBe(400);
    expect(noUse.text).toContain('event_names: must list at least one event name (or set flag_checks to true)');
    expect((await api.get('/api/v1/features/dark-mode')).body).toEqual(created.body);

    // Replaced by an attribute feature, the option goes with the event names.
    await api.put('/api/v1/features/dark-mode', {
      name: 'Paying',
      type: 'attribute',
      attribute: 'plan',
      operator: 'is_set',
    });
    expect((await api.get('/api/v1/features/dark-mode')).body).not.toHaveProperty('flag_checks');
  });

  it('turns an event feature into an attribute feature without leftovers', async () => {
    const api = as((await environment()).key);
    await api.put('/api/v1/features/paying', messaging);
    const attribute = { name: 'Paying', type: 'attribute', attribute: 'plan', operator: 'in', value: ['pro', 'team'] };
    expect((await api.put('/api/v1/features/paying', attribute)).status).toBe(200);
    const read = await api.get('/api/v1/features/paying');
    expect(read.body).not.toHaveProperty('event_names');
    expect(read.body).toMatchObject(attribute);
    await api.put('/api/v1/features/paying', messaging);
    const back = await api.get('/api/v1/features/paying');
    expect(Object.keys(back.body)).not.toContain('attribute');
    expect(back.body).toMatchObject(messaging);
  });

  it('lists every feature ordered by id, and never the environment record beside them', async () => {
    const api = as((await environment()).key);
    expect((await api.get('/api/v1/features')).body).toEqual({ features: [] });
    for (const id of ['b', 'a', 'B', '_x', '-1', 'a.b', 'a:b']) {
      await api.put(`/api/v1/features/${id}`, { ...messaging, name: `F ${id}` });
    }
    const list = await api.get('/api/v1/features');
    expect(list.status).toBe(200);
    expect(list.body.features.map((f: { id: string }) => f.id)).toEqual(['-1', 'B', '_x', 'a', 'a.b', 'a:b', 'b']);
    expect(list.body.features[0]).toMatchObject({ id: '-1', name: 'F -1', type: 'event' });
  });

  it('accepts ids with every allowed character, encoded or not', async () => {
    const api = as((await environment()).key);
    for (const id of ['v2.0:beta-flag_X', '...', '-', 'x'.repeat(128)]) {
      const put = await api.put(`/api/v1/features/${id}`, messaging);
      expect(put.status, id).toBe(201);
      expect(put.body.id).toBe(id);
      expect((await api.get(`/api/v1/features/${id}`)).body.id).toBe(id);
    }
    expect((await api.get('/api/v1/features/team%3Aone')).status).toBe(404);
    expect((await api.put('/api/v1/features/team%3Aone', messaging)).body.id).toBe('team:one');
    expect((await api.get('/api/v1/features/team:one')).status).toBe(200);
  });

  it('answers 400 naming each field, the path id included', async () => {
    const api = as((await environment()).key);
    const response = await api.put('/api/v1/features/bad%20id', {
      name: '',
      type: 'event',
      event_names: ['ok', '', 7],
      adoption: { min_active_days: 10, window_days: 7 },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'id',
      'name',
      'adoption.window_days',
      'event_names[1]',
      'event_names[2]',
    ]);
    expect(response.body.errors[3]).toEqual({
      error: 'Bad Request',
      error_code: '400',
      message: 'The request is invalid.',
      details: 'event_names[1]: must not be empty',
      field: 'event_names[1]',
    });
    for (const id of ['x'.repeat(129), 'caf%C3%A9', 'a%2Fb']) {
      const bad = await api.get(`/api/v1/features/${id}`);
      expect(bad.status, id).toBe(400);
      expect(bad.body.errors[0].field).toBe('id');
    }
    const attribute = await api.put('/api/v1/features/x', {
      name: 'x',
      type: 'attribute',
      attribute: 'seats',
      operator: 'gt',
      value: '10',
    });
    expect(attribute.body.errors).toEqual([
      expect.objectContaining({ field: 'value', details: 'value: must be a number for gt' }),
    ]);
    const notJson = await api.raw('PUT', '/api/v1/features/x', '{"name":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors[0].field).toBe('body');
  });

  it('reads a body API Gateway hands over base64-encoded', async () => {
    const api = as((await environment()).key, { 'content-type': 'application/octet-stream' });
    const response = await api.raw('PUT', '/api/v1/features/binary', JSON.stringify(messaging));
    expect(response.status).toBe(201);
    expect(response.body.event_names).toEqual(messaging.event_names);
  });
});

describe('segments', () => {
  const filters = [
    { attribute: 'plan', operator: 'eq', value: { tier: 'pro', seats: [1, 2] } },
    { attribute: 'seats', operator: 'gte', value: 1e300 },
    { attribute: 'region', operator: 'neq', value: null },
    { attribute: 'note', operator: 'contains', value: '' },
    { attribute: 'crm', operator: 'is_set' },
  ];

  it('round-trips filters with every JSON value exactly', async () => {
    const api = as((await environment()).key);
    const put = await api.put('/api/v1/segments/big-accounts', { name: 'Big accounts', filters, colour: 'red' });
    expect(put.status).toBe(201);
    const expected = {
      id: 'big-accounts',
      name: 'Big accounts',
      filters: [...filters.slice(0, 4), { attribute: 'crm', operator: 'is_set', value: null }],
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    expect(put.body).toEqual(expected);
    expect((await api.get('/api/v1/segments/big-accounts')).body).toEqual(expected);
    expect((await api.get('/api/v1/segments')).body).toEqual({ segments: [expected] });
  });

  it('keeps an empty filter list (every company), then replaces, deletes and 404s', async () => {
    const api = as((await environment()).key);
    expect((await api.put('/api/v1/segments/all', { name: 'All', filters: [] })).body.filters).toEqual([]);
    const replaced = await api.put('/api/v1/segments/all', { name: 'All (renamed)', filters: filters.slice(0, 1) });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: 'All (renamed)', filters: filters.slice(0, 1) });
    expect((await api.del('/api/v1/segments/all')).status).toBe(204);
    const gone = await api.get('/api/v1/segments/all');
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual(notFound('Failed to retrieve segment with id all: segment not found'));
    expect((await api.del('/api/v1/segments/all')).body).toEqual(
      notFound('Failed to delete segment with id all: segment not found'),
    );
  });

  it('names each bad filter field by its index', async () => {
    const api = as((await environment()).key);
    const response = await api.put('/api/v1/segments/s', {
      name: 'S',
      filters: [
        { attribute: 'plan', operator: 'eq', value: 'pro' },
        { attribute: 'plan', operator: 'in', value: 'pro' },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        field: 'filters[1].value',
        details: 'filters[1].value: must be an array of the values to match for in',
      }),
    ]);
  });

  it('lists every segment across DynamoDB pages (over 1 MB), in id order', async () => {
    const { id: environmentId, key } = await environment();
    const api = as(key);
    const padding = 'x'.repeat(120_000);
    const ids = Array.from({ length: 12 }, (_, i) => `seg-${String(11 - i).padStart(2, '0')}`);
    for (const id of ids) {
      const put = await api.put(`/api/v1/segments/${id}`, {
        name: id,
        filters: [{ attribute: 'note', operator: 'eq', value: padding }],
      });
      expect(put.status).toBe(201);
    }
    // The store must follow LastEvaluatedKey: one Query page does not hold them all.
    const firstPage = await state.documents.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': `ENV#${environmentId}`, ':p': 'SEGMENT#' },
      }),
    );
    expect(firstPage.LastEvaluatedKey).toBeDefined();
    const list = await api.get('/api/v1/segments');
    expect(list.body.segments.map((s: { id: string }) => s.id)).toEqual([...ids].sort());
    expect(
      list.body.segments.every((s: { filters: Array<{ value: string }> }) => s.filters[0]?.value === padding),
    ).toBe(true);
  });
});

describe('exclusions', () => {
  it('are empty until set, then replaced whole', async () => {
    const api = as((await environment()).key);
    expect(await api.get('/api/v1/exclusions')).toMatchObject({ status: 200, body: { user_ids: [], company_ids: [] } });
    const put = await api.put('/api/v1/exclusions', { user_ids: ['u1', 42, 'u1'], company_ids: ['internal'] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ user_ids: ['u1', '42'], company_ids: ['internal'] });
    expect((await api.get('/api/v1/exclusions')).body).toEqual(put.body);
    await api.put('/api/v1/exclusions', { user_ids: [], company_ids: ['c2'] });
    expect((await api.get('/api/v1/exclusions')).body).toEqual({ user_ids: [], company_ids: ['c2'] });
  });

  it('answers 400 naming the field', async () => {
    const api = as((await environment()).key);
    const response = await api.put('/api/v1/exclusions', { user_ids: ['ok', ''] });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual(['user_ids[1]', 'company_ids']);
  });
});

describe('environments are isolated', () => {
  it("one environment's key never reads or writes another's catalog", async () => {
    const a = as((await environment('enterprise')).key);
    const b = as((await environment('enterprise')).key);
    await a.put('/api/v1/features/shared-id', messaging);
    await a.put('/api/v1/segments/shared-id', { name: 'A only', filters: [] });
    await a.put('/api/v1/exclusions', { user_ids: ['a-user'], company_ids: [] });

    expect((await b.get('/api/v1/features/shared-id')).status).toBe(404);
    expect((await b.get('/api/v1/segments/shared-id')).status).toBe(404);
    expect((await b.get('/api/v1/features')).body).toEqual({ features: [] });
    expect((await b.get('/api/v1/segments')).body).toEqual({ segments: [] });
    expect((await b.get('/api/v1/exclusions')).body).toEqual({ user_ids: [], company_ids: [] });
    expect((await b.del('/api/v1/features/shared-id')).status).toBe(404);
    expect((await b.del('/api/v1/segments/shared-id')).status).toBe(404);

    // The same id in B is B's own: created, not a replace of A's.
    const own = await b.put('/api/v1/features/shared-id', { name: 'B feature', type: 'event', event_names: ['b'] });
    expect(own.status).toBe(201);
    await b.put('/api/v1/exclusions', { user_ids: ['b-user'], company_ids: [] });

    expect((await a.get('/api/v1/features/shared-id')).body).toMatchObject({ name: 'Messaging' });
    expect((await a.get('/api/v1/segments/shared-id')).status).toBe(200);
    expect((await a.get('/api/v1/exclusions')).body).toEqual({ user_ids: ['a-user'], company_ids: [] });
    expect((await b.get('/api/v1/features')).body.features.map((f: { name: string }) => f.name)).toEqual(['B feature']);
  });
});
