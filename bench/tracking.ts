/**
 * Tracking throughput on loopback: single-event calls, 100-event bulk calls, and
 * `/bulk` with @reflag/node-sdk's own batch shape (100 mixed items, the secret key
 * in `Authorization: Bearer`), at 64 connections against the local stack (durable:
 * every 200 is fsynced), side by side with a bare node:http server answering 200
 * to the same bodies in the same run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const ROOT = join(import.meta.dirname, '..');
const CONNECTIONS = 64;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = 2;

export interface LoadResult {
  name: string;
  requestsPerSec: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  requests: number;
  /** Events acknowledged with a 200, warm-up included. */
  acknowledgedEvents: number;
}

export function startChild(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${output}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
  });
}

/** The local stack (`bin/local.ts`) in its own process, its state in `home`, on a free port. */
export function startStack(
  home: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  return startChild(
    ['--import', 'tsx', 'bin/local.ts'],
    { ...env, FEATURELAKE_HOME: home, PORT: '0' },
    /local stack on (http:\/\/[\d.:]+)/,
  );
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function load(
  name: string,
  url: string,
  body: string,
  eventsPerRequest: number,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: CONNECTIONS,
  };
  const warmup = await autocannon({ ...options, duration: WARMUP_S });
  const result = await autocannon({ ...options, duration: DURATION_S });
  const ok = result['2xx'];
  return {
    name,
    requestsPerSec: ok / DURATION_S,
    eventsPerSec: (ok * eventsPerRequest) / DURATION_S,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: ok,
    acknowledgedEvents: (warmup['2xx'] + ok) * eventsPerRequest,
  };
}

const BARE_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"success":true}'); });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log('bare on http://127.0.0.1:' + server.address().port));
`;

/**
 * One `/bulk` body as @reflag/node-sdk 1.7 batches it (client.js: updateUser,
 * updateCompany, track, sendFlagEvent; no timestamps, ids as sent): per user of a
 * request handled by a bound client, its user and company calls, tracks, and the
 * flag checks with their evaluation context. 100 items.
 */
export function nodeSdkBatch(): unknown[] {
  const items: unknown[] = [];
  for (let u = 0; items.length < 100; u++) {
    const userId = `user-${u}`;
    const companyId = `company-${u % 10}`;
    const evalContext = { user: { id: userId, name: 'Ada', role: 'admin' }, company: { id: companyId, plan: 'pro' } };
    items.push(
      { type: 'user', userId, attributes: { name: 'Ada', role: 'admin' } },
      { type: 'company', companyId, userId, attributes: { name: 'Acme', plan: 'pro', seats: 12 } },
      { type: 'event', event: 'Huddle started', companyId, userId, attributes: { size: 3 } },
      { type: 'event', event: 'Sent message', companyId, userId, attributes: { position: 'popover', version: 3 } },
      {
        type: 'feature-flag-event',
        action: 'check',
        key: 'huddles',
        targetingVersion: 4,
        evalContext,
        evalResult: true,
        evalRuleResults: [true],
        evalMissingFields: [],
      },
      ...[
        {
          type: 'feature-flag-event',
          action: 'check-config',
          key: 'huddles',
          targetingVersion: 2,
          evalContext,
          evalResult: { key: 'v2', payload: { maxSize: 8 } },
          evalRuleResults: [false, true],
          evalMissingFields: [],
        },
        { type: 'event', event: 'Huddle joined', companyId, userId },
        { type: 'event', event: 'Report exported', companyId, userId, attributes: { format: 'csv' } },
        {
          type: 'feature-flag-event',
          action: 'check',
          key: 'reports',
          targetingVersion: 1,
          evalContext,
          evalResult: false,
        },
        { type: 'event', event: 'Sent message', companyId, userId, attributes: { position: 'inline', version: 3 } },
      ].slice(0, 5),
    );
  }
  return items.slice(0, 100);
}

export async function trackingBenchmark(): Promise<{ results: LoadResult[]; lakeRows: number; expectedRows: number }> {
  const single = JSON.stringify({
    event: 'Sent message',
    userId: 1234567890,
    companyId: 'my_company_id',
    attributes: { position: 'popover', version: 3 },
  });
  const bulk = JSON.stringify(
    Array.from({ length: 100 }, (_, i) => ({
      type: 'event',
      event: 'Sent message',
      userId: `user-${i}`,
      companyId: `company-${i % 10}`,
      attributes: { position: 'popover', version: 3 },
    })),
  );

  const sdkBulk = JSON.stringify(nodeSdkBatch());
  // A secret key of the Node SDK's length (the bare server reads no header).
  const bareBearer = { authorization: `Bearer fl_${'k'.repeat(43)}` };

  const bare = await startChild(['-e', BARE_SERVER], {}, /bare on (http:\/\/[\d.:]+)/);
  const results: LoadResult[] = [];
  let bareSdk: LoadResult;
  try {
    results.push(await load('bare node:http, single-event body', `${bare.url}/t/event`, single, 1));
    results.push(await load('bare node:http, 100-event body', `${bare.url}/t/bulk`, bulk, 100));
    bareSdk = await load('bare node:http, Node SDK batch body', `${bare.url}/bulk`, sdkBulk, 100, bareBearer);
  } finally {
    await stop(bare.child);
  }

  const home = await mkdtemp(join(tmpdir(), 'featurelake-bench-'));
  const stack = await startStack(home);
  try {
    const demo = JSON.parse(await readFile(join(home, 'demo-environment.json'), 'utf8'));
    results.push(
      await load('featurelake single event (durable)', `${stack.url}/${demo.tracking_key}/event`, single, 1),
    );
    results.push(await load('featurelake bulk of 100 (durable)', `${stack.url}/${demo.tracking_key}/bulk`, bulk, 100));
    // The Node SDK authenticates with the environment's API key (its secret key).
    const token = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
    const created = await fetch(`${stack.url}/admin/v1/environments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench-node-sdk', plan: 'pro' }),
    });
    const { api_key: apiKey } = (await created.json()) as { api_key: string };
    results.push(bareSdk);
    results.push(
      await load('featurelake Node SDK batch of 100, Bearer API key (durable)', `${stack.url}/bulk`, sdkBulk, 100, {
        authorization: `Bearer ${apiKey}`,
      }),
    );
    // Every acknowledged event, warm-up included, must be in the lake.
    const response = await fetch(`${stack.url}/admin/v1/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM events' }),
    });
    const lakeRows = ((await response.json()) as { rows: Array<{ n: number }> }).rows[0]?.n ?? 0;
    const expectedRows = results
      .filter((r) => r.name.startsWith('featurelake'))
      .reduce((sum, r) => sum + r.acknowledgedEvents, 0);
    return { results, lakeRows, expectedRows };
  } finally {
    await stop(stack.child);
    await rm(home, { recursive: true, force: true });
  }
}
