import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROLLUP_AGGREGATIONS,
  type RollupAggregation,
  type RollupCatalog,
} from '../../lambdas/core/company-export/rollup/types.ts';
import { tempHome } from '../support/local-stack.ts';
import { prng, randomRollupDataset } from '../support/rollup-data.ts';
import { openFactsLake, timeline } from '../support/rollup-facts.ts';
import { dedupe, oracleRollup, parseCsv } from '../support/rollup-oracle.ts';

/**
 * The rollup reading daily facts, against the oracle, cell for cell, on random
 * datasets whose calls arrive over time (late, backfilled, retried across midnight
 * and across builds), with facts built at random instants of that timeline (complete
 * runs, and runs restricted to some days, so some days are built, some rebuilt, some
 * never), exports at random instants in between, and a catalog edited between two
 * exports. `ROLLUP_FACTS_SEEDS=<n>` replays a seed.
 */
const FIRST_SEED = Number(process.env.ROLLUP_SEED_BASE ?? Math.floor(Math.random() * 1e6));
const SEEDS = process.env.ROLLUP_FACTS_SEEDS
  ? process.env.ROLLUP_FACTS_SEEDS.split(',').map(Number)
  : Array.from({ length: 20 }, (_, i) => FIRST_SEED + i);

const DAY_MS = 86_400_000;
/** One aggregation per export keeps the suite's time in bounds; over the seeds all four run. */
const aggregationOf = (n: number) => ROLLUP_AGGREGATIONS[n % ROLLUP_AGGREGATIONS.length] as RollupAggregation;

interface Comparison {
  readonly where: string;
  readonly actual: string[][];
  readonly expected: string[][];
}
const comparisons: Comparison[] = [];
const stats = { builds: 0, partialBuilds: 0, builtDays: 0, factRows: 0, exports: 0, countedAgain: 0 };
const homes: string[] = [];

async function runSeed(seed: number): Promise<void> {
  const dataset = randomRollupDataset(seed);
  const r = prng(seed * 31 + 7);
  const deliveries = timeline(dataset, r);
  const home = await tempHome('featurelake-rollup-facts-');
  homes.push(home);
  const facts = await openFactsLake(home);
  const appId = `app-${seed}`;
  try {
    const first = deliveries[0]?.receivedAt.getTime() ?? 0;
    const last = deliveries[deliveries.length - 1]?.receivedAt.getTime() ?? 0;
    // Builds at random instants (sorted), some restricted to a random range of days.
    const builds = Array.from({ length: r.int(2, 5) }, () => first + r.next() * (last - first + 3 * DAY_MS)).sort(
      (a, b) => a - b,
    );
    const exportAfter = new Set([r.int(0, builds.length - 1)]);
    const catalogs = [dataset.catalog, randomRollupDataset(seed + 1_000_003).catalog];
    const exportNow = async (label: string, runs: readonly (readonly [number, RollupAggregation])[]) => {
      for (const [c, aggregation] of runs) {
        const catalog = catalogs[c] as RollupCatalog;
        {
          const jobId = `s${seed}-${label}-${c}-${aggregation.replace('_', '-')}`;
          const { csv, windows } = await facts.exportFromFacts({
            appId,
            jobId,
            catalog,
            aggregation,
            asOf: dataset.asOf,
          });
          stats.exports += 1;
          comparisons.push({
            where: `seed ${seed} (as_of ${dataset.asOf.toISOString()}), ${label}, catalog ${c}, ${aggregation}`,
            actual: parseCsv(csv),
            expected: oracleRollup(facts.lake.events, appId, catalog, windows),
          });
        }
      }
    };
    for (const [i, at] of builds.entries()) {
      const now = new Date(at);
      await facts.deliver(appId, deliveries, now);
      const partial = r.chance(0.3);
      const from = new Date(first + r.next() * (at - first)).toISOString().slice(0, 10);
      const days = partial
        ? { from, to: new Date(Date.parse(from) + r.int(0, 40) * DAY_MS).toISOString().slice(0, 10) }
        : undefined;
      const built = await facts.build(appId, now, days);
      stats.builds += 1;
      stats.partialBuilds += partial ? 1 : 0;
      stats.builtDays += built.days;
      stats.factRows += built.rows;
      if (exportAfter.has(i)) await exportNow(`after-build-${i}`, [[0, aggregationOf(seed + i)]]);
    }
    // Everything received, later records after the last build (late arrivals raw), then the final exports.
    await facts.deliver(appId, deliveries, new Date(last));
    // Copies sent again after the de-duplication horizon, which count again (more than one kept copy).
    const kept = dedupe(facts.lake.events.filter((e) => e.app_id === appId)).map((e) => e.event_id);
    stats.countedAgain += kept.length - new Set(kept).size;
    // The same aggregation with the catalog as it was, and as edited since.
    const final = aggregationOf(seed + r.int(0, 3));
    await exportNow('final', [
      [0, final],
      [1, final],
    ]);
  } finally {
    await facts.close();
  }
}

/** Two seeds at a time: one's file reads overlap the other's work. */
beforeAll(async () => {
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < SEEDS.length) await runSeed(SEEDS[next++] as number);
    }),
  );
}, 900_000);

afterAll(async () => {
  for (const home of homes) await rm(home, { recursive: true, force: true });
});

function firstDifference(actual: string[][], expected: string[][]): string | undefined {
  const header = expected[0] ?? [];
  for (let i = 0; i < Math.max(actual.length, expected.length); i += 1) {
    const a = actual[i];
    const e = expected[i];
    if (JSON.stringify(a) === JSON.stringify(e)) continue;
    const cells = header
      .map((name, c) =>
        a?.[c] === e?.[c] ? undefined : `${name}: facts=${JSON.stringify(a?.[c])} oracle=${JSON.stringify(e?.[c])}`,
      )
      .filter(Boolean);
    return `row ${i} (${(e ?? a)?.slice(0, 5).join(' | ')}): ${cells.join('; ')}`;
  }
  return undefined;
}

describe(`company rollup from daily facts equals the oracle (seeds ${SEEDS.join(',')})`, () => {
  it('every cell of every export, whatever facts were built when', () => {
    expect(comparisons.length).toBeGreaterThanOrEqual(SEEDS.length * 3);
    let rows = 0;
    for (const { where, actual, expected } of comparisons) {
      expect(firstDifference(actual, expected), where).toBeUndefined();
      rows += expected.length - 1;
    }
    // Random data that produced (almost) no rows, or builds that wrote nothing, would prove nothing.
    expect(rows).toBeGreaterThan(20 * SEEDS.length);
    expect(stats.builtDays).toBeGreaterThan(0);
    expect(stats.factRows).toBeGreaterThan(0);
    expect(stats.partialBuilds).toBeGreaterThan(0);
    expect(stats.countedAgain).toBeGreaterThan(0);
  });
});
