import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_STATE_TABLE } from '../../bin/local.ts';
import { COMPANY_EXPORT_HEADER } from '../../lambdas/core/company-export/rollup/index.ts';
import { CUSTOMER_ACCESS_KEY_ID, closedPort, startCustomerS3, startNotS3 } from '../support/customer-s3.ts';
import { admin, type HttpResponse, http, startTestStack } from '../support/local-stack.ts';

/**
 * Seed 000's automatic export, end to end over HTTP: settings saved against a
 * second s3rver standing for the customer's `custom` endpoint, the schedule fired
 * by the admin tick, the CLI and the stack's own clock, the CSVs found in the
 * customer's bucket and compared with the manual export of the same instant.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = 'fl-test-SECRET-7d1c4b2a-never-shown';
const DAY = 86_400_000;
/**
 * The week the tests run in: the first Monday at least a day from now. Not a fixed
 * past date: finished jobs are readable for 7 days after they are made, and their
 * store checks that against the real time.
 */
const M = (() => {
  let day = Math.floor(Date.now() / DAY) * DAY + DAY;
  while (new Date(day).getUTCDay() !== 1) day += DAY;
  return day;
})();
/** `YYYY-MM-DD` of the day `n` days after that Monday. */
const date = (n: number) => new Date(M + n * DAY).toISOString().slice(0, 10);
/** The instant `minutes` past 00:00 UTC of that day. */
const instant = (n: number, minutes = 5) => new Date(M + n * DAY + minutes * 60_000).toISOString();
const MONDAY = instant(0);
const TUESDAY = instant(1);
const WEDNESDAY = instant(2);
const THURSDAY = instant(3);
const FRIDAY = instant(4);
const midnight = (n: number) => instant(n, 0);

interface Env {
  environment_id: string;
  tracking_key: string;
  api_key: string;
  app_token: string;
}

// Sunday 10:00 before that Monday: the settings are saved the day before the first run.
let now = new Date(M - 14 * 3_600_000);
const clock = { now: () => new Date(now) };
let stack: Awaited<ReturnType<typeof startTestStack>>;
let customer: Awaited<ReturnType<typeof startCustomerS3>>;
let daily: Env;
let weekly: Env;

/** Every answer the API gave in this file, and every line anything printed. */
const answers: string[] = [];
const printed: string[] = [];

async function call(path: string, env: Env | null, init: { method?: string; body?: unknown } = {}) {
  const response = await http(`${stack.url}${path}`, {
    ...init,
    headers: env ? { authorization: `Token ${env.api_key}` } : { authorization: `Bearer ${stack.adminToken}` },
  });
  answers.push(response.text);
  return response;
}

const settingsOf = (env: Env) => call('/api/v1/company-exports/automatic', env);
const save = (env: Env, body: Record<string, unknown>) =>
  call('/api/v1/company-exports/automatic', env, { method: 'PUT', body });
const tick = (at: string) => call('/admin/v1/scheduler/tick', null, { body: { at } });

function customSettings(bucket: string, key: string, overrides: Record<string, unknown> = {}) {
  return {
    enabled: true,
    cadence: 'daily',
    provider: 'custom',
    endpoint: customer.endpoint,
    bucket,
    region: 'auto',
    key,
    access_key_id: CUSTOMER_ACCESS_KEY_ID,
    secret_access_key: SECRET,
    ...overrides,
  };
}

/** The manual export of the same instant, downloaded as a user would. */
async function manualExport(env: Env, asOf: string): Promise<string> {
  const started = await call('/api/v1/company-exports', env, { body: { aggregation: 'today', as_of: asOf } });
  expect(started.status, started.text).toBe(202);
  await stack.workflowsIdle();
  const job = await call(started.body.links, env);
  expect(job.body.status, job.text).toBe('completed');
  return (await fetch(job.body.download_url)).text();
}

function expectOneError(response: HttpResponse<any>, field: string, message: RegExp) {
  expect(response.status, response.text).toBe(400);
  expect(response.body.errors).toHaveLength(1);
  expect(response.body.errors[0]).toMatchObject({ error: 'Bad Request', error_code: '400', field });
  expect(response.body.errors[0].message).toMatch(message);
}

/** Calls of seed 001 for a small month: two companies using one feature, one after Monday's midnight. */
function trackingCalls() {
  const use = (userId: string, day: number) => ({
    type: 'event',
    event: 'Sent message',
    userId,
    timestamp: instant(day, 9 * 60 + 30),
  });
  return [
    {
      type: 'company',
      companyId: 'c1',
      userId: 'u1',
      attributes: { name: 'Acme, Inc.', plan: 'enterprise' },
      timestamp: instant(-30, 480),
    },
    {
      type: 'company',
      companyId: 'c2',
      userId: 'u2',
      attributes: { name: 'Beta "Ltd"' },
      timestamp: instant(-29, 480),
    },
    // Six active days within the four weeks before Monday: adopted and retained.
    ...[-28, -27, -26, -21, -14, -7].map((day) => use('u1', day)),
    use('u2', -11),
    { type: 'feedback', featureId: 'messages', userId: 'u1', score: 4, comment: 'nice', timestamp: instant(-6, 600) },
    // After Monday's snapshot, before Tuesday's: only Tuesday's file may count it.
    { type: 'event', event: 'Sent message', userId: 'u2', timestamp: instant(0, 480) },
  ];
}

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args.map((arg) => (arg instanceof Error ? `${arg.message} ${arg.stack}` : String(arg))).join(' '));
      original(...args);
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
  customer = await startCustomerS3(['acme-daily', 'acme-weekly']);
  // The schedule's own timer is made slow: the tests fire it with runScheduler() when they move the clock.
  stack = await startTestStack({ clock, schedulerPollMs: 3_600_000 });
  const create = async (name: string, plan: 'free' | 'pro' | 'enterprise') =>
    (await admin(stack).createEnvironment(name, plan)).body as Env;
  daily = await create('daily-tenant', 'enterprise');
  weekly = await create('weekly-tenant', 'enterprise');
  for (const env of [daily, weekly]) {
    const feature = await call('/api/v1/features/messages', env, {
      method: 'PUT',
      body: { name: 'Messages', type: 'event', event_names: ['Sent message'] },
    });
    expect(feature.status, feature.text).toBe(201);
    const sent = await http(`${stack.url}/${env.tracking_key}/bulk`, { body: trackingCalls() });
    expect(sent.status, sent.text).toBe(200);
  }
});

afterAll(async () => {
  await stack?.cleanup();
  await customer?.close();
  vi.restoreAllMocks();
});

describe('automatic export settings', () => {
  it('saves custom-endpoint settings once the bucket lists, and shows them without the secret', async () => {
    const saved = await save(daily, customSettings('acme-daily', '/exports/daily/'));
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body).toMatchObject({
      enabled: true,
      cadence: 'daily',
      provider: 'custom',
      endpoint: customer.endpoint,
      bucket: 'acme-daily',
      region: 'auto',
      key: 'exports/daily',
      access_key_id: CUSTOMER_ACCESS_KEY_ID,
      secret_access_key_set: true,
      destination: 's3://acme-daily/exports/daily/',
      status: { last_run_at: null, last_status: 'never ran before', next_run_at: midnight(0), error: null },
    });
    expect(saved.text).not.toContain(SECRET);

    const weeklySaved = await save(weekly, customSettings('acme-weekly', 'weekly', { cadence: 'weekly' }));
    expect(weeklySaved.status, weeklySaved.text).toBe(200);
    expect((await settingsOf(weekly)).body).toMatchObject({
      cadence: 'weekly',
      status: { last_status: 'never ran before', next_run_at: midnight(0) },
    });
  });

  it('refuses settings it cannot list the bucket with, saying what is wrong, and saves nothing', async () => {
    const probe = (await admin(stack).createEnvironment('probe-tenant', 'enterprise')).body as Env;
    const web = await startNotS3();
    try {
      expectOneError(
        await save(probe, customSettings('acme-daily', '', { access_key_id: 'AKIAUNKNOWN' })),
        'access_key_id',
        /does not know the access key id "AKIAUNKNOWN"/,
      );
      expectOneError(
        await save(probe, customSettings('no-such-bucket', '')),
        'bucket',
        new RegExp(`^There is no bucket "no-such-bucket" at ${customer.endpoint}\\.$`),
      );
      const closed = `http://127.0.0.1:${await closedPort()}`;
      expectOneError(
        await save(probe, customSettings('acme-daily', '', { endpoint: closed })),
        'endpoint',
        new RegExp(`^Could not reach ${closed} \\(ECONNREFUSED\\)`),
      );
      expectOneError(
        await save(probe, customSettings('acme-daily', '', { endpoint: web.endpoint })),
        'endpoint',
        /but not as an S3-compatible API does/,
      );
    } finally {
      await web.close();
    }
    expect((await settingsOf(probe)).body).toMatchObject({
      enabled: false,
      secret_access_key_set: false,
      cadence: null,
    });

    // A refused change leaves the saved settings as they were.
    const before = (await settingsOf(daily)).body;
    expectOneError(await save(daily, customSettings('no-such-bucket', 'x')), 'bucket', /no bucket "no-such-bucket"/);
    expect((await settingsOf(daily)).body).toEqual(before);
  });

  it("never takes the stack's own storage or API as an endpoint, whatever the spelling", async () => {
    const probe = (await admin(stack).createEnvironment('own-probe', 'enterprise')).body as Env;
    const s3Port = new URL(stack.s3Endpoint).port;
    const refusals: Array<[string, RegExp]> = [
      ...[`127.0.0.1`, `127.1`, `2130706433`, `0.0.0.0`, `localhost`, `[::1]`, `[::ffff:127.0.0.1]`].map(
        (host): [string, RegExp] => [`http://${host}:${s3Port}`, /is this server's own storage/],
      ),
      [stack.url, /is this server's own API/],
    ];
    for (const [endpoint, message] of refusals) {
      // The address rule refuses before any request: nothing is sent to the stack's own listeners.
      expectOneError(
        await save(
          probe,
          customSettings('featurelake-exports', '', { endpoint, access_key_id: 'S3RVER', secret_access_key: 'guess' }),
        ),
        'endpoint',
        message,
      );
    }
    expect((await settingsOf(probe)).body).toMatchObject({ enabled: false, endpoint: null });
  });

  it('names bucket_url when an AWS bucket URL is not one', async () => {
    const probe = (await admin(stack).createEnvironment('aws-probe', 'enterprise')).body as Env;
    for (const url of ['http://acme.s3.eu-west-1.amazonaws.com', 'https://acme.s3.eu-west-1.example.com/x', 'acme']) {
      const refused = await save(probe, {
        enabled: true,
        cadence: 'daily',
        provider: 'aws',
        bucket_url: url,
        access_key_id: 'AKIA1',
        secret_access_key: SECRET,
      });
      expect(refused.status).toBe(400);
      expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual(['bucket_url']);
    }
  });

  it("is for the Enterprise plan only: others get seed 002's 401", async () => {
    for (const plan of ['free', 'pro'] as const) {
      const env = (await admin(stack).createEnvironment(`${plan}-tenant`, plan)).body as Env;
      for (const response of [await settingsOf(env), await save(env, customSettings('acme-daily', ''))]) {
        expect(response.status).toBe(401);
        expect(response.body).toEqual({
          errors: [
            {
              error: 'Unauthorized',
              error_code: '401',
              message: 'You are not authorized to perform the requested action.',
              details: `Your current plan for application ${env.app_token} does not support the feature you are trying to access.`,
            },
          ],
        });
      }
    }
  });
});

describe('the schedule', () => {
  let mondayDaily: string;

  it('Monday 00:05: both run; each bucket holds exactly the snapshot, equal to the manual export as of 00:00', async () => {
    now = new Date(MONDAY);
    const fired = await tick(MONDAY);
    expect(fired.status, fired.text).toBe(200);
    expect(fired.body).toMatchObject({ at: MONDAY, snapshot_at: midnight(0), skipped: [], failed: [] });
    // The date's daily facts build starts first; the exports wait for it.
    expect(fired.body.facts).toEqual({ execution_name: `daily-facts-${date(0)}`, started: true, error: null });
    expect(fired.body.started.map((s: { environment_id: string }) => s.environment_id).sort()).toEqual(
      [daily.environment_id, weekly.environment_id].sort(),
    );
    await stack.workflowsIdle();

    expect(await customer.keys('acme-daily')).toEqual([`exports/daily/company-export-${date(0)}.csv`]);
    expect(await customer.keys('acme-weekly')).toEqual([`weekly/company-export-${date(0)}.csv`]);
    mondayDaily = await customer.text('acme-daily', `exports/daily/company-export-${date(0)}.csv`);
    const rows = parse(mondayDaily) as string[][];
    expect(rows[0]).toEqual([...COMPANY_EXPORT_HEADER]);
    expect(rows.slice(1).map((row) => [row[0], row[1], row[4], row[9]])).toEqual([
      ['c1', 'Acme, Inc.', date(0), 'retained'],
      ['c2', 'Beta "Ltd"', date(0), 'tried'],
    ]);
    expect(mondayDaily).toBe(await manualExport(daily, midnight(0)));
    expect(await customer.text('acme-weekly', `weekly/company-export-${date(0)}.csv`)).toBe(
      await manualExport(weekly, midnight(0)),
    );

    for (const [env, next] of [
      [daily, midnight(1)],
      [weekly, midnight(7)],
    ] as const) {
      expect((await settingsOf(env)).body.status).toMatchObject({
        last_run_at: MONDAY,
        last_status: 'successful',
        next_run_at: next,
        error: null,
        snapshot_at: midnight(0),
      });
    }
  });

  it('a tick repeated for the same day starts no second export (API and CLI)', async () => {
    const again = await tick(instant(0, 30));
    expect(again.body.started).toEqual([]);
    expect(again.body.facts).toEqual({ execution_name: `daily-facts-${date(0)}`, started: false, error: null });
    expect(again.body.skipped).toEqual(
      expect.arrayContaining([
        { environment_id: daily.environment_id, reason: `an export for ${date(0)} was already started` },
        { environment_id: weekly.environment_id, reason: `an export for ${date(0)} was already started` },
      ]),
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'bin', 'featurelake.mjs'), 'scheduler', 'tick', '--at', instant(0, 23 * 60 + 59)],
      { env: { ...process.env, FEATURELAKE_URL: stack.url, FEATURELAKE_ADMIN_TOKEN: stack.adminToken } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ snapshot_date: date(0), started: [] });
    await stack.workflowsIdle();
    expect((await settingsOf(daily)).body.status.last_run_at).toBe(MONDAY);
    expect(await customer.keys('acme-daily')).toEqual([`exports/daily/company-export-${date(0)}.csv`]);
  });

  it('Tuesday 00:05: only the daily export runs, with the events of Monday in it', async () => {
    now = new Date(TUESDAY);
    // Someone clicks Download just before: their export holds the one requested export of
    // the environment (a second request is refused), and the scheduled run still starts.
    const clicked = await call('/api/v1/company-exports', daily, { body: { aggregation: '30d_daily' } });
    expect(clicked.status, clicked.text).toBe(202);
    expect((await call('/api/v1/company-exports', daily, { body: { aggregation: 'today' } })).status).toBe(409);
    const fired = await tick(TUESDAY);
    expect(fired.body.started.map((s: { environment_id: string }) => s.environment_id)).toEqual([daily.environment_id]);
    expect(fired.body.skipped).toEqual([
      {
        environment_id: weekly.environment_id,
        reason: `not due: weekly exports run on Mondays, ${date(1)} is not one`,
      },
    ]);
    await stack.workflowsIdle();

    expect(await customer.keys('acme-daily')).toEqual([
      `exports/daily/company-export-${date(0)}.csv`,
      `exports/daily/company-export-${date(1)}.csv`,
    ]);
    expect(await customer.keys('acme-weekly')).toEqual([`weekly/company-export-${date(0)}.csv`]);
    const tuesday = await customer.text('acme-daily', `exports/daily/company-export-${date(1)}.csv`);
    expect(tuesday).toBe(await manualExport(daily, midnight(1)));
    expect(tuesday).not.toBe(mondayDaily.replaceAll(date(0), date(1)));
    expect((await settingsOf(daily)).body.status).toMatchObject({
      last_run_at: TUESDAY,
      last_status: 'successful',
      next_run_at: midnight(2),
    });
    expect((await settingsOf(weekly)).body.status).toMatchObject({
      last_run_at: MONDAY,
      last_status: 'successful',
      next_run_at: midnight(7),
    });
  });

  it('the bucket deleted after saving: the next run (fired by the stack’s clock) fails, saying why', async () => {
    await customer.deleteBucket('acme-daily');
    now = new Date(WEDNESDAY);
    await stack.runScheduler();
    await stack.workflowsIdle();

    const { status } = (await settingsOf(daily)).body;
    expect(status).toMatchObject({ last_run_at: WEDNESDAY, last_status: 'failed', next_run_at: midnight(3) });
    expect(status.error).toBe(
      `Could not deliver company-export-${date(2)}.csv to s3://acme-daily/exports/daily/: There is no bucket "acme-daily" at ${customer.endpoint}.`,
    );
    const job = await call(`/api/v1/company-exports/jobs/${status.job_id}`, daily);
    expect(job.body).toMatchObject({ status: 'failed', error: status.error, as_of: midnight(2) });
    expect((await settingsOf(weekly)).body.status.last_run_at).toBe(MONDAY);
  });

  it('once the bucket exists again, the run after succeeds (fired by the CLI)', async () => {
    await customer.createBucket('acme-daily');
    now = new Date(THURSDAY);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'bin', 'featurelake.mjs'), 'scheduler', 'tick', '--at', THURSDAY],
      { env: { ...process.env, FEATURELAKE_URL: stack.url, FEATURELAKE_ADMIN_TOKEN: stack.adminToken } },
    );
    expect(JSON.parse(stdout).started).toEqual([expect.objectContaining({ environment_id: daily.environment_id })]);
    await stack.workflowsIdle();
    expect(await customer.keys('acme-daily')).toEqual([`exports/daily/company-export-${date(3)}.csv`]);
    expect((await settingsOf(daily)).body.status).toMatchObject({
      last_run_at: THURSDAY,
      last_status: 'successful',
      error: null,
    });
  });

  it('disabling keeps the settings and stops the runs; a PUT without the secret keeps the stored one', async () => {
    const before = (await settingsOf(daily)).body;
    const off = await save(daily, { enabled: false });
    expect(off.status, off.text).toBe(200);
    expect(off.body).toEqual({
      ...before,
      enabled: false,
      updated_at: expect.any(String),
      status: { ...before.status, next_run_at: null },
    });
    now = new Date(FRIDAY);
    const fired = await tick(FRIDAY);
    // Only the weekly setting is looked at (and it is not due on a Friday): a disabled one is not even listed.
    expect(fired.body.started).toEqual([]);
    expect(fired.body.skipped).toEqual([
      {
        environment_id: weekly.environment_id,
        reason: `not due: weekly exports run on Mondays, ${date(4)} is not one`,
      },
    ]);

    // The same access key without its secret: the stored secret stays, and the bucket is checked with it.
    const moved = customSettings('acme-daily', 'exports/v2');
    delete (moved as Partial<typeof moved>).secret_access_key;
    const on = await save(daily, moved);
    expect(on.status, on.text).toBe(200);
    expect(on.body).toMatchObject({ enabled: true, key: 'exports/v2', secret_access_key_set: true });
    // …but not for another access key.
    expectOneError(
      await save(daily, { ...moved, access_key_id: 'S3RVER' }),
      'secret_access_key',
      /The request is invalid/,
    );

    const refired = await tick(instant(4, 6));
    expect(refired.body.started).toHaveLength(1);
    await stack.workflowsIdle();
    expect(await customer.keys('acme-daily')).toContain(`exports/v2/company-export-${date(4)}.csv`);
    expect((await settingsOf(daily)).body.status.last_status).toBe('successful');
  });
});

describe('the secret', () => {
  it('appears in no API answer, no printed line, no DynamoDB item and no file of the stack', async () => {
    await stack.workflowsIdle();
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((text) => text.includes(SECRET))).toEqual([]);
    expect(printed.filter((line) => line.includes(SECRET))).toEqual([]);
    // What was captured is real output: the schedule's own line, and the failed run's.
    expect(printed.join('\n')).toMatch(/automatic exports for \d{4}-\d\d-\d\d: 1 started, 0 failed/);

    const client = stack.dynamoClient();
    const { Items = [] } = await client.send(new ScanCommand({ TableName: LOCAL_STATE_TABLE }));
    client.destroy();
    const dump = JSON.stringify(Items);
    // The settings are there (sealed), the secret is not, in any encoding.
    expect(dump).toContain(CUSTOMER_ACCESS_KEY_ID);
    expect(dump).toContain('"ciphertext"');
    for (const encoding of ['utf8', 'base64', 'hex'] as const) {
      expect(dump).not.toContain(Buffer.from(SECRET).toString(encoding));
    }

    const files = (await readdir(stack.home, { recursive: true, withFileTypes: true })).filter((entry) =>
      entry.isFile(),
    );
    expect(files.length).toBeGreaterThan(5);
    for (const entry of files) {
      const bytes = await readFile(join(entry.parentPath, entry.name));
      expect(bytes.includes(Buffer.from(SECRET)), join(entry.parentPath, entry.name)).toBe(false);
    }
  });
});
