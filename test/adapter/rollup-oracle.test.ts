import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLUP_AGGREGATIONS, type RollupAggregation } from '../../lambdas/core/company-export/rollup/types.ts';
import { tempHome } from '../support/local-stack.ts';
import { openRollupLake, type RollupDataset, type RollupLake, randomRollupDataset } from '../support/rollup-data.ts';
import { oracleRollup, parseCsv } from '../support/rollup-oracle.ts';

/**
 * The rollup on DuckDB against the oracle, cell for cell, on random datasets, each
 * written through the real path (tracking core → durable log → Parquet) into a lake
 * of its own. A failing seed is named in the message: `ROLLUP_SEEDS=<n>` replays it.
 */
const FIRST_SEED = Number(process.env.ROLLUP_SEED_BASE ?? Math.floor(Math.random() * 1e6));
const SEEDS = process.env.ROLLUP_SEEDS
  ? process.env.ROLLUP_SEEDS.split(',').map(Number)
  : Array.from({ length: 20 }, (_, i) => FIRST_SEED + i);

/**
 * The text as DuckDB runs it, and in the shape Trino runs (every WITH query inlined,
 * the versioned keys by a window: `rollupSqlFor`), so both shapes meet the oracle;
 * for the weekly aggregations also the facts-reading text's weekly shape over this
 * lake without facts (every record read raw, the running values summed per week).
 */
const SHAPES = ['duckdb', 'trino-shaped', 'weekly-text'] as const;
type Shape = (typeof SHAPES)[number];
const WEEKLY: readonly RollupAggregation[] = ['3m_weekly', '6m_weekly'];
/** Every shape with the aggregations it runs. */
const SHAPE_RUNS = SHAPES.flatMap((shape) =>
  ROLLUP_AGGREGATIONS.filter((a) => shape !== 'weekly-text' || WEEKLY.includes(a)).map((a) => [shape, a] as const),
);

interface SeedRun {
  readonly dataset: RollupDataset;
  readonly expected: Map<RollupAggregation, string[][]>;
  readonly actual: Map<`${Shape} ${RollupAggregation}`, { csv: string; rows: number }>;
}
const runs: SeedRun[] = [];
const homes: string[] = [];

/** Runs `tasks` a few at a time: one query's file reads overlap another's work. */
async function inPool(tasks: (() => Promise<void>)[], size: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < tasks.length) await (tasks[next++] as () => Promise<void>)();
    }),
  );
}

async function runSeed(seed: number): Promise<void> {
  const dataset = randomRollupDataset(seed);
  const home = await tempHome('featurelake-rollup-oracle-');
  homes.push(home);
  const lake: RollupLake = await openRollupLake(home);
  const run: SeedRun = { dataset, expected: new Map(), actual: new Map() };
  try {
    const appId = `app-${seed}`;
    await lake.send(appId, dataset.batches, dataset.rows);
    await Promise.all(
      SHAPE_RUNS.map(async ([shape, aggregation]) => {
        const { csv, rows, windows } = await lake.export({
          appId,
          jobId: `seed-${seed}-${aggregation.replace('_', '-')}-${shape}`,
          catalog: dataset.catalog,
          aggregation,
          asOf: dataset.asOf,
          trinoShaped: shape === 'trino-shaped',
          text: shape === 'weekly-text' ? 'weeks' : 'full',
        });
        run.actual.set(`${shape} ${aggregation}`, { csv, rows });
        if (shape === 'duckdb') {
          run.expected.set(aggregation, oracleRollup(lake.events, appId, dataset.catalog, windows));
        }
      }),
    );
  } finally {
    await lake.close();
  }
  runs.push(run);
}

beforeAll(async () => {
  await inPool(
    SEEDS.map((seed) => () => runSeed(seed)),
    2,
  );
}, 600_000);

afterAll(async () => {
  for (const home of homes) await rm(home, { recursive: true, force: true });
});

/** The first differing row, cell by cell, so a failure says what differs. */
function firstDifference(actual: string[][], expected: string[][]): string | undefined {
  const header = expected[0] ?? [];
  for (let i = 0; i < Math.max(actual.length, expected.length); i += 1) {
    const a = actual[i];
    const e = expected[i];
    if (JSON.stringify(a) === JSON.stringify(e)) continue;
    const cells = header
      .map((name, c) =>
        a?.[c] === e?.[c] ? undefined : `${name}: duckdb=${JSON.stringify(a?.[c])} oracle=${JSON.stringify(e?.[c])}`,
      )
      .filter(Boolean);
    return `row ${i} (${(e ?? a)?.slice(0, 5).join(' | ')}): ${cells.join('; ')}`;
  }
  return undefined;
}

describe(`company rollup on DuckDB equals the oracle (seeds ${SEEDS.join(',')})`, () => {
  for (const [shape, aggregation] of SHAPE_RUNS) {
    it(`${aggregation}, ${shape}: every cell of every seed`, () => {
      expect(runs).toHaveLength(SEEDS.length);
      let compared = 0;
      for (const { dataset, expected, actual } of runs) {
        const want = expected.get(aggregation) as string[][];
        const got = actual.get(`${shape} ${aggregation}`) as { csv: string; rows: number };
        const where = `seed ${dataset.seed} (as_of ${dataset.asOf.toISOString()}), ${aggregation}, ${shape}`;
        // Strict RFC 4180 parsing; the bytes may differ only in optional quoting
        // (DuckDB also quotes cells holding '#'), which export-csv re-encodes anyway.
        expect(firstDifference(parseCsv(got.csv), want), where).toBeUndefined();
        expect(got.rows, where).toBe(want.length - 1);
        compared += got.rows;
      }
      // Random data that produced (almost) no rows would prove nothing.
      expect(compared).toBeGreaterThan(20 * SEEDS.length);
    });
  }
});
