import { spawn } from 'node:child_process';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACTS_RETIRED_GRACE_MS } from '../../lambdas/contract/facts.ts';
import { earliestReceivedDate } from '../../lambdas/contract/lake.ts';
import { factsSnapshot } from '../../lambdas/core/company-export/facts/manifest.ts';
import { rawReadsFrom } from '../../lambdas/core/company-export/rollup/sql.ts';
import { COMPANY_EXPORT_HEADER } from '../../lambdas/core/company-export/rollup/types.ts';
import { aggregationWindows } from '../../lambdas/core/company-export/rollup/windows.ts';
import { STARS_FUNNEL_STATES, starsFunnel } from '../../lambdas/core/insights/lake-insights.ts';
import { tempHome } from '../support/local-stack.ts';
import { prng, type RollupDataset, randomRollupDataset } from '../support/rollup-data.ts';
import { type FactsLake, openFactsLake, timeline } from '../support/rollup-facts.ts';
import { oracleRollup, parseCsv } from '../support/rollup-oracle.ts';

/**
 * The facts build's invariants on one real local lake: a build killed midway (a real
 * SIGKILL of the process running it) changes nothing an export sees, and the next run
 * repairs it; a second run changes nothing; and an export really reads the facts (not
 * the raw records they summarise).
 */
const SEED = 4242;
const DAY_MS = 86_400_000;
const appId = 'app-crash';
let home: string;
let facts: FactsLake;
let dataset: RollupDataset;
let lastReceipt: Date;

async function exportEqualsOracle(label: string, aggregation: '30d_daily' | '6m_weekly' = '30d_daily') {
  const { csv, windows } = await facts.exportFromFacts({
    appId,
    jobId: `crash-${label}-${aggregation.replace('_', '-')}`,
    catalog: dataset.catalog,
    aggregation,
    asOf: dataset.asOf,
  });
  const expected = oracleRollup(facts.lake.events, appId, dataset.catalog, windows);
  expect(parseCsv(csv), label).toEqual(expected);
  expect(expected.length, label).toBeGreaterThan(10);
  return csv;
}

function runChild(killAt: string, now: Date): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/support/facts-build-child.ts',
        JSON.stringify({
          lakeDir: facts.lake.lakeDir,
          dynamoEndpoint: facts.dynamoEndpoint,
          table: 'state',
          appId,
          now: now.toISOString(),
        }),
      ],
      { env: { ...process.env, FACTS_KILL_AT: killAt }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  // Retries left out: the "facts are read" test moves raw files away, which would hide their originals.
  const full = randomRollupDataset(SEED);
  const seen = new Set<string>();
  dataset = {
    ...full,
    batches: full.batches.slice(0, 1),
    rows: full.rows.filter((row) => !seen.has(row.event_id) && seen.add(row.event_id)),
  };
  const deliveries = timeline(dataset, prng(SEED));
  lastReceipt = deliveries[deliveries.length - 1]?.receivedAt as Date;
  home = await tempHome('featurelake-facts-crash-');
  facts = await openFactsLake(home);
  await facts.deliver(appId, deliveries, lastReceipt);
  // Flush the log into the lake before a child process reads it.
  await exportEqualsOracle('before');
}, 300_000);

afterAll(async () => {
  await facts?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('daily facts build', () => {
  const now = () => new Date(lastReceipt.getTime() + 2 * DAY_MS);

  it('killed while writing its files: nothing becomes current, exports stay exact, the next run repairs it', async () => {
    const killed = await runChild('during-write', now());
    expect(killed.signal).toBe('SIGKILL');
    expect(JSON.parse(killed.out.split('\n')[0] as string).days).toBeGreaterThan(0);
    expect(await facts.readManifest(appId)).toBeUndefined();
    await exportEqualsOracle('after-kill-during-write');
  }, 120_000);

  it('killed after writing, before the commit: the folder is never read, the next run builds and commits, cleanup removes the orphan', async () => {
    const killed = await runChild('before-commit', now());
    expect(killed.signal).toBe('SIGKILL');
    const orphan = JSON.parse(killed.out.split('\n')[0] as string).build_id as string;
    expect(await facts.files.listFactsBuilds(appId)).toContain(orphan);
    expect(await facts.readManifest(appId)).toBeUndefined();
    await exportEqualsOracle('after-kill-before-commit');

    // The next run (in this process) repairs: it builds every closed day and commits.
    const repaired = await facts.build(appId, now());
    expect(repaired.days).toBeGreaterThan(0);
    const manifest = await facts.readManifest(appId);
    expect(manifest?.version).toBe(1);
    expect(Object.keys(manifest?.builds ?? {})).not.toContain(orphan);
    await exportEqualsOracle('after-repair');
    await exportEqualsOracle('after-repair', '6m_weekly');

    // The orphan is kept through the grace period (an export could in principle be reading), then deleted.
    expect(await facts.files.listFactsBuilds(appId)).toContain(orphan);
    await facts.build(appId, new Date(now().getTime() + FACTS_RETIRED_GRACE_MS + DAY_MS));
    expect(await facts.files.listFactsBuilds(appId)).not.toContain(orphan);
    await exportEqualsOracle('after-cleanup');
  }, 300_000);

  it('run twice: the second run builds nothing and changes no day', async () => {
    const later = new Date(now().getTime() + FACTS_RETIRED_GRACE_MS + 2 * DAY_MS);
    const before = await facts.readManifest(appId);
    const first = await facts.build(appId, later);
    const afterFirst = await facts.readManifest(appId);
    const second = await facts.build(appId, later);
    const afterSecond = await facts.readManifest(appId);
    // The first run may add the closed days since the last run (no records: empty facts); the second adds nothing.
    expect(first.rows).toBe(0);
    expect(second.days).toBe(0);
    expect(afterSecond?.spans).toEqual(afterFirst?.spans);
    expect(afterSecond?.builds).toEqual(afterFirst?.builds);
    expect(before?.watermark && afterSecond?.watermark && afterSecond.watermark >= before.watermark).toBe(true);
    await exportEqualsOracle('after-second-run');
  }, 300_000);

  it('a rebuild of named days rebuilds them though they are current: one new build for exactly those days, the watermark kept, exports exact', async () => {
    const later = new Date(now().getTime() + FACTS_RETIRED_GRACE_MS + 2 * DAY_MS);
    const before = await facts.readManifest(appId);
    const day = (offset: number) => new Date(dataset.asOf.getTime() + offset * DAY_MS).toISOString().slice(0, 10);
    const days = { from: day(-12), to: day(-10) };
    // Nothing is stale: an unrestricted run builds nothing.
    expect((await facts.build(appId, later)).days).toBe(0);
    const rebuilt = await facts.build(appId, later, days);
    expect(rebuilt.days).toBe(3);
    expect(rebuilt.rows).toBeGreaterThan(0);
    const after = await facts.readManifest(appId);
    const newBuilds = Object.keys(after?.builds ?? {}).filter((id) => !(id in (before?.builds ?? {})));
    expect(newBuilds).toHaveLength(1);
    expect(after?.spans.filter((span) => span.build_id === newBuilds[0])).toEqual([
      { from: days.from, to: days.to, build_id: newBuilds[0] },
    ]);
    expect(after?.watermark).toBe(before?.watermark);
    await exportEqualsOracle('after-rebuild-of-named-days');
  }, 300_000);

  it('an export reads the facts: with every raw file received before its raw reads begin moved away, its CSV is the same', async () => {
    const manifest = await facts.readManifest(appId);
    const lastD = new Date(Date.parse(`${dataset.asOf.toISOString().slice(0, 10)}T00:00:00.000Z`));
    const rawFrom = rawReadsFrom(
      factsSnapshot(manifest, lastD.toISOString().slice(0, 10)),
      manifest?.watermark ?? null,
    );
    expect(rawFrom).toBe(earliestReceivedDate(lastD.toISOString().slice(0, 10)));
    const eventsDir = join(facts.lake.lakeDir, 'events');
    const aside = join(home, 'aside');
    let moved = 0;
    for (const file of await listTree(eventsDir)) {
      const received = /received=(\d{4}-\d{2}-\d{2})/.exec(file)?.[1] as string;
      if (received >= rawFrom) continue;
      const target = join(aside, file.slice(eventsDir.length));
      await mkdir(join(target, '..'), { recursive: true });
      await rename(file, target);
      moved += 1;
    }
    expect(moved).toBeGreaterThan(0);
    try {
      await exportEqualsOracle('raw-moved-away');
      // The console's STARS funnel runs the same text over the same facts: its counts are
      // the oracle's today rows, which the full recompute could not give without those files.
      const funnel = await starsFunnel(
        {
          engine: facts.lake.engine,
          dialect: 'duckdb',
          catalog: {
            listFeatures: async () => dataset.catalog.features as never,
            listSegments: async () => dataset.catalog.segments as never,
          },
          inputs: facts.lake.inputs,
          facts: facts.manifest,
        },
        appId,
        { as_of: dataset.asOf.toISOString() },
        dataset.asOf,
      );
      const today = oracleRollup(
        facts.lake.events,
        appId,
        dataset.catalog,
        aggregationWindows('today', dataset.asOf),
      ).slice(1);
      const header = COMPANY_EXPORT_HEADER as readonly string[];
      const [idColumn, stateColumn] = [header.indexOf('Feature ID'), header.indexOf('STARS State')];
      const expected = dataset.catalog.features.map((feature) => {
        const counts = { never: 0, tried: 0, retained: 0, churned: 0 };
        for (const row of today) {
          const state = STARS_FUNNEL_STATES[row[stateColumn] as string];
          if (row[idColumn] === feature.id && state) counts[state] += 1;
        }
        return { feature_id: feature.id, feature_name: feature.name, ...counts };
      });
      expect(funnel.features).toEqual(expected);
      expect(expected.some((f) => f.tried + f.retained + f.churned > 0)).toBe(true);
    } finally {
      for (const file of await listTree(aside)) {
        const target = join(eventsDir, file.slice(aside.length));
        await mkdir(join(target, '..'), { recursive: true });
        await rename(file, target);
      }
    }
  }, 300_000);
});
