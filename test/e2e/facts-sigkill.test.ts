import { randomInt } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakeShard } from '../../lambdas/contract/lake.ts';
import type { RollupAggregation } from '../../lambdas/core/company-export/rollup/types.ts';
import { http, spawnLocalStack, tempHome } from '../support/local-stack.ts';
import { openRollupLake, prng, randomRollupDataset } from '../support/rollup-data.ts';

/**
 * The daily facts workflow killed (SIGKILL of `npm start`, a child process) at a
 * random point of a build, then the stack started again on the same home:
 *
 * - an export right after the restart equals the full recompute (the reference,
 *   `FEATURELAKE_ROLLUP_FROM_FACTS=0` on the same lake): a build cut anywhere leaves
 *   the old facts current (or none), never half;
 * - the next build repairs it (it ends, and plans the cut days again), and an export
 *   after it still equals the reference;
 * - a build run twice changes nothing the second time.
 *
 * The lake is one oracle dataset (test/support/rollup-data.ts: late and retried
 * calls, moves between companies, attribute features) written straight into the
 * stack's lake with its own received times, all long closed. Kill points are drawn
 * from a seeded generator: the seed is printed; `FEATURELAKE_FAULT_SEED=<seed>` replays.
 */
const SEED = Number(process.env.FEATURELAKE_FAULT_SEED ?? randomInt(2 ** 31));
const random = prng(SEED);
// `today` runs the one-date text (the automatic exports'), the others the multi-date one.
const AGGREGATIONS: readonly RollupAggregation[] = ['30d_daily', '6m_weekly', 'today'];

type Child = Awaited<ReturnType<typeof spawnLocalStack>>;
let home: string;
let stack: Child | undefined;
let adminToken: string;
let env: { environment_id: string; api_key: string };
const dataset = randomRollupDataset(1 + (SEED % 1000));
/** The full recompute's CSV of each aggregation: what every export must equal. */
const reference = new Map<RollupAggregation, string>();
const log: string[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const adminHeaders = () => ({ authorization: `Bearer ${adminToken}` });

async function start(extraEnv: Record<string, string> = {}): Promise<Child> {
  stack = await spawnLocalStack(home, extraEnv);
  adminToken = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
  return stack;
}

async function stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const child = stack?.child;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
  stack = undefined;
}

async function companyExport(aggregation: RollupAggregation): Promise<string> {
  const url = stack?.url as string;
  const headers = { authorization: `Token ${env.api_key}` };
  const started = await http(`${url}/api/v1/company-exports`, {
    headers,
    body: { aggregation, as_of: dataset.asOf.toISOString() },
  });
  expect(started.status, started.text).toBe(202);
  for (let i = 0; i < 600; i++) {
    const job = await http(`${url}${started.body.links}`, { headers });
    if (job.body.status === 'completed') return (await fetch(job.body.download_url)).text();
    expect(job.body.status, `${job.text} (seed ${SEED}; ${log.join('; ')})`).toBe('running');
    await sleep(100);
  }
  throw new Error('the export did not end');
}

async function startBuild(body: Record<string, unknown> = {}): Promise<{ execution_name: string; links: string }> {
  const started = await http(`${stack?.url}/admin/v1/facts/build`, { headers: adminHeaders(), body });
  expect(started.status, started.text).toBe(202);
  return started.body;
}

async function buildStatus(links: string): Promise<string> {
  const status = await http(`${stack?.url}${links}`, { headers: adminHeaders() });
  expect(status.status, status.text).toBe(200);
  return status.body.status;
}

async function buildToTheEnd(body: Record<string, unknown> = {}): Promise<number> {
  const began = performance.now();
  const { links } = await startBuild(body);
  for (let i = 0; i < 1200; i++) {
    if ((await buildStatus(links)) !== 'running') return performance.now() - began;
    await sleep(50);
  }
  throw new Error('the facts build did not end');
}

/** The environment's facts build folders in the stack's lake (a killed build's may be among them). */
async function factsBuilds(): Promise<string[]> {
  const dir = join(home, 'lake', 'company_facts', `shard=${lakeShard(env.environment_id)}`, env.environment_id);
  return (await readdir(dir).catch(() => [])).filter((name) => !name.startsWith('.'));
}

/** Every aggregation's export, through the API, against the full recompute. */
async function expectExportsEqualTheReference(when: string): Promise<void> {
  for (const aggregation of AGGREGATIONS) {
    expect(await companyExport(aggregation), `${aggregation} ${when} (seed ${SEED}; ${log.join('; ')})`).toBe(
      reference.get(aggregation),
    );
  }
}

beforeAll(async () => {
  console.log(`facts SIGKILL test: FEATURELAKE_FAULT_SEED=${SEED}`);
  home = await tempHome('featurelake-facts-kill-');
  // An environment and its catalog, made through the API.
  await start();
  const created = await http(`${stack?.url}/admin/v1/environments`, {
    headers: adminHeaders(),
    body: { name: 'facts-kill', plan: 'enterprise' },
  });
  expect(created.status, created.text).toBe(201);
  env = created.body;
  for (const [kind, items] of [
    ['features', dataset.catalog.features],
    ['segments', dataset.catalog.segments],
  ] as const) {
    for (const { id, ...body } of items) {
      const put = await http(`${stack?.url}/api/v1/${kind}/${encodeURIComponent(id)}`, {
        method: 'PUT',
        headers: { authorization: `Token ${env.api_key}` },
        body,
      });
      expect(put.status, put.text).toBeLessThan(300);
    }
  }
  await stop('SIGTERM');
  // The dataset, written into the stopped stack's lake with its own (long past) received times.
  const lake = await openRollupLake(home);
  await lake.send(env.environment_id, dataset.batches, dataset.rows);
  await lake.close();
  // The reference: the full recompute, on the same lake.
  await start({ FEATURELAKE_ROLLUP_FROM_FACTS: '0' });
  for (const aggregation of AGGREGATIONS) reference.set(aggregation, await companyExport(aggregation));
  await stop('SIGTERM');
}, 240_000);

afterAll(async () => {
  await stop('SIGKILL');
  await rm(home, { recursive: true, force: true });
});

describe('the daily facts build killed at a random point', () => {
  it('a first build over all of history, cut: exports stay exact; the next build repairs; a second build changes nothing', async () => {
    await start();
    const killAfter = random.int(0, 1500);
    log.push(`first build killed after ${killAfter} ms`);
    const { links } = await startBuild();
    await sleep(killAfter);
    log.push(`status before the kill: ${await buildStatus(links)}`);
    await stop('SIGKILL');

    await start();
    // A run the killed process had started is not running any more.
    expect(['ended', 'unknown']).toContain(await buildStatus(links));
    await expectExportsEqualTheReference('after the kill, before any repair');

    const repairMs = await buildToTheEnd();
    log.push(`repair took ${Math.round(repairMs)} ms`);
    // The exports now read facts: the repair committed a build (its folder is in the lake).
    expect(await factsBuilds(), `seed ${SEED}`).not.toEqual([]);
    await expectExportsEqualTheReference('after the repairing build');
    // Twice: nothing is stale, nothing changes.
    await buildToTheEnd();
    await expectExportsEqualTheReference('after a build with nothing to do');
    await stop('SIGTERM');
  }, 240_000);

  it('a rebuild of every day, cut: the facts it would replace stay current; the next rebuild replaces them whole', async () => {
    await start();
    // The dataset's calls span the 230 days before its as_of (and a few after).
    const day = (offset: number) => new Date(dataset.asOf.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
    const days = { from: day(-240), to: day(-1) };
    const killAfter = random.int(0, 1500);
    log.push(`rebuild of ${days.from}..${days.to} killed after ${killAfter} ms`);
    const { links } = await startBuild({ environment_id: env.environment_id, days });
    await sleep(killAfter);
    log.push(`status before the kill: ${await buildStatus(links)}`);
    await stop('SIGKILL');

    await start();
    await expectExportsEqualTheReference('after the cut rebuild');
    await buildToTheEnd({ environment_id: env.environment_id, days });
    await expectExportsEqualTheReference('after the rebuild');
    const violations = await stack?.exchangeViolations();
    expect(violations).toEqual([]);
    await stop('SIGTERM');
  }, 240_000);
});
