import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPANY_EXPORT_HEADER } from '../../lambdas/core/company-export/rollup/index.ts';
import { launchChromium, servePages, type WatchedPage, watchedPage } from '../support/browser.ts';
import { admin, http, startTestStack } from '../support/local-stack.ts';

/**
 * Bucket's and Reflag's browser SDKs, unmodified, in real headless Chromium, on a
 * page served from another origin than the API (issue 12): every call is
 * cross-origin, so Chromium enforces CORS, preflights included, as on a
 * customer's site. What they send must land in the lake and count in exports.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const sdkFile = (path: string) => readFile(join(ROOT, 'node_modules', path));

/** A customer's page running Reflag's browser SDK as its README shows, configured by the query string. */
const REFLAG_PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>Reflag browser SDK</title>
<script type="module">
  import { ReflagClient } from './reflag-browser-sdk.mjs';
  const params = new URLSearchParams(location.search);
  try {
    const reflag = new ReflagClient({
      publishableKey: params.get('publishableKey'),
      apiBaseUrl: params.get('apiBaseUrl'),
      user: { id: 'browser-user-1', name: 'Ada Lovelace', email: 'ada@example.com' },
      company: { id: 'browser-company-1', name: 'Acme Browser Co', plan: 'enterprise' },
    });
    await reflag.initialize();
    // Reading a flag sends a "check-is-enabled" event; featurelake evaluates no flags, so it is off.
    const flagEnabled = reflag.getFlag('huddle').isEnabled;
    const answers = [
      await reflag.track('Started huddle', { voice: true }),
      await reflag.track('Started huddle'),
      await reflag.feedback({ flagKey: 'huddle', score: 3, comment: 'Could be faster' }),
      await reflag.feedback({ flagKey: 'huddle', score: 4 }),
    ];
    // Flushes the queued user, company and check events to /bulk.
    await reflag.stop();
    window.result = { flagEnabled, statuses: answers.map((answer) => answer?.status) };
  } catch (error) {
    window.result = { error: String(error?.stack ?? error) };
  }
</script>`;

/** The same with Bucket's deprecated tracking SDK (keys in the path, a `bucket-sdk-version` header). */
const BUCKET_PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>Bucket tracking SDK</title>
<script src="./bucket-tracking-sdk.browser.js"></script>
<script type="module">
  const params = new URLSearchParams(location.search);
  try {
    bucket.init(params.get('trackingKey'), { host: params.get('host') });
    const answers = [
      await bucket.user('bucket-user-1', { name: 'Grace Hopper' }),
      await bucket.company('bucket-company-1', { name: 'Globex' }),
      await bucket.track('Started huddle', { voice: false }),
      await bucket.feedback({ featureId: 'huddle', score: 5, comment: 'Great' }),
    ];
    window.result = { statuses: answers.map((answer) => answer?.status) };
  } catch (error) {
    window.result = { error: String(error?.stack ?? error) };
  }
</script>`;

interface Env {
  environment_id: string;
  tracking_key: string;
  api_key: string;
}
interface PageResult {
  error?: string;
  flagEnabled?: boolean;
  statuses?: number[];
}
interface Row {
  event_type: string;
  event_name: string | null;
  user_id: string | null;
  company_id: string | null;
  feature_id: string | null;
  score: number | null;
  comment: string | null;
  attributes: string | null;
}

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let pages: Awaited<ReturnType<typeof servePages>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack();
  pages = await servePages({
    '/reflag.html': { contentType: 'text/html', body: REFLAG_PAGE },
    '/reflag-browser-sdk.mjs': {
      contentType: 'text/javascript',
      body: await sdkFile('@reflag/browser-sdk/dist/reflag-browser-sdk.mjs'),
    },
    '/bucket.html': { contentType: 'text/html', body: BUCKET_PAGE },
    '/bucket-tracking-sdk.browser.js': {
      contentType: 'text/javascript',
      body: await sdkFile('@bucketco/tracking-sdk/dist/bucket-tracking-sdk.browser.js'),
    },
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await stack?.cleanup();
});

async function createEnvironment(name: string): Promise<Env> {
  const created = await admin(stack).createEnvironment(name, 'pro');
  expect(created.status, created.text).toBe(201);
  const env = created.body as Env;
  // The catalog feature the SDKs' tracks and feedback are for.
  const put = await http(`${stack.url}/api/v1/features/huddle`, {
    method: 'PUT',
    headers: { authorization: `Token ${env.api_key}` },
    body: { name: 'Huddle', type: 'event', event_names: ['Started huddle'] },
  });
  expect(put.status, put.text).toBeLessThan(300);
  return env;
}

/** Opens `path` of the pages' origin and waits for its script to set `window.result`. */
async function runPage(path: string): Promise<{ watched: WatchedPage; result: PageResult }> {
  const watched = await watchedPage(browser);
  await watched.page.goto(`${pages.origin}${path}`);
  const handle = await watched.page.waitForFunction(() => (globalThis as { result?: unknown }).result, null, {
    timeout: 30_000,
  });
  const result = (await handle.jsonValue()) as PageResult;
  await watched.page.close();
  return { watched, result };
}

async function lakeRows(env: Env): Promise<Row[]> {
  return admin(stack).sql<Row>(
    `SELECT event_type, event_name, user_id, company_id, feature_id, score, comment, attributes
       FROM events WHERE app_id = ? ORDER BY event_type, timestamp, event_id`,
    [env.environment_id],
  );
}

const attributesOf = (row: Row | undefined) => JSON.parse(row?.attributes ?? 'null');

describe("Reflag's browser SDK (@reflag/browser-sdk) in Chromium, from another origin", () => {
  let env: Env;
  let outcome: { watched: WatchedPage; result: PageResult };

  beforeAll(async () => {
    env = await createEnvironment('reflag-browser');
    const query = new URLSearchParams({ publishableKey: env.tracking_key, apiBaseUrl: stack.url });
    expect(new URL(stack.url).origin).not.toBe(pages.origin);
    outcome = await runPage(`/reflag.html?${query}`);
  });

  it('runs cleanly: every call answered 200, no error or warning in the console, no blocked request', () => {
    expect(outcome.result.error).toBeUndefined();
    expect(outcome.result.statuses).toEqual([200, 200, 200, 200]);
    expect(outcome.result.flagEnabled).toBe(false);
    expect(outcome.watched.problems(), outcome.watched.console.join('\n')).toEqual([]);
  });

  it('lands the user, the company, the tracks, the feedback and the flag check in events', async () => {
    const rows = await lakeRows(env);
    const ofType = (type: string) => rows.filter((row) => row.event_type === type);

    expect(ofType('identify_user')).toEqual([expect.objectContaining({ user_id: 'browser-user-1', company_id: null })]);
    expect(attributesOf(ofType('identify_user')[0])).toEqual({ name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(ofType('identify_company')).toEqual([
      expect.objectContaining({ user_id: 'browser-user-1', company_id: 'browser-company-1' }),
    ]);
    expect(attributesOf(ofType('identify_company')[0])).toEqual({ name: 'Acme Browser Co', plan: 'enterprise' });
    expect(ofType('track')).toEqual([
      expect.objectContaining({
        event_name: 'Started huddle',
        user_id: 'browser-user-1',
        company_id: 'browser-company-1',
      }),
      expect.objectContaining({
        event_name: 'Started huddle',
        user_id: 'browser-user-1',
        company_id: 'browser-company-1',
      }),
    ]);
    expect(ofType('track').map(attributesOf)).toContainEqual({ voice: true });
    const feedback = ofType('feedback');
    expect(
      feedback.map(({ feature_id, user_id, company_id, score, comment }) => ({
        feature_id,
        user_id,
        company_id,
        score,
        comment,
      })),
    ).toEqual(
      expect.arrayContaining([
        {
          feature_id: 'huddle',
          user_id: 'browser-user-1',
          company_id: 'browser-company-1',
          score: 3,
          comment: 'Could be faster',
        },
        { feature_id: 'huddle', user_id: 'browser-user-1', company_id: 'browser-company-1', score: 4, comment: null },
      ]),
    );
    expect(feedback).toHaveLength(2);
    for (const row of feedback) expect(attributesOf(row)).toMatchObject({ source: 'sdk' });
    const checks = ofType('feature_flag');
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) {
      expect(check).toMatchObject({ event_name: 'check-is-enabled', feature_id: 'huddle', user_id: 'browser-user-1' });
      expect(attributesOf(check)).toMatchObject({ evalResult: false });
    }
  });

  it("counts the SDK's tracks and feedback in a company export (today)", async () => {
    const token = { authorization: `Token ${env.api_key}` };
    const started = await http(`${stack.url}/api/v1/company-exports`, {
      headers: token,
      body: { aggregation: 'today' },
    });
    expect(started.status, started.text).toBe(202);
    await stack.workflowsIdle();
    const job = await http(`${stack.url}${started.body.links}`, { headers: token });
    expect(job.body.status, job.text).toBe('completed');
    const csv = await (await fetch(job.body.download_url)).text();
    const [header, ...rows] = parse(csv) as string[][];
    expect(header).toEqual([...COMPANY_EXPORT_HEADER]);
    const cell = (row: string[] | undefined, column: (typeof COMPANY_EXPORT_HEADER)[number]) =>
      row?.[COMPANY_EXPORT_HEADER.indexOf(column)];
    const huddle = rows.find(
      (row) => cell(row, 'Company ID') === 'browser-company-1' && cell(row, 'Feature ID') === 'huddle',
    );

    expect(huddle, csv).toBeDefined();
    expect(cell(huddle, 'Company Name')).toBe('Acme Browser Co');
    expect(cell(huddle, 'First Used')).not.toBe('');
    expect(cell(huddle, 'Last Used')).not.toBe('');
    // Used on one day: tried, never adopted.
    expect(cell(huddle, 'STARS State Label')).toBe('tried');
    // The mean of 3 and 4 is 3.5, rounded half up.
    expect(cell(huddle, 'Satisfaction')).toBe('4');
    expect(cell(huddle, 'Satisfaction Label')).toBe('Satisfied');
    expect(cell(huddle, 'Feedback Count')).toBe('2');
  });
});

describe("Bucket's tracking SDK (@bucketco/tracking-sdk) in Chromium, from another origin", () => {
  let env: Env;
  let outcome: { watched: WatchedPage; result: PageResult };

  beforeAll(async () => {
    env = await createEnvironment('bucket-browser');
    outcome = await runPage(`/bucket.html?${new URLSearchParams({ trackingKey: env.tracking_key, host: stack.url })}`);
  });

  it('keeps working: every call answered 200, nothing in the console, each call in events', async () => {
    expect(outcome.result.error).toBeUndefined();
    expect(outcome.result.statuses).toEqual([200, 200, 200, 200]);
    expect(outcome.watched.problems(), outcome.watched.console.join('\n')).toEqual([]);

    const rows = await lakeRows(env);
    expect(
      rows.map(({ event_type, event_name, user_id, company_id, feature_id, score }) => ({
        event_type,
        event_name,
        user_id,
        company_id,
        feature_id,
        score,
      })),
    ).toEqual([
      {
        event_type: 'feedback',
        event_name: null,
        user_id: 'bucket-user-1',
        company_id: null,
        feature_id: 'huddle',
        score: 5,
      },
      {
        event_type: 'identify_company',
        event_name: null,
        user_id: 'bucket-user-1',
        company_id: 'bucket-company-1',
        feature_id: null,
        score: null,
      },
      {
        event_type: 'identify_user',
        event_name: null,
        user_id: 'bucket-user-1',
        company_id: null,
        feature_id: null,
        score: null,
      },
      {
        event_type: 'track',
        event_name: 'Started huddle',
        user_id: 'bucket-user-1',
        company_id: null,
        feature_id: null,
        score: null,
      },
    ]);
  });
});
