import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RollupCatalog } from '../../lambdas/core/company-export/rollup/types.ts';
import { tempHome } from '../support/local-stack.ts';
import { openRollupLake, type RollupLake, type TrackingCall } from '../support/rollup-data.ts';
import { oracleRollup, parseCsv } from '../support/rollup-oracle.ts';

/**
 * What an export keeps in memory that DuckDB cannot spill grows with companies ×
 * dates, not with the limit: such state (a list aggregate per company × date, once
 * the segment cells) failed a 6m_weekly export over a small lake at the stack's 1 GB
 * limit. Here 10,000 companies × 30 dates × 8 segments must fit a 192 MB limit,
 * which that list failed at 320 MB (and the mask passes at 128 MB).
 */
const COMPANIES = 10_000;
const LIMIT = '192MB';
const APP = 'memory';

let home: string;
let lake: RollupLake;

beforeAll(async () => {
  home = await tempHome('featurelake-rollup-memory-');
  lake = await openRollupLake(home, { memoryLimit: LIMIT });
  const calls: TrackingCall[] = [];
  for (let i = 0; i < COMPANIES; i += 1) {
    const companyId = `company-${String(i).padStart(6, '0')}`;
    const day = `2025-05-${String(1 + (i % 28)).padStart(2, '0')}`;
    calls.push({
      type: 'company',
      companyId,
      timestamp: `${day}T09:00:00.000Z`,
      attributes: { name: `A company named number ${i}`, seats: i % 12 },
    });
    calls.push({ type: 'event', event: 'report', userId: `u${i}`, companyId, timestamp: `${day}T10:00:00.000Z` });
  }
  await lake.send(APP, [{ receivedAt: new Date('2025-06-02T00:00:00Z'), calls }]);
}, 120_000);
afterAll(async () => {
  await lake.close();
  await rm(home, { recursive: true, force: true });
});

describe(`an export of ${COMPANIES} companies × 30 dates × 8 segments under a ${LIMIT} DuckDB limit`, () => {
  it('completes, and equals the oracle', async () => {
    const catalog: RollupCatalog = {
      features: [{ id: 'f', name: 'Reports', type: 'event', event_names: ['report'] }],
      segments: Array.from({ length: 8 }, (_, i) => ({
        id: `seg-${i}`,
        name: `Segment number ${i}, seats`,
        filters: [{ attribute: 'seats', operator: 'gte' as const, value: i }],
      })),
    };
    // The text an export of the stack runs: the facts-reading one, here over a lake without facts.
    const { csv, rows, windows } = await lake.export({
      appId: APP,
      jobId: 'memory',
      catalog,
      aggregation: '30d_daily',
      asOf: new Date('2025-06-01T00:00:00Z'),
      text: 'dates',
    });
    expect(rows).toBeGreaterThan(COMPANIES);
    expect(parseCsv(csv)).toEqual(oracleRollup(lake.events, APP, catalog, windows));
  }, 120_000);
});
