import { randomInt } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPANY_EXPORT_HEADER } from '../../lambdas/core/company-export/rollup/index.ts';
import { EXPORTED_EVENT_FIELDS } from '../../lambdas/core/events-export/sql.ts';
import { admin, http, spawnLocalStack, tempHome } from '../support/local-stack.ts';

/**
 * Fault injection: `npm start` in a child process, SIGKILLed at a random point of a
 * company export, of a raw-event export, and of event-log compaction under tracking
 * load; then started again on the same home. After every restart:
 *
 * - no event answered 200 is missing from the lake;
 * - every export job has ended (completed, or failed with a message) soon after;
 * - the export locks are free: a new export of each kind is accepted and completes;
 * - every link offered downloads a complete file (gzip that inflates to its end, CSV
 *   that parses) whose content matches what its job reports.
 *
 * The kill points are drawn from a seeded generator: the seed is printed, and
 * `FEATURELAKE_FAULT_SEED=<seed>` replays a run. `FEATURELAKE_FAULT_RUNS=<n>` runs n
 * rounds of the three kills (default 1).
 */
const SEED = Number(process.env.FEATURELAKE_FAULT_SEED ?? randomInt(2 ** 31));
const ROUNDS = Math.max(1, Number(process.env.FEATURELAKE_FAULT_RUNS ?? 1));

/** mulberry32: small, seedable, good enough to pick kill points. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = generator(SEED);

type Child = Awaited<ReturnType<typeof spawnLocalStack>>;
interface Env {
  environment_id: string;
  tracking_key: string;
  api_key: string;
}

let home: string;
let stack: Child;
let adminToken: string;
let env: Env;
const acknowledged = new Set<string>();
const companyJobs = new Set<string>();
/** Kill points so far, printed with the seed when a check fails. */
const log: string[] = [];

const token = () => ({ authorization: `Token ${env.api_key}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const COMPANY_REQUEST = { aggregation: '30d_daily', as_of: '2025-12-01T00:00:00Z' };
const EVENTS_REQUEST = { from: '2025-09-01', to: '2025-11-30', format: 'json' };
/** What an uninterrupted export of each request holds: calibrated by the first one. */
let companyRows: number | undefined;
let exportedEvents: number | undefined;
/** How long an uninterrupted export takes here (ms): kill points are drawn within it. */
const duration = { company: 1000, events: 1000 };

/** Events of autumn 2025 (what the exports read) for 12 companies over 13 weeks. */
function dataset(): Array<Record<string, unknown>> {
  const calls: Array<Record<string, unknown>> = [];
  for (let c = 0; c < 12; c++) {
    calls.push({
      type: 'company',
      companyId: `c${c}`,
      userId: `u${c}`,
      attributes: { name: `Company ${c}`, plan: c % 2 ? 'pro' : 'free' },
      timestamp: '2025-08-30T08:00:00.000Z',
    });
  }
  for (let i = 0; i < 2400; i++) {
    const day = 1 + (i % 90);
    const at = new Date(Date.UTC(2025, 8, day, 8 + (i % 10), i % 60));
    calls.push({
      type: 'event',
      event: i % 3 ? 'Sent message' : 'Opened inbox',
      userId: `u${i % 12}`,
      messageId: `fi-dataset-${i}`,
      timestamp: at.toISOString(),
    });
  }
  return calls;
}

/** Set while the test itself stops the stack: any other exit is a crash, printed with the stack's output. */
let stopping = false;

async function start(): Promise<void> {
  stack = await spawnLocalStack(home);
  stopping = false;
  const child = stack;
  child.child.once('exit', (code, signal) => {
    if (!stopping) console.error(`the local stack died by itself (${code ?? signal}):\n${child.output().slice(-4000)}`);
  });
  adminToken = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
}

async function kill(): Promise<void> {
  stopping = true;
  const exited = new Promise((resolve) => stack.child.once('exit', resolve));
  stack.child.kill('SIGKILL');
  await exited;
}

/** Tracking calls from 8 clients until `stop()`; ids answered 200 go to `acknowledged`. */
function trackingLoad(tag: string): { stop(): Promise<void> } {
  let stopped = false;
  let n = 0;
  const url = stack.url;
  const client = async () => {
    while (!stopped) {
      const i = n++;
      const ids = i % 7 === 0 ? [0, 1, 2].map((k) => `${tag}-${i}-${k}`) : [`${tag}-${i}`];
      try {
        const response =
          ids.length > 1
            ? await http(`${url}/${env.tracking_key}/bulk`, {
                body: ids.map((id) => ({ type: 'event', event: 'Load', userId: 'fault-user', messageId: id })),
              })
            : await http(`${url}/${env.tracking_key}/event`, {
                body: { event: 'Load', userId: 'fault-user', messageId: ids[0] },
              });
        if (response.status === 200) for (const id of ids) acknowledged.add(id);
      } catch {
        // the server died under this call: not acknowledged
        return;
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  return {
    async stop() {
      stopped = true;
      await Promise.all(clients);
    },
  };
}

async function waitUntilEnded(path: string, timeoutMs = 60_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await http(`${stack.url}${path}`, { headers: token() });
    expect(job.status, job.text).toBe(200);
    if (job.body.status !== 'running') return job.body;
    if (Date.now() > until) throw new Error(`${path} still running after ${timeoutMs} ms: ${job.text}`);
    await sleep(100);
  }
}

/** A completed company export's file: a whole CSV with the job's row count. */
async function checkCompanyFile(job: any): Promise<void> {
  const download = await fetch(job.download_url);
  expect(download.status).toBe(200);
  const rows = parse(await download.text()) as string[][];
  expect(rows[0]).toEqual([...COMPANY_EXPORT_HEADER]);
  expect(rows.length - 1).toBe(job.rows);
  if (companyRows !== undefined) expect(job.rows).toBe(companyRows);
}

/** A completed raw-event export's files: each gzip whole, each line an event; the count as uninterrupted. */
async function checkEventsFiles(job: any): Promise<number> {
  expect(job.progress).toBe(`${job.all_chunks.length} out of ${job.all_chunks.length} partitions`);
  expect(job.presigned_urls.map((f: { filename: string }) => f.filename)).toEqual(
    job.all_chunks.map((week: string) => `${week}.json.gz`),
  );
  let lines = 0;
  for (const { url } of job.presigned_urls as Array<{ url: string }>) {
    const download = await fetch(url);
    expect(download.status).toBe(200);
    // Throws on a truncated stream ("unexpected end of file").
    const text = gunzipSync(Buffer.from(await download.arrayBuffer())).toString('utf8');
    for (const line of text.split('\n').filter((l) => l !== '')) {
      expect(Object.keys(JSON.parse(line))).toEqual(expect.arrayContaining([...EXPORTED_EVENT_FIELDS]));
      lines++;
    }
  }
  if (exportedEvents !== undefined) expect(lines).toBe(exportedEvents);
  return lines;
}

async function startCompanyExport() {
  return http(`${stack.url}/api/v1/company-exports`, { headers: token(), body: COMPANY_REQUEST });
}
async function startEventsExport() {
  return http(`${stack.url}/api/v1/analytics/exports`, { headers: token(), body: EVENTS_REQUEST });
}

/** Both kinds of export, uninterrupted: accepted (the locks are free), completed, files whole. */
async function exportBoth(): Promise<void> {
  const began = Date.now();
  const company = await startCompanyExport();
  expect(company.status, company.text).toBe(202);
  companyJobs.add(company.body.job_id);
  const companyJob = await waitUntilEnded(company.body.links);
  duration.company = Date.now() - began;
  expect(companyJob.status, JSON.stringify(companyJob)).toBe('completed');
  await checkCompanyFile(companyJob);
  companyRows ??= companyJob.rows;

  const eventsBegan = Date.now();
  const events = await startEventsExport();
  expect(events.status, events.text).toBe(201);
  const eventsJob = await waitUntilEnded(events.body.links);
  duration.events = Date.now() - eventsBegan;
  expect(eventsJob.status, JSON.stringify(eventsJob)).toBe('completed');
  exportedEvents ??= await checkEventsFiles(eventsJob);
  if (exportedEvents !== undefined) await checkEventsFiles(eventsJob);
}

/** Everything that must hold after a restart. */
async function checkInvariants(): Promise<void> {
  // Paged: the admin SQL route answers a bounded number of rows.
  const stored = new Set<string>();
  for (let offset = 0; ; offset += 5000) {
    const page = await admin({ url: stack.url, adminToken }).sql<{ event_id: string }>(
      `SELECT DISTINCT event_id FROM events WHERE app_id = ? AND user_id = 'fault-user' ORDER BY event_id LIMIT 5000 OFFSET ?`,
      [env.environment_id, offset],
    );
    for (const row of page) stored.add(row.event_id);
    if (page.length < 5000) break;
  }
  const lost = [...acknowledged].filter((id) => !stored.has(id));
  expect(lost, 'acknowledged events missing from the lake').toEqual([]);

  // Every job has ended soon after the restart, and what a completed one offers is whole.
  for (const jobId of companyJobs) {
    const job = await waitUntilEnded(`/api/v1/company-exports/jobs/${jobId}`, 15_000);
    if (job.status === 'failed') expect(job.error).toMatch(/\w/);
    else await checkCompanyFile(job);
  }
  const listed = await http(`${stack.url}/api/v1/analytics/exports/jobs`, { headers: token() });
  for (const { job_id } of listed.body as Array<{ job_id: string }>) {
    const job = await waitUntilEnded(`/api/v1/analytics/exports/jobs/${job_id}`, 15_000);
    if (job.status === 'failed') {
      expect(job.error).toMatch(/\w/);
      expect(job.presigned_urls).toEqual([]);
    } else await checkEventsFiles(job);
  }

  // The locks are free.
  await exportBoth();
}

/** Starts `begin`, SIGKILLs the stack at a random point within `withinMs` of it, and starts it again. */
async function killDuring(
  what: string,
  begin: () => Promise<{ status: number; body: any } | undefined>,
  withinMs: number,
): Promise<void> {
  const at = Math.floor(random() * withinMs);
  log.push(`${what}: SIGKILL ${at} ms after it began`);
  const load = trackingLoad(`fi-${log.length}`);
  const began = begin().catch(() => undefined);
  await sleep(at);
  await kill();
  await load.stop();
  const answer = await began;
  await start();
  await checkInvariants();
  // What the kill cut, for the summary: the job it interrupted, or the request it beat.
  if (what === 'compaction') return;
  const link = answer && answer.status < 300 ? (answer.body?.links as string | undefined) : undefined;
  const outcome = link
    ? `its job ${(await http(`${stack.url}${link}`, { headers: token() })).body.status}`
    : 'no job accepted before the kill';
  log[log.length - 1] += ` → ${outcome}`;
}

beforeAll(async () => {
  console.log(`fault injection: seed ${SEED} (FEATURELAKE_FAULT_SEED=${SEED} replays it), ${ROUNDS} round(s)`);
  home = await tempHome('featurelake-fault-');
  await start();
  env = (await admin({ url: stack.url, adminToken }).createEnvironment('fault', 'enterprise')).body as Env;
  const feature = await http(`${stack.url}/api/v1/features/messages`, {
    method: 'PUT',
    headers: token(),
    body: { name: 'Messages', type: 'event', event_names: ['Sent message'] },
  });
  expect(feature.status, feature.text).toBe(201);
  const calls = dataset();
  for (let i = 0; i < calls.length; i += 500) {
    const sent = await http(`${stack.url}/${env.tracking_key}/bulk`, { body: calls.slice(i, i + 500) });
    expect(sent.status, sent.text).toBe(200);
  }
  // Calibration: what an uninterrupted export holds, and how long it takes.
  await exportBoth();
});

afterAll(async () => {
  console.log(`fault injection, ${replay()}; every invariant held after each restart unless a test failed`);
  if (stack) {
    stopping = true;
    const exited = new Promise((resolve) => stack.child.once('exit', resolve));
    stack.child.kill('SIGTERM');
    await exited;
    // Every stack's exchanges of the run (they log in the same home), against the OpenAPI document.
    expect(await stack.exchangeViolations()).toEqual([]);
  }
  if (home) await rm(home, { recursive: true, force: true });
});

const replay = () => `seed ${SEED}: ${log.join('; ')}`;

describe(`SIGKILL at random points, then a restart (seed ${SEED})`, () => {
  it('in a company export workflow', { timeout: ROUNDS * 120_000 }, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await killDuring('company export', startCompanyExport, duration.company * 1.2).catch((error) => {
        throw new Error(`${replay()}\n${(error as Error).message}`);
      });
    }
  });

  it('in a raw-event export workflow', { timeout: ROUNDS * 120_000 }, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await killDuring('raw-event export', startEventsExport, duration.events * 1.2).catch((error) => {
        throw new Error(`${replay()}\n${(error as Error).message}`);
      });
    }
  });

  it('in event-log compaction under tracking load', { timeout: ROUNDS * 120_000 }, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      // Every query seals the event log and compacts it first: these keep compactions going under the load.
      const queries = async () => {
        const sql = admin({ url: stack.url, adminToken }).sql;
        for (;;) await sql('SELECT count(*) AS n FROM events WHERE app_id = ?', [env.environment_id]);
      };
      await killDuring(
        'compaction',
        async () => {
          await queries();
          return undefined;
        },
        4000,
      ).catch((error) => {
        throw new Error(`${replay()}\n${(error as Error).message}`);
      });
    }
  });
});
