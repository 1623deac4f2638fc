import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../bin/local.ts';
import { admin, http, tempHome } from '../support/local-stack.ts';
import { OpenApiExchangeValidator } from '../support/openapi-exchanges.ts';

/**
 * DESIGN "Input rules that keep the store safe", over the local stack as a client
 * reaches it: lone surrogates become U+FFFD (issue 9, finding 1), nesting is bounded
 * (finding 7), and the first accepted timestamp is the one the README states (finding 12).
 */

const ROOT = join(import.meta.dirname, '..', '..');
const FFFD = '\uFFFD';

let home: string;
let stack!: LocalStack;
/** Whether `stack` still needs closing (the last test closes it and starts another). */
let running = false;
let env: { environment_id: string; tracking_key: string; api_key: string };

const json = { 'content-type': 'application/json' };
const token = () => ({ authorization: `Token ${env.api_key}` });
/** Sends JSON text as written: `\ud800` in it is the six-character escape a client sends. */
const postRaw = (method: string, raw: string) =>
  http(`${stack.url}/${env.tracking_key}/${method}`, { headers: json, raw });
const fieldsOf = (body: any): string[] => body.errors.map((e: { field: string }) => e.field);

/** Every exchange of both starts, checked against the OpenAPI document. */
const exchanges = new OpenApiExchangeValidator();

beforeAll(async () => {
  home = await tempHome();
  stack = await startLocalStack({ home, port: 0, observeExchanges: exchanges.observe });
  running = true;
  env = (await admin(stack).createEnvironment('input-rules', 'enterprise')).body;
});
afterAll(async () => {
  if (running) await stack.close();
  await rm(home, { recursive: true, force: true });
  exchanges.assertNone();
});

describe('lone UTF-16 surrogates are stored as U+FFFD (finding 1)', () => {
  it("the issue's reproduction is accepted, and the store keeps answering queries", async () => {
    const response = await postRaw('event', '{"event":"x\\ud800","userId":"u"}');
    expect(response.status, response.text).toBe(200);
    const rows = await admin(stack).sql('SELECT event_name FROM events WHERE app_id = ? AND user_id = ?', [
      env.environment_id,
      'u',
    ]);
    expect(rows).toEqual([{ event_name: `x${FFFD}` }]);
  });

  it('in every string of every tracking method and of bulk, attribute keys and nested values included', async () => {
    const calls: Array<[string, string]> = [
      [
        'event',
        '{"event":"e\\udfff","userId":"s-user\\ud800","companyId":"c\\udbff","messageId":"m-event\\ud800",' +
          '"attributes":{"k\\ud800":"v\\udc00","nested":{"deep\\udfff":["a\\ud83d","\\ude00b"]},"pair":"\\ud83d\\ude00"}}',
      ],
      ['user', '{"userId":"s-user\\ud800","messageId":"m-user","attributes":{"\\ud800":1,"__proto__":{"x\\udfff":2}}}'],
      ['company', '{"companyId":"c\\udbff","userId":"s-user\\ud800","messageId":"m-company"}'],
      ['feedback', '{"featureId":"f\\ud800","userId":"s-user\\ud800","comment":"ok\\udc00","messageId":"m-feedback"}'],
      ['bulk', '[{"type":"event","event":"b\\ud800","userId":"s-user\\ud800","messageId":"m-bulk\\udfff"}]'],
    ];
    for (const [method, raw] of calls) {
      const response = await postRaw(method, raw);
      expect(response.status, `${method}: ${response.text}`).toBe(200);
    }
    const rows = await admin(stack).sql<Record<string, string | null>>(
      `SELECT event_id, event_name, user_id, company_id, feature_id, comment, attributes
       FROM events WHERE app_id = ? AND user_id = ? ORDER BY event_id`,
      [env.environment_id, `s-user${FFFD}`],
    );
    expect(rows).toEqual([
      {
        event_id: `m-bulk${FFFD}`,
        event_name: `b${FFFD}`,
        user_id: `s-user${FFFD}`,
        company_id: null,
        feature_id: null,
        comment: null,
        attributes: null,
      },
      {
        event_id: 'm-company',
        event_name: null,
        user_id: `s-user${FFFD}`,
        company_id: `c${FFFD}`,
        feature_id: null,
        comment: null,
        attributes: null,
      },
      {
        event_id: `m-event${FFFD}`,
        event_name: `e${FFFD}`,
        user_id: `s-user${FFFD}`,
        company_id: `c${FFFD}`,
        feature_id: null,
        comment: null,
        attributes: JSON.stringify({
          [`k${FFFD}`]: `v${FFFD}`,
          nested: { [`deep${FFFD}`]: [`a${FFFD}`, `${FFFD}b`] },
          pair: '\u{1F600}',
        }),
      },
      {
        event_id: 'm-feedback',
        event_name: null,
        user_id: `s-user${FFFD}`,
        company_id: null,
        feature_id: `f${FFFD}`,
        comment: `ok${FFFD}`,
        attributes: null,
      },
      {
        event_id: 'm-user',
        event_name: null,
        user_id: `s-user${FFFD}`,
        company_id: null,
        feature_id: null,
        comment: null,
        // `__proto__` stays a plain key, its own keys repaired too.
        attributes: `{"${FFFD}":1,"__proto__":{"x${FFFD}":2}}`,
      },
    ]);
  });

  it('in the catalog: names, event names, filter attributes and values, exclusions; a company export still runs', async () => {
    const put = (path: string, raw: string) =>
      http(`${stack.url}${path}`, { method: 'PUT', headers: { ...json, ...token() }, raw });
    const feature = await put(
      '/api/v1/features/f1',
      '{"name":"Reports\\ud800","type":"event","event_names":["e\\udfff","x\\ud800"]}',
    );
    expect(feature.status, feature.text).toBe(201);
    expect(feature.body).toMatchObject({ name: `Reports${FFFD}`, event_names: [`e${FFFD}`, `x${FFFD}`] });
    const segment = await put(
      '/api/v1/segments/s1',
      '{"name":"S\\udc00","filters":[{"attribute":"plan\\ud800","operator":"in","value":["a\\ud800",{"k\\udfff":1}]}]}',
    );
    expect(segment.status, segment.text).toBe(201);
    expect(segment.body.filters).toEqual([
      { attribute: `plan${FFFD}`, operator: 'in', value: [`a${FFFD}`, { [`k${FFFD}`]: 1 }] },
    ]);
    const exclusions = await put('/api/v1/exclusions', '{"user_ids":["u\\ud800"],"company_ids":["c\\udfff"]}');
    expect(exclusions.status, exclusions.text).toBe(200);
    expect(exclusions.body).toEqual({ user_ids: [`u${FFFD}`], company_ids: [`c${FFFD}`] });

    const started = await http(`${stack.url}/api/v1/company-exports`, {
      headers: token(),
      body: { aggregation: 'today' },
    });
    expect(started.status, started.text).toBe(202);
    await stack.workflowsIdle();
    const job = await http(`${stack.url}${started.body.links}`, { headers: token() });
    expect(job.body, job.text).toMatchObject({ status: 'completed', error: null });
    // Events of the first test count for the feature "Reports\uFFFD" through the repaired event name.
    const csv = await (await fetch(job.body.download_url)).text();
    expect(csv).toContain(`Reports${FFFD}`);
  });
});

describe('nesting is bounded (finding 7)', () => {
  const nested = (levels: number, leaf = '1') => `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;

  it('attributes nested 5,000 levels get a 400 naming attributes, not a 500', async () => {
    const response = await postRaw('event', `{"event":"deep","userId":"deep-user","attributes":${nested(5000)}}`);
    expect(response.status, response.text).toBe(400);
    expect(response.body.errors).toEqual([
      expect.objectContaining({ field: 'attributes', details: 'attributes: nests deeper than 64 levels' }),
    ]);
  });

  it('names the bulk item and field, and the body for nesting outside any field', async () => {
    const bulk = await postRaw(
      'bulk',
      `[{"type":"user","userId":"ok"},{"type":"event","event":"e","userId":"u","attributes":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}]`,
    );
    expect(bulk.status, bulk.text).toBe(400);
    expect(fieldsOf(bulk.body)).toEqual(['[1].attributes']);
    const arrays = await postRaw('bulk', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(arrays.status, arrays.text).toBe(400);
    expect(fieldsOf(arrays.body)).toEqual(['[0]']);
  });

  it('accepts attributes nested exactly 64 levels and stores them whole', async () => {
    const response = await postRaw('event', `{"event":"deep","userId":"deep-64","attributes":${nested(63, '"leaf"')}}`);
    expect(response.status, response.text).toBe(200);
    const [row] = await admin(stack).sql<{ attributes: string }>(
      'SELECT attributes FROM events WHERE app_id = ? AND user_id = ?',
      [env.environment_id, 'deep-64'],
    );
    expect(row?.attributes).toBe(nested(63, '"leaf"'));
  });

  it('bounds the catalog and export bodies the same way', async () => {
    const segment = await http(`${stack.url}/api/v1/segments/deep`, {
      method: 'PUT',
      headers: { ...json, ...token() },
      raw: `{"name":"Deep","filters":[{"attribute":"a","operator":"eq","value":${nested(5000)}}]}`,
    });
    expect(segment.status, segment.text).toBe(400);
    expect(fieldsOf(segment.body)).toEqual(['filters']);
    const exportJob = await http(`${stack.url}/api/v1/analytics/exports`, {
      headers: { ...json, ...token() },
      raw: `{"from":"2025-01-01","to":"2025-01-02","user_id":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    });
    expect(exportJob.status, exportJob.text).toBe(400);
    expect(fieldsOf(exportJob.body)).toEqual(['user_id']);
  });

  it('caps the size of the small JSON bodies (exports, settings, admin) that API Gateway would pass up to 10 MB', async () => {
    // Megabytes of brackets cost JSON.parse seconds; these bodies are a few hundred bytes.
    const response = await http(`${stack.url}/api/v1/company-exports`, {
      headers: { ...json, ...token() },
      raw: `{"aggregation":"today","padding":${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}}`,
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.errors[0]).toMatchObject({
      field: 'body',
      details: expect.stringMatching(/limit is 262144 bytes/),
    });
  });
});

describe('the first accepted timestamp is the one the README states (finding 12)', () => {
  it('a call dated on that day is accepted and the day before is a 400 naming timestamp', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const stated = /not before (\d{4}-\d{2}-\d{2})/.exec(readme)?.[1];
    expect(stated, 'the README states the first accepted date').toBeDefined();
    const first = stated as string;
    const dayBefore = new Date(Date.parse(`${first}T00:00:00Z`) - 1).toISOString();
    const accepted = await http(`${stack.url}/${env.tracking_key}/user`, {
      body: { userId: 'first-day', timestamp: `${first}T00:00:00Z` },
    });
    expect(accepted.status, accepted.text).toBe(200);
    const refused = await http(`${stack.url}/${env.tracking_key}/user`, {
      body: { userId: 'first-day', timestamp: dayBefore },
    });
    expect(refused.status, refused.text).toBe(400);
    expect(fieldsOf(refused.body)).toEqual(['timestamp']);
    const [row] = await admin(stack).sql('SELECT dt FROM events WHERE app_id = ? AND user_id = ?', [
      env.environment_id,
      'first-day',
    ]);
    expect(row).toEqual({ dt: first });
  });
});

describe('after all of it', () => {
  it('the stack stops, starts again on the same data, and answers queries', async () => {
    const before = await admin(stack).sql<{ n: number }>('SELECT count(*) AS n FROM events WHERE app_id = ?', [
      env.environment_id,
    ]);
    running = false;
    await stack.close();
    stack = await startLocalStack({ home, port: 0, observeExchanges: exchanges.observe });
    running = true;
    const after = await admin(stack).sql<{ n: number }>('SELECT count(*) AS n FROM events WHERE app_id = ?', [
      env.environment_id,
    ]);
    expect(after).toEqual(before);
    expect(before[0]?.n).toBeGreaterThan(5);
  });
});
