import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_ID_DEDUP_DAYS } from '../../lambdas/contract/lake.ts';
import {
  COMPANY_EXPORT_HEADER,
  type RollupAggregation,
  type RollupCatalog,
} from '../../lambdas/core/company-export/rollup/types.ts';
import { tempHome } from '../support/local-stack.ts';
import { openRollupLake, type RollupLake, type TrackingCall } from '../support/rollup-data.ts';
import { oracleRollup, parseCsv } from '../support/rollup-oracle.ts';

/**
 * Hand-written cases for the definitions whose edges matter most: each STARS
 * transition, each frequency tier at its exact threshold, satisfaction rounding,
 * First/Last Seen with inactive calls, users moving between companies, retries.
 * Every case is its own app in one lake, written through the tracking core; every
 * export is also checked against the oracle.
 */
type Row = Record<(typeof COMPANY_EXPORT_HEADER)[number], string>;

let home: string;
let lake: RollupLake;
let jobs = 0;

beforeAll(async () => {
  home = await tempHome('featurelake-rollup-cases-');
  lake = await openRollupLake(home);
});
afterAll(async () => {
  await lake.close();
  await rm(home, { recursive: true, force: true });
});

const at = (iso: string) => `${iso.length === 10 ? `${iso}T12:00:00.000` : iso.replace(/Z$/, '')}Z`;
const company = (companyId: string, when: string, extra: Partial<TrackingCall> = {}): TrackingCall => ({
  type: 'company',
  companyId,
  timestamp: at(when),
  ...extra,
});
const track = (event: string, when: string, extra: Partial<TrackingCall> = {}): TrackingCall => ({
  type: 'event',
  event,
  userId: 'u1',
  timestamp: at(when),
  ...extra,
});
/** Track calls on every date from..to (inclusive), at noon. */
function daily(event: string, companyId: string, from: string, to: string): TrackingCall[] {
  const calls: TrackingCall[] = [];
  for (let d = Date.parse(`${from}T00:00:00Z`); d <= Date.parse(`${to}T00:00:00Z`); d += 86_400_000) {
    calls.push(track(event, new Date(d).toISOString().slice(0, 10), { companyId }));
  }
  return calls;
}

async function send(appId: string, calls: TrackingCall[], receivedAt = new Date('2026-01-01T00:00:00Z')) {
  await lake.send(appId, [{ receivedAt, calls }]);
}

async function exportRows(
  appId: string,
  catalog: RollupCatalog,
  aggregation: RollupAggregation,
  asOf: string,
): Promise<Row[]> {
  jobs += 1;
  const { csv, windows } = await lake.export({
    appId,
    jobId: `case-${jobs}`,
    catalog,
    aggregation,
    asOf: new Date(asOf),
  });
  expect(parseCsv(csv)).toEqual(oracleRollup(lake.events, appId, catalog, windows));
  if (windows.length === 1) {
    // The automatic exports' shape of the facts-reading text (one aggregation per
    // timeline), on these threshold cases too: the same bytes.
    jobs += 1;
    const oneDate = await lake.export({
      appId,
      jobId: `case-${jobs}`,
      catalog,
      aggregation,
      asOf: new Date(asOf),
      text: 'one-date',
    });
    expect(oneDate.csv).toBe(csv);
  } else if (aggregation.endsWith('_weekly')) {
    // The weekly exports' shape (running values over weekly sums): the same bytes.
    jobs += 1;
    const weekly = await lake.export({
      appId,
      jobId: `case-${jobs}`,
      catalog,
      aggregation,
      asOf: new Date(asOf),
      text: 'weeks',
    });
    expect(weekly.csv).toBe(csv);
  }
  const [header, ...rows] = parseCsv(csv);
  expect(header).toEqual([...COMPANY_EXPORT_HEADER]);
  return rows.map((cells) => Object.fromEntries(cells.map((cell, i) => [header?.[i], cell])) as Row);
}

async function rowOf(appId: string, catalog: RollupCatalog, asOf: string, companyId: string, featureId: string) {
  const rows = await exportRows(appId, catalog, 'today', asOf);
  const row = rows.find((r) => r['Company ID'] === companyId && r['Feature ID'] === featureId);
  if (!row) throw new Error(`no row for ${companyId} × ${featureId} as of ${asOf}`);
  return row;
}

const usesFeature: RollupCatalog = {
  features: [{ id: 'f', name: 'Reports', type: 'event', event_names: ['report'] }],
  segments: [],
};

describe('STARS: never → tried → retained → churned → retained', () => {
  beforeAll(async () => {
    await send('stars', [
      company('c', '2025-01-01'),
      track('report', '2025-01-05', { companyId: 'c' }),
      ...daily('report', 'c', '2025-01-10', '2025-01-14'),
      track('report', '2025-03-01', { companyId: 'c' }),
    ]);
  });
  const stars = async (asOf: string) => {
    const row = await rowOf('stars', usesFeature, asOf, 'c', 'f');
    return [row['STARS State'], row['STARS State Label']];
  };

  it('never before the first use', async () => {
    expect(await stars('2025-01-05T00:00:00Z')).toEqual(['1', 'never']);
  });
  it('tried after one use (1 active day of the 5 adoption needs)', async () => {
    expect(await stars('2025-01-06T00:00:00Z')).toEqual(['2', 'tried']);
  });
  it('still tried with 5 active days of which only 4 fall in one 28-date window', async () => {
    // 01-05 and 01-10..01-13: five days, inside 28 dates → adopted only once 01-13 counts.
    expect(await stars('2025-01-13T00:00:00Z')).toEqual(['2', 'tried']);
    expect(await stars('2025-01-14T00:00:00Z')).toEqual(['3', 'retained']);
  });
  it('retained while an active day lies in the 28 days before D, churned the instant it does not', async () => {
    // Last active day 01-14: the 28 days before D = 02-11 00:00 are 01-14..02-10.
    expect(await stars('2025-02-11T00:00:00Z')).toEqual(['3', 'retained']);
    expect(await stars('2025-02-11T00:00:00.001Z')).toEqual(['4', 'churned']);
  });
  it('retained again after a new use, since adoption once reached stays reached', async () => {
    expect(await stars('2025-03-02T00:00:00Z')).toEqual(['3', 'retained']);
  });
});

describe('adoption and retention thresholds of a feature override DESIGN’s defaults', () => {
  const strict: RollupCatalog = {
    features: [
      {
        id: 'f',
        name: 'Reports',
        type: 'event',
        event_names: ['report'],
        adoption: { min_active_days: 3, window_days: 3 },
        retention: { min_active_days: 2, window_days: 7 },
      },
    ],
    segments: [],
  };
  beforeAll(async () => {
    await send('thresholds', [
      company('c', '2025-01-01'),
      ...daily('report', 'c', '2025-01-02', '2025-01-03'),
      track('report', '2025-01-05', { companyId: 'c' }),
      ...daily('report', 'c', '2025-01-10', '2025-01-12'),
    ]);
  });
  it('3 active days within 3 dates adopt; 2 active days in the last 7 retain', async () => {
    const at = async (asOf: string) => (await rowOf('thresholds', strict, asOf, 'c', 'f'))['STARS State Label'];
    expect(await at('2025-01-09T00:00:00Z')).toBe('tried'); // 01-02, 01-03, 01-05: not 3 in any 3 dates
    expect(await at('2025-01-13T00:00:00Z')).toBe('retained'); // 01-10..12 adopt, and retain
    expect(await at('2025-01-18T00:00:00Z')).toBe('retained'); // 01-11, 01-12 in 01-11..01-17
    expect(await at('2025-01-19T00:00:00Z')).toBe('churned'); // only 01-12 in 01-12..01-18
  });
});

describe('frequency tiers at their exact thresholds (as of D = 2025-06-01 00:00, E = 05-31)', () => {
  const asOf = '2025-06-01T00:00:00Z';
  beforeAll(async () => {
    await send('frequency', [
      // Daily: 8 active days in the 14 days before D; 7 is not Daily.
      company('daily-8', '2025-01-01'),
      ...daily('report', 'daily-8', '2025-05-18', '2025-05-25'), // 05-18..05-25 = 8 days inside 05-18..05-31
      company('daily-7', '2025-01-01'),
      ...daily('report', 'daily-7', '2025-05-25', '2025-05-31'), // 7 days, all in the last 7-date block
      // Weekly: active in 3 of the four 7-date blocks ending with E (05-25..31, 05-18..24, 05-11..17, 05-04..10).
      company('weekly-3', '2025-01-01'),
      track('report', '2025-05-31', { companyId: 'weekly-3' }),
      track('report', '2025-05-18', { companyId: 'weekly-3' }),
      track('report', '2025-05-04', { companyId: 'weekly-3' }),
      company('weekly-2', '2025-01-01'),
      track('report', '2025-05-25', { companyId: 'weekly-2' }),
      track('report', '2025-05-24', { companyId: 'weekly-2' }),
      track('report', '2025-05-03', { companyId: 'weekly-2' }), // a day before the fourth block
      // Monthly: active in 2 of the three 28-date blocks (05-04..31, 04-06..05-03, 03-09..04-05).
      company('monthly-2', '2025-01-01'),
      track('report', '2025-03-09', { companyId: 'monthly-2' }),
      track('report', '2025-05-31', { companyId: 'monthly-2' }),
      company('monthly-1', '2025-01-01'),
      track('report', '2025-03-08', { companyId: 'monthly-1' }), // outside the third block
      track('report', '2025-04-06', { companyId: 'monthly-1' }),
      track('report', '2025-05-03', { companyId: 'monthly-1' }),
    ]);
  });
  it.each([
    ['daily-8', '3', 'Daily'],
    ['daily-7', '0', 'Inactive'],
    ['weekly-3', '2', 'Weekly'],
    ['weekly-2', '1', 'Monthly'],
    ['monthly-2', '1', 'Monthly'],
    ['monthly-1', '0', 'Inactive'],
  ])('%s → %s %s', async (companyId, value, label) => {
    const row = await rowOf('frequency', usesFeature, asOf, companyId, 'f');
    expect([row.Frequency, row['Frequency Label']]).toEqual([value, label]);
  });
});

describe('satisfaction: the mean of the scores rounded half up; feedback count includes comments', () => {
  const scores = (companyId: string, values: number[]): TrackingCall[] =>
    values.map((score, i) => ({
      type: 'feedback',
      featureId: 'f',
      userId: 'u1',
      companyId,
      score,
      timestamp: at(
        `2025-02-01T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000`,
      ),
    }));
  beforeAll(async () => {
    await send('satisfaction', [
      ...scores('half', [3, 4]),
      ...scores('below-half', [...Array(51).fill(3), ...Array(49).fill(4)]),
      ...scores('one-and-a-half', [1, 2]),
      ...scores('four-and-a-half', [4, 5]),
      {
        type: 'feedback',
        featureId: 'f',
        userId: 'u1',
        companyId: 'comment-only',
        comment: 'no score',
        timestamp: at('2025-02-01'),
      },
      { type: 'feedback', featureId: 'other', userId: 'u1', companyId: 'half', score: 1, timestamp: at('2025-02-01') },
    ]);
  });
  it.each([
    ['half', '4', 'Satisfied', '2'],
    ['below-half', '3', 'Neutral', '100'],
    ['one-and-a-half', '2', 'Dissatisfied', '2'],
    ['four-and-a-half', '5', 'Very satisfied', '2'],
    ['comment-only', '', '', '1'],
  ])('%s → %s %s, %s feedback', async (companyId, value, label, count) => {
    const row = await rowOf('satisfaction', usesFeature, '2025-03-01T00:00:00Z', companyId, 'f');
    expect([row.Satisfaction, row['Satisfaction Label'], row['Feedback Count']]).toEqual([value, label, count]);
  });
});

describe('First and Last Seen with context.active = false', () => {
  const inactive = { context: { active: false } };
  beforeAll(async () => {
    await send('seen', [
      company('later-inactive', '2025-01-01T08:00:00.000Z'),
      track('report', '2025-01-02T09:00:00.000Z', { companyId: 'later-inactive', ...inactive }),
      company('only-inactive', '2025-01-03T10:00:00.000Z', inactive),
      track('report', '2025-01-04T11:00:00.000Z', { companyId: 'only-inactive', ...inactive }),
      track('report', '2025-01-01T07:00:00.000Z', { companyId: 'inactive-first', ...inactive }),
      company('inactive-first', '2025-01-05T12:00:00.000Z'),
    ]);
  });
  const seen = async (companyId: string) => {
    const row = await rowOf('seen', usesFeature, '2025-02-01T00:00:00Z', companyId, 'f');
    return [row['First Seen'], row['Last Seen'], row['First Used'], row['Last Used']];
  };
  it('an inactive call counts for First Seen and as a use, never for Last Seen', async () => {
    expect(await seen('later-inactive')).toEqual([
      '2025-01-01T08:00:00.000Z',
      '2025-01-01T08:00:00.000Z',
      '2025-01-02T09:00:00.000Z',
      '2025-01-02T09:00:00.000Z',
    ]);
  });
  it('Last Seen is never earlier than First Seen, even with no active record at all', async () => {
    expect((await seen('only-inactive')).slice(0, 2)).toEqual(['2025-01-03T10:00:00.000Z', '2025-01-03T10:00:00.000Z']);
  });
  it('an inactive first record is First Seen; Last Seen is the active one', async () => {
    expect((await seen('inactive-first')).slice(0, 2)).toEqual([
      '2025-01-01T07:00:00.000Z',
      '2025-01-05T12:00:00.000Z',
    ]);
  });
});

describe('users and companies', () => {
  beforeAll(async () => {
    await send('users', [
      company('c1', '2025-01-01', { userId: 'u1' }),
      track('report', '2025-01-02'), // no companyId: counts for u1's company
      track('report', '2025-01-03'),
      company('c2', '2025-01-10', { userId: 'u1' }),
      track('report', '2025-01-02', { userId: 'u2' }), // u2 never joins a company: counts for none
    ]);
  });
  it('a track without companyId counts for the user’s company as of D', async () => {
    const row = await rowOf('users', usesFeature, '2025-01-05T00:00:00Z', 'c1', 'f');
    expect([row['First Used'], row['Last Used'], row['Last Seen']]).toEqual([
      '2025-01-02T12:00:00.000Z',
      '2025-01-03T12:00:00.000Z',
      '2025-01-03T12:00:00.000Z',
    ]);
  });
  it('after the user moves, the same tracks count for the new company, and no longer for the old one', async () => {
    const rows = await exportRows('users', usesFeature, 'today', '2025-01-11T00:00:00Z');
    const c1 = rows.find((r) => r['Company ID'] === 'c1');
    const c2 = rows.find((r) => r['Company ID'] === 'c2');
    expect([c1?.['First Used'], c1?.['Last Seen']]).toEqual(['', '2025-01-01T12:00:00.000Z']);
    expect([c2?.['First Used'], c2?.['Last Used'], c2?.['First Seen']]).toEqual([
      '2025-01-02T12:00:00.000Z',
      '2025-01-03T12:00:00.000Z',
      '2025-01-02T12:00:00.000Z',
    ]);
    expect(rows.map((r) => r['Company ID'])).toEqual(['c1', 'c2']);
  });
  it('30d_daily moves the tracks on the very date the user moves', async () => {
    const rows = await exportRows('users', usesFeature, '30d_daily', '2025-01-20T00:00:00Z');
    const used = (companyId: string, date: string) =>
      rows.find((r) => r['Company ID'] === companyId && r.Date === date)?.['First Used'];
    expect([used('c1', '2025-01-09'), used('c2', '2025-01-09')]).toEqual(['2025-01-02T12:00:00.000Z', undefined]);
    expect([used('c1', '2025-01-10'), used('c2', '2025-01-10')]).toEqual(['', '2025-01-02T12:00:00.000Z']);
  });
});

describe('a user who leaves and comes back', () => {
  // u1 is in c1, in c2 from 01-08, in c1 again from 01-15; u3 stays in c1. Their tracks
  // and u1's feedback carry no companyId. c1's dates fall into three runs (to 01-07, to
  // 01-14, from 01-15) and c2's into three as well: each run one version of the timeline.
  beforeAll(async () => {
    const noCompany = (from: string, to: string, userId: string) =>
      daily('report', 'x', from, to).map(({ companyId: _none, ...call }) => ({ ...call, userId }) as TrackingCall);
    await send('comeback', [
      company('c1', '2025-01-01', { userId: 'u1' }),
      company('c1', '2025-01-01', { userId: 'u3' }),
      ...noCompany('2025-01-02', '2025-01-20', 'u1'),
      ...noCompany('2025-01-03', '2025-01-04', 'u3'),
      { type: 'feedback', featureId: 'f', userId: 'u1', score: 4, timestamp: at('2025-01-05') },
      company('c2', '2025-01-08', { userId: 'u1' }),
      company('c1', '2025-01-15', { userId: 'u1' }),
    ]);
  });
  it('30d_daily: the user’s whole history moves with them each time, and their feedback counts once', async () => {
    const rows = await exportRows('comeback', usesFeature, '30d_daily', '2025-01-25T00:00:00Z');
    const cells = (companyId: string, date: string) => {
      const row = rows.find((r) => r['Company ID'] === companyId && r.Date === date);
      return row && [row['First Used'], row['Last Used'], row['Feedback Count']];
    };
    // Before the move c1 holds u1 and u3; in c2's run only u1's records; back in c1, all of them.
    expect(cells('c1', '2025-01-07')).toEqual(['2025-01-02T12:00:00.000Z', '2025-01-07T12:00:00.000Z', '1']);
    expect(cells('c1', '2025-01-10')).toEqual(['2025-01-03T12:00:00.000Z', '2025-01-04T12:00:00.000Z', '0']);
    expect(cells('c2', '2025-01-10')).toEqual(['2025-01-02T12:00:00.000Z', '2025-01-10T12:00:00.000Z', '1']);
    expect(cells('c2', '2025-01-16')).toEqual(['', '', '0']);
    expect(cells('c1', '2025-01-16')).toEqual(['2025-01-02T12:00:00.000Z', '2025-01-16T12:00:00.000Z', '1']);
  });
  it('3m_weekly: the same runs over weekly dates', async () => {
    await exportRows('comeback', usesFeature, '3m_weekly', '2025-02-03T00:00:00Z');
  });
});

describe('retried calls count once', () => {
  beforeAll(async () => {
    const calls: TrackingCall[] = [
      company('c', '2025-01-01'),
      { ...track('report', '2025-01-02', { companyId: 'c' }), messageId: 'retry-1' },
      {
        type: 'feedback',
        featureId: 'f',
        userId: 'u1',
        companyId: 'c',
        score: 5,
        messageId: 'retry-2',
        timestamp: at('2025-01-02'),
      },
    ];
    await send('retries', calls, new Date('2025-01-02T13:00:00Z'));
    // The same calls again, minutes later; one without its timestamp (it then takes the later receive time).
    const { timestamp: _dropped, ...untimed } = calls[1] as TrackingCall;
    await send('retries', [untimed as TrackingCall, calls[2] as TrackingCall], new Date('2025-01-02T13:05:00Z'));
  });
  it('by event id: one feedback, and the copy’s later timestamp moves neither Last Used nor Last Seen', async () => {
    const row = await rowOf('retries', usesFeature, '2025-01-03T00:00:00Z', 'c', 'f');
    expect([row['Feedback Count'], row['Last Used'], row['Last Seen']]).toEqual([
      '1',
      '2025-01-02T12:00:00.000Z',
      '2025-01-02T12:00:00.000Z',
    ]);
  });
});

describe(`a copy sent again more than ${EVENT_ID_DEDUP_DAYS} days after the last counts again`, () => {
  const feedback = (messageId: string): TrackingCall => ({
    type: 'feedback',
    featureId: 'f',
    userId: 'u1',
    companyId: 'c',
    score: 4,
    messageId,
    timestamp: at('2025-01-02'),
  });
  const day = 86_400_000;
  const first = Date.parse('2025-01-02T13:00:00Z');
  beforeAll(async () => {
    await send(
      'horizon',
      [company('c', '2025-01-01'), feedback('inside'), feedback('outside'), feedback('chain')],
      new Date(first),
    );
    // Exactly the horizon later: still a duplicate. Just past it: counts again.
    await send('horizon', [feedback('inside')], new Date(first + EVENT_ID_DEDUP_DAYS * day));
    await send('horizon', [feedback('outside')], new Date(first + EVENT_ID_DEDUP_DAYS * day + 1));
    // Retried every 5 days: each copy follows another within the horizon, so none counts again.
    for (let k = 1; k <= 4; k += 1) await send('horizon', [feedback('chain')], new Date(first + 5 * k * day));
  });
  it('counts the feedback sent once, the retry at the horizon once, and the one past it twice', async () => {
    const row = await rowOf('horizon', usesFeature, '2025-03-01T00:00:00Z', 'c', 'f');
    expect(row['Feedback Count']).toBe('4');
  });
});

describe('attribute features and segments follow the company’s attributes', () => {
  const catalog: RollupCatalog = {
    features: [{ id: 'pro', name: 'Pro', type: 'attribute', attribute: 'plan', operator: 'eq', value: 'pro' }],
    segments: [
      { id: 'paying', name: 'Paying', filters: [{ attribute: 'plan', operator: 'in', value: ['pro', 'enterprise'] }] },
      { id: 'unnamed', name: 'No name', filters: [{ attribute: 'name', operator: 'is_not_set', value: null }] },
    ],
  };
  beforeAll(async () => {
    await send('attributes', [
      company('c', '2025-01-01T09:00:00.000Z', { attributes: { plan: 'pro' } }),
      company('c', '2025-01-05T09:00:00.000Z', { attributes: { name: 'Acme' } }), // plan still pro
      company('c', '2025-01-10T09:00:00.000Z', { attributes: { plan: 'free' } }),
    ]);
  });
  it('used from the call after which the filter holds to the last such call; active every day it holds at day end', async () => {
    const row = await rowOf('attributes', catalog, '2025-01-12T00:00:00Z', 'c', 'pro');
    expect([row['First Used'], row['Last Used'], row['STARS State Label'], row['Frequency Label']]).toEqual([
      '2025-01-01T09:00:00.000Z',
      '2025-01-05T09:00:00.000Z',
      'retained', // 01-01..01-09: 9 active days
      'Daily',
    ]);
  });
  it('segments and name as of D', async () => {
    const before = await rowOf('attributes', catalog, '2025-01-03T00:00:00Z', 'c', 'pro');
    expect([before['Company Name'], before['Segment IDs'], before['Segment Names']]).toEqual([
      '',
      'paying,unnamed',
      'Paying,No name',
    ]);
    const after = await rowOf('attributes', catalog, '2025-01-11T00:00:00Z', 'c', 'pro');
    expect([after['Company Name'], after['Segment IDs']]).toEqual(['Acme', '']);
  });
});

describe('a catalog with more segments than one bit mask holds: every segment a company is in, in id order', () => {
  // s00 … s69, each held from its own level up: a company at level n is in s00 … sn, so
  // levels 61, 62 and 65 end at, just past and beyond the last segment of the mask (61).
  const catalog: RollupCatalog = {
    features: usesFeature.features,
    segments: Array.from({ length: 70 }, (_, i) => ({
      id: `s${String(i).padStart(2, '0')}`,
      name: `Tier ${i}`,
      filters: [{ attribute: 'level', operator: 'gte' as const, value: i }],
    })),
  };
  const upTo = (level: number, cell: (i: number) => string) =>
    Array.from({ length: level + 1 }, (_, i) => cell(i)).join(',');
  beforeAll(async () => {
    await send('many-segments', [
      company('a', '2025-01-01T09:00:00.000Z', { attributes: { level: 65 } }),
      company('b', '2025-01-01T09:00:00.000Z', { attributes: { level: 3 } }),
      company('c', '2025-01-01T09:00:00.000Z', { attributes: { level: 61 } }),
      company('d', '2025-01-01T09:00:00.000Z', { attributes: { level: 62 } }),
      company('a', '2025-01-08T09:00:00.000Z', { attributes: { level: 10 } }),
    ]);
  });
  it('as of one date', async () => {
    const rows = await exportRows('many-segments', catalog, 'today', '2025-01-05T00:00:00Z');
    const ids = Object.fromEntries(rows.map((row) => [row['Company ID'], row['Segment IDs']]));
    expect(ids).toEqual({
      a: upTo(65, (i) => `s${String(i).padStart(2, '0')}`),
      b: 's00,s01,s02,s03',
      c: upTo(61, (i) => `s${String(i).padStart(2, '0')}`),
      d: upTo(62, (i) => `s${String(i).padStart(2, '0')}`),
    });
    expect(rows.find((row) => row['Company ID'] === 'd')?.['Segment Names']).toBe(upTo(62, (i) => `Tier ${i}`));
  });
  it('date by date, as the company moves from level 65 to 10', async () => {
    const rows = await exportRows('many-segments', catalog, '30d_daily', '2025-01-10T00:00:00Z');
    const ofA = (date: string) => rows.find((row) => row['Company ID'] === 'a' && row.Date === date)?.['Segment Names'];
    expect(ofA('2025-01-07')).toBe(upTo(65, (i) => `Tier ${i}`));
    expect(ofA('2025-01-08')).toBe(upTo(10, (i) => `Tier ${i}`));
  });
});

describe('an attribute that held for months before the frequency windows keeps what its days give', () => {
  // Only the ends of such a span are read before the windows (docs/rollup.md, "Attribute
  // spans"); these retention windows reach back past the windows' 84 days.
  const catalog: RollupCatalog = {
    features: [
      {
        id: 'recall',
        name: 'Recall',
        type: 'attribute',
        attribute: 'plan',
        operator: 'eq',
        value: 'pro',
        retention: { min_active_days: 3, window_days: 200 },
      },
      {
        id: 'deep',
        name: 'Deep',
        type: 'attribute',
        attribute: 'plan',
        operator: 'eq',
        value: 'pro',
        retention: { min_active_days: 100, window_days: 120 },
      },
    ],
    segments: [],
  };
  beforeAll(async () => {
    await send('long-attributes', [
      company('ended', '2024-01-01T09:00:00.000Z', { attributes: { plan: 'pro' } }),
      company('ended', '2024-05-01T09:00:00.000Z', { attributes: { plan: 'free' } }),
      company('open', '2024-01-01T09:00:00.000Z', { attributes: { plan: 'pro' } }),
    ]);
  });
  it('a span that ended long ago retains through its last days (04-28..04-30), 200 days on', async () => {
    const stars = async (asOf: string) =>
      (await rowOf('long-attributes', catalog, asOf, 'ended', 'recall'))['STARS State Label'];
    expect(await stars('2024-11-14T00:00:00Z')).toBe('retained'); // E = 11-13: 04-28 is 199 days before
    expect(await stars('2024-11-15T00:00:00Z')).toBe('churned');
  });
  it('a span still open counts its 100 days before a date that lie before the windows', async () => {
    const rows = await exportRows('long-attributes', catalog, '30d_daily', '2024-09-15T00:00:00Z');
    const first = rows.find((r) => r.Date === '2024-08-16' && r['Company ID'] === 'open' && r['Feature ID'] === 'deep');
    // 05-09..08-16 are 100 active days inside the 120 days up to 08-16.
    expect(first?.['STARS State Label']).toBe('retained');
  });
});

describe('weekly exports: adoption, frequency and retention at the edges of weeks and of the old days summed', () => {
  // 3m_weekly as of 2025-06-02: dates are the 13 Sundays 03-09 … 06-01 (E = the Sunday);
  // the weekly text sums each timeline's days per week ending on a date, and the days up
  // to 2024-12-15 (84 days before the first E) into one summary.
  const adoptsOn = (companyId: string, from: string, to: string) => [
    company(companyId, '2024-11-01'),
    ...daily('report', companyId, from, to),
  ];
  beforeAll(async () => {
    await send('weeks', [
      ...adoptsOn('summary-last', '2024-12-11', '2024-12-15'), // adopted on the summary's last day
      ...adoptsOn('summary-next', '2024-12-12', '2024-12-16'), // … and on the day after it
      ...adoptsOn('on-sunday', '2025-03-12', '2025-03-16'), // adopted on a date's E
      ...adoptsOn('on-monday', '2025-03-13', '2025-03-17'), // adopted the day after
      // Active days at the edges of the 42- and 84-day bit sets of the last dates.
      company('edges', '2024-11-01'),
      ...['2025-03-09', '2025-03-10', '2025-04-20', '2025-04-21', '2025-05-04', '2025-05-31', '2025-06-01'].map((day) =>
        track('report', day, { companyId: 'edges' }),
      ),
      // Retained exactly while an active day lies in the 28 days before D.
      company('retain', '2024-11-01'),
      ...daily('report', 'retain', '2025-01-01', '2025-01-05'),
      track('report', '2025-04-06', { companyId: 'retain' }),
    ]);
  });
  it('3m_weekly: every row as the oracle and the full recompute have it', async () => {
    const rows = await exportRows('weeks', usesFeature, '3m_weekly', '2025-06-02T00:00:00Z');
    const stars = (companyId: string, date: string) =>
      rows.find((r) => r['Company ID'] === companyId && r.Date === date)?.['STARS State Label'];
    expect([stars('on-sunday', '2025-03-09'), stars('on-sunday', '2025-03-16')]).toEqual(['never', 'retained']);
    expect([stars('on-monday', '2025-03-16'), stars('on-monday', '2025-03-23')]).toEqual(['tried', 'retained']);
    expect([stars('summary-last', '2025-03-09'), stars('summary-next', '2025-03-09')]).toEqual(['churned', 'churned']);
    // D of 05-04 is 05-05: its 28 days start 04-07, the day after the last use.
    expect([stars('retain', '2025-04-27'), stars('retain', '2025-05-04')]).toEqual(['retained', 'churned']);
  });
  it('6m_weekly, as of a Wednesday: the same', async () => {
    const rows = await exportRows('weeks', usesFeature, '6m_weekly', '2025-06-04T10:00:00Z');
    expect(
      rows.filter((r) => r['Company ID'] === 'edges' && r['Frequency Label'] !== 'Inactive').length,
    ).toBeGreaterThan(0);
  });
});
