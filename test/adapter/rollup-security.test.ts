import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companyRollupSql } from '../../lambdas/core/company-export/rollup/sql.ts';
import type { RollupCatalog } from '../../lambdas/core/company-export/rollup/types.ts';
import { tempHome } from '../support/local-stack.ts';
import { openRollupLake, type RollupLake, type TrackingCall } from '../support/rollup-data.ts';
import { oracleRollup, parseCsv } from '../support/rollup-oracle.ts';

/**
 * Values never become SQL: ids, names, event names and attribute values full of SQL
 * metacharacters travel through export_inputs and the lake as data. And an export
 * sees one app and one job only.
 */
const NASTY = [
  "x' OR '1'='1",
  '"; DROP TABLE events; --',
  '?',
  'a\\b',
  '$$ $1 %s',
  'line\nbreak',
  "') UNION SELECT * FROM export_inputs --",
];

let home: string;
let lake: RollupLake;
let job = 0;
beforeAll(async () => {
  home = await tempHome('featurelake-rollup-security-');
  lake = await openRollupLake(home);
});
afterAll(async () => {
  await lake.close();
  await rm(home, { recursive: true, force: true });
});

const receivedAt = new Date('2025-03-01T00:00:00Z');
const at = (day: string) => `${day}T12:00:00.000Z`;

async function exportCsv(appId: string, catalog: RollupCatalog, asOf = '2025-02-15T00:00:00Z') {
  job += 1;
  return lake.export({ appId, jobId: `security-${job}`, catalog, aggregation: '30d_daily', asOf: new Date(asOf) });
}

describe('SQL metacharacters in catalog and data stay data', () => {
  const catalog: RollupCatalog = {
    features: [
      ...NASTY.map((text, i) => ({
        id: `${text}#${i}`,
        name: text,
        type: 'event' as const,
        event_names: [text],
      })),
      {
        id: "attr'",
        name: "Plan 'pro'",
        type: 'attribute',
        attribute: NASTY[0] as string,
        operator: 'eq',
        value: NASTY[1] as string,
      },
    ],
    segments: NASTY.map((text, i) => ({
      id: `${text}-seg${i}`,
      name: text,
      filters: [{ attribute: NASTY[0] as string, operator: 'contains' as const, value: text.slice(0, 3) }],
    })),
  };

  beforeAll(async () => {
    const calls: TrackingCall[] = [
      {
        type: 'company',
        companyId: NASTY[0] as string,
        timestamp: at('2025-01-20'),
        attributes: { [NASTY[0] as string]: NASTY[1], name: NASTY[6] },
      },
      ...NASTY.map((text, i) => ({
        type: 'event' as const,
        event: text,
        userId: NASTY[2] as string,
        companyId: NASTY[0] as string,
        timestamp: at(`2025-02-${String(i + 1).padStart(2, '0')}`),
      })),
    ];
    await lake.send('nasty', [{ receivedAt, calls }]);
  });

  it('the query runs unchanged and every value comes back as a cell, exactly as the oracle computes', async () => {
    const { csv, windows, rows } = await exportCsv('nasty', catalog);
    expect(parseCsv(csv)).toEqual(oracleRollup(lake.events, 'nasty', catalog, windows));
    const cells = parseCsv(csv);
    const lastDate = cells.filter((r) => r[4] === '2025-02-14');
    expect(lastDate.map((r) => r[2])).toEqual(expect.arrayContaining(NASTY));
    expect(lastDate.every((r) => r[0] === NASTY[0] && r[1] === NASTY[6])).toBe(true);
    // Each event feature was used on its own day: its name as event name matched as data.
    expect(lastDate.filter((r) => r[9] === 'tried')).toHaveLength(NASTY.length);
    // The attribute feature's key and value are both made of metacharacters.
    expect(lastDate.find((r) => r[3] === "attr'")?.[9]).toBe('retained');
    expect(rows).toBe(cells.length - 1);
  });

  it('the SQL text is one constant: nothing of the catalog or the data is in it', () => {
    const sql = companyRollupSql('duckdb');
    for (const text of NASTY.filter((t) => t.length > 3)) expect(sql.includes(text), text).toBe(false);
  });
});

describe('one app, one job', () => {
  const catalog: RollupCatalog = {
    features: [{ id: 'f', name: 'Reports', type: 'event', event_names: ['report'] }],
    segments: [{ id: 'pro', name: 'Pro', filters: [{ attribute: 'plan', operator: 'eq', value: 'pro' }] }],
  };
  beforeAll(async () => {
    // App A: company c1, its member u1, and u1's tracks without companyId.
    await lake.send('app-a', [
      {
        receivedAt,
        calls: [
          { type: 'company', companyId: 'c1', userId: 'u1', timestamp: at('2025-01-10'), attributes: { plan: 'free' } },
          { type: 'event', event: 'report', userId: 'u1', timestamp: at('2025-01-11') },
        ],
      },
    ]);
    // App B reuses every id: the same company with other attributes and uses, the same
    // user moved to another company, and a company A does not have.
    await lake.send('app-b', [
      {
        receivedAt,
        calls: [
          { type: 'company', companyId: 'c1', timestamp: at('2025-01-01'), attributes: { plan: 'pro', name: 'B' } },
          { type: 'company', companyId: 'c9', userId: 'u1', timestamp: at('2025-01-12') },
          ...Array.from({ length: 10 }, (_, i) => ({
            type: 'event' as const,
            event: 'report',
            userId: 'u1',
            companyId: 'c1',
            timestamp: at(`2025-02-${String(i + 1).padStart(2, '0')}`),
          })),
          { type: 'event', event: 'report', userId: 'u1', timestamp: at('2025-01-13') },
          { type: 'feedback', featureId: 'f', userId: 'u1', companyId: 'c1', score: 1, timestamp: at('2025-01-13') },
        ],
      },
    ]);
  });

  it('an export of app A holds only A’s companies and values, even where B shares their ids', async () => {
    const { csv, windows } = await exportCsv('app-a', catalog);
    const aOnly = lake.events.filter((e) => e.app_id === 'app-a');
    expect(parseCsv(csv)).toEqual(oracleRollup(aOnly, 'app-a', catalog, windows));
    const rows = parseCsv(csv).slice(1);
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(['c1']));
    const last = rows.at(-1) as string[];
    // A's u1 stays in A's c1; B's name, segment, uses and feedback stay in B.
    expect([last[1], last[7], last[8], last[9], last[15], last[16]]).toEqual([
      '',
      at('2025-01-11'),
      at('2025-01-11'),
      'tried',
      '0',
      '',
    ]);
  });

  it('an export reads only its own job’s inputs, though other jobs’ inputs sit beside them', async () => {
    const other: RollupCatalog = {
      features: [{ id: 'g', name: 'Other', type: 'event', event_names: ['report'] }],
      segments: [],
    };
    const [first, second] = await Promise.all([exportCsv('app-a', catalog), exportCsv('app-a', other)]);
    expect(
      new Set(
        parseCsv(first.csv)
          .slice(1)
          .map((r) => r[3]),
      ),
    ).toEqual(new Set(['f']));
    expect(
      new Set(
        parseCsv(second.csv)
          .slice(1)
          .map((r) => r[3]),
      ),
    ).toEqual(new Set(['g']));
  });
});
