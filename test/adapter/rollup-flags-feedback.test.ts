import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  COMPANY_EXPORT_HEADER,
  RollupAggregation,
  RollupCatalog,
} from '../../lambdas/core/company-export/rollup/types.ts';
import { tempHome } from '../support/local-stack.ts';
import { type DirectRow, openRollupLake, type RollupLake, type TrackingCall } from '../support/rollup-data.ts';
import { oracleRollup, parseCsv } from '../support/rollup-oracle.ts';

/**
 * Issue 12 in the company export: feature-flag checks that count as uses of a
 * feature with `flag_checks`, the flag events and prompt events that count nowhere,
 * and feedback replaced by a later call with the same `feedbackId`. Flag and prompt
 * events are written as lake rows (docs/rollup.md gives their shape); the rest goes
 * through the tracking core. Every export is also checked against the oracle.
 */
type Row = Record<(typeof COMPANY_EXPORT_HEADER)[number], string>;

let home: string;
let lake: RollupLake;
let jobs = 0;

beforeAll(async () => {
  home = await tempHome('featurelake-rollup-flags-');
  lake = await openRollupLake(home);
});
afterAll(async () => {
  await lake.close();
  await rm(home, { recursive: true, force: true });
});

const RECEIVED = new Date('2026-01-01T00:00:00Z');
const noon = (date: string) => `${date}T12:00:00.000Z`;

async function exportRows(appId: string, catalog: RollupCatalog, aggregation: RollupAggregation, asOf: string) {
  jobs += 1;
  const { csv, windows } = await lake.export({
    appId,
    jobId: `flags-${jobs}`,
    catalog,
    aggregation,
    asOf: new Date(asOf),
  });
  expect(parseCsv(csv)).toEqual(oracleRollup(lake.events, appId, catalog, windows));
  const [header, ...rows] = parseCsv(csv);
  return rows.map((cells) => Object.fromEntries(cells.map((cell, i) => [header?.[i], cell])) as Row);
}

let flagNo = 0;
function flag(
  key: string,
  date: string,
  options: { action?: string; evalResult?: unknown; companyId?: string | null; userId?: string } = {},
): DirectRow {
  flagNo += 1;
  const companyId = options.companyId === undefined ? 'c' : options.companyId;
  const userId = options.userId ?? 'u1';
  return {
    event_id: `flag-${flagNo}`,
    event_type: 'feature_flag',
    event_name: options.action ?? 'check',
    user_id: userId,
    company_id: companyId,
    feature_id: key,
    attributes: JSON.stringify({
      targetingVersion: 2,
      evalResult: 'evalResult' in options ? options.evalResult : true,
      evalContext: { user: { id: userId }, ...(companyId === null ? {} : { company: { id: companyId } }) },
      evalRuleResults: [true],
    }),
    context_active: true,
    timestamp: noon(date),
    received_at: RECEIVED.toISOString(),
  };
}

describe('feature-flag checks as uses', () => {
  const catalog: RollupCatalog = {
    features: [
      { id: 'beta', name: 'Beta', type: 'event', event_names: ['beta-used'], flag_checks: false },
      { id: 'dark', name: 'Dark mode', type: 'event', event_names: [], flag_checks: true },
    ],
    segments: [],
  };
  beforeAll(async () => {
    const calls: TrackingCall[] = [{ type: 'company', companyId: 'c', userId: 'u1', timestamp: noon('2025-01-01') }];
    await lake.send(
      'flags',
      [{ receivedAt: RECEIVED, calls }],
      [
        flag('dark', '2025-01-05'),
        // Without a companyId: the user's company, as for a track.
        flag('dark', '2025-01-07', { action: 'check-is-enabled', companyId: null }),
        // No use: another action, a disabled or not-JSON-true result, a feature without flag_checks.
        flag('dark', '2025-01-09', { action: 'check-config' }),
        flag('dark', '2025-01-10', { action: 'evaluate' }),
        flag('dark', '2025-01-11', { evalResult: false }),
        flag('dark', '2025-01-12', { evalResult: 'true' }),
        flag('beta', '2025-01-13'),
        flag('unknown', '2025-01-14'),
        // A company that only flag events that are no use, and prompt events, carry.
        flag('dark', '2025-01-15', { companyId: 'ghost', evalResult: false }),
        {
          event_id: 'prompt-1',
          event_type: 'prompt_event',
          event_name: 'received',
          user_id: 'u2',
          company_id: 'ghost',
          feature_id: 'dark',
          attributes: JSON.stringify({ promptId: 'p1', promptedQuestion: 'Like it?' }),
          context_active: true,
          timestamp: noon('2025-01-16'),
          received_at: RECEIVED.toISOString(),
        },
      ],
    );
  });

  it('an enabled check of a feature with flag_checks is a use, with or without a companyId; nothing else is', async () => {
    const rows = await exportRows('flags', catalog, 'today', '2025-02-01T00:00:00Z');
    expect(rows.map((r) => [r['Company ID'], r['Feature ID'], r['First Used'], r['Last Used']])).toEqual([
      ['c', 'beta', '', ''],
      ['c', 'dark', '2025-01-05T12:00:00.000Z', '2025-01-07T12:00:00.000Z'],
    ]);
    // The flag events that are no use do not make the company seen either.
    expect(rows[1]?.['Last Seen']).toBe('2025-01-07T12:00:00.000Z');
    expect(rows[1]?.['STARS State Label']).toBe('tried');
  });

  it('counts at each date like tracks (30d_daily: used from the date of the first check on)', async () => {
    const rows = await exportRows('flags', catalog, '30d_daily', '2025-01-10T00:00:00Z');
    const dark = rows.filter((r) => r['Feature ID'] === 'dark');
    expect(dark.find((r) => r.Date === '2025-01-04')?.['STARS State Label']).toBe('never');
    expect(dark.find((r) => r.Date === '2025-01-05')?.['First Used']).toBe('2025-01-05T12:00:00.000Z');
    expect(dark.find((r) => r.Date === '2025-01-06')?.['Last Used']).toBe('2025-01-05T12:00:00.000Z');
    expect(dark.find((r) => r.Date === '2025-01-07')?.['Last Used']).toBe('2025-01-07T12:00:00.000Z');
  });

  it('a feature without flag_checks ignores checks of its id', async () => {
    const withFlags: RollupCatalog = {
      features: [{ id: 'beta', name: 'Beta', type: 'event', event_names: ['beta-used'], flag_checks: true }],
      segments: [],
    };
    const [withOption] = await exportRows('flags', withFlags, 'today', '2025-02-01T00:00:00Z');
    expect(withOption?.['First Used']).toBe('2025-01-13T12:00:00.000Z');
  });
});

describe('feedback replaced by a later call with the same feedbackId', () => {
  const catalog: RollupCatalog = {
    features: [
      { id: 'f', name: 'Reports', type: 'event', event_names: ['report'] },
      { id: 'g', name: 'Goals', type: 'event', event_names: ['goal'] },
    ],
    segments: [],
  };
  const feedback = (date: string, fields: Record<string, unknown>): TrackingCall => ({
    type: 'feedback',
    userId: 'u1',
    timestamp: noon(date),
    ...fields,
  });
  beforeAll(async () => {
    await lake.send('feedback-id', [
      {
        receivedAt: RECEIVED,
        calls: [
          { type: 'company', companyId: 'c', userId: 'u1', timestamp: noon('2025-01-01') },
          feedback('2025-01-05', { featureId: 'f', companyId: 'c', score: 1, attributes: { feedbackId: 'x' } }),
          // Feedback without a feedbackId always counts.
          feedback('2025-01-06', { featureId: 'f', companyId: 'c', score: 2 }),
          // The same feedbackId: replaces the first from its own timestamp on (here without companyId).
          feedback('2025-01-08', { featureId: 'f', score: 5, comment: 'better', attributes: { feedbackId: 'x' } }),
          // …and is replaced in turn by feedback on another feature.
          feedback('2025-01-20', { featureId: 'g', companyId: 'c', score: 3, attributes: { feedbackId: 'x' } }),
        ],
      },
    ]);
  });

  it('counts only the latest version before each date, once, with its own score and feature', async () => {
    const rows = await exportRows('feedback-id', catalog, '30d_daily', '2025-01-31T00:00:00Z');
    const cell = (date: string, feature: string) => {
      const row = rows.find((r) => r.Date === date && r['Feature ID'] === feature);
      return [row?.['Feedback Count'], row?.Satisfaction];
    };
    expect(cell('2025-01-04', 'f')).toEqual(['0', '']);
    expect(cell('2025-01-05', 'f')).toEqual(['1', '1']);
    expect(cell('2025-01-06', 'f')).toEqual(['2', '2']); // 1 and 2: 1.5 rounds up
    expect(cell('2025-01-07', 'f')).toEqual(['2', '2']);
    expect(cell('2025-01-08', 'f')).toEqual(['2', '4']); // 5 replaced 1: (5 + 2) / 2 = 3.5 → 4
    expect(cell('2025-01-19', 'g')).toEqual(['0', '']);
    expect(cell('2025-01-20', 'f')).toEqual(['1', '2']);
    expect(cell('2025-01-20', 'g')).toEqual(['1', '3']);
  });
});
