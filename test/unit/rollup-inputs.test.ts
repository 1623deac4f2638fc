import { describe, expect, it } from 'vitest';
import { EXPORT_INPUT_COLUMNS } from '../../lambdas/contract/export-inputs.ts';
import { lakeShard } from '../../lambdas/contract/lake.ts';
import {
  type ExportInputRow,
  exportInputRows,
  exportInputsJsonLines,
  exportInputsKey,
  MAX_ROLLUP_DATES,
} from '../../lambdas/core/company-export/rollup/inputs.ts';
import { prepareCompanyRollup } from '../../lambdas/core/company-export/rollup/prepare.ts';
import { COMPANY_ROLLUP_PARAM_NAMES, companyRollupParams } from '../../lambdas/core/company-export/rollup/sql.ts';
import type { RollupCatalog } from '../../lambdas/core/company-export/rollup/types.ts';
import { aggregationWindows } from '../../lambdas/core/company-export/rollup/windows.ts';

const catalog: RollupCatalog = {
  features: [
    { id: 'b-search', name: 'Search', type: 'event', event_names: ['searched', 'searched', 'filtered'] },
    {
      id: 'A-pro',
      name: 'Pro plan',
      type: 'attribute',
      attribute: 'plan',
      operator: 'in',
      value: ['pro', 2, null],
      adoption: { min_active_days: 3, window_days: 7 },
    },
  ],
  segments: [
    { id: 'z', name: 'Everyone', filters: [] },
    {
      id: 'big',
      name: 'Big, EU',
      filters: [
        { attribute: 'seats', operator: 'gte', value: 50 },
        { attribute: 'region', operator: 'eq', value: 'eu' },
      ],
    },
  ],
};
const windows = aggregationWindows('3m_weekly', new Date('2025-06-11T09:00:00Z'));
const rows = exportInputRows('job-1', catalog, windows);
const kind = (k: ExportInputRow['kind']) => rows.filter((r) => r.kind === k);

describe('exportInputRows: what the rollup query joins with instead of values in its text', () => {
  it('one date row per output date, oldest first, with D and the day number of E', () => {
    const dates = kind('date');
    expect(dates).toHaveLength(13);
    expect(dates[12]).toMatchObject({
      seq: 12,
      rollup_date: '2025-06-08',
      d_instant: '2025-06-09T00:00:00.000Z',
      e_day: Date.UTC(2025, 5, 8) / 86_400_000,
    });
  });

  it('numbers features and segments in byte order of their ids (the CSV row order)', () => {
    expect(kind('feature').map((r) => [r.seq, r.feature_id])).toEqual([
      [0, 'A-pro'],
      [1, 'b-search'],
    ]);
    expect(kind('segment').map((r) => [r.seq, r.segment_id])).toEqual([
      [0, 'big'],
      [1, 'z'],
    ]);
  });

  it('marks the event features that count flag checks with flag_checks 1, every other feature 0', () => {
    const withFlags = exportInputRows(
      'job-2',
      {
        features: [
          ...catalog.features,
          { id: 'c-dark', name: 'Dark mode', type: 'event', event_names: [], flag_checks: true },
          { id: 'd-off', name: 'Off', type: 'event', event_names: ['x'], flag_checks: false },
        ],
        segments: [],
      },
      windows,
    ).filter((r) => r.kind === 'feature');
    expect(withFlags.map((r) => [r.feature_id, r.flag_checks])).toEqual([
      ['A-pro', 0],
      ['b-search', 0],
      ['c-dark', 1],
      ['d-off', 0],
    ]);
  });

  it('applies DESIGN’s default thresholds (5 in 28, 1 in 28) where a feature sets none', () => {
    expect(
      kind('feature').map((r) => [
        r.adoption_min_days,
        r.adoption_window_days,
        r.retention_min_days,
        r.retention_window_days,
      ]),
    ).toEqual([
      [3, 7, 1, 28],
      [5, 28, 1, 28],
    ]);
  });

  it('lists each event name once, and the attribute filter with its `in` values as elements', () => {
    expect(kind('feature_event').map((r) => [r.seq, r.event_name])).toEqual([
      [1, 'searched'],
      [1, 'filtered'],
    ]);
    expect(kind('filter').filter((r) => r.owner === 'feature')).toEqual([
      expect.objectContaining({
        seq: 0,
        filter_no: 0,
        attribute: 'plan',
        operator: 'in',
        value_json: '["pro",2,null]',
      }),
    ]);
    expect(kind('filter_value').map((r) => [r.value_type, r.value_text, r.value_json])).toEqual([
      ['string', 'pro', '"pro"'],
      ['number', '2', '2'],
      ['null', 'null', 'null'],
    ]);
  });

  it('keeps segment filters in their order under the segment’s number', () => {
    expect(
      kind('filter')
        .filter((r) => r.owner === 'segment')
        .map((r) => [r.seq, r.filter_no, r.attribute]),
    ).toEqual([
      [0, 0, 'seats'],
      [0, 1, 'region'],
    ]);
  });

  it('refuses duplicate ids, bad thresholds, job ids that are not a safe path segment, and unordered dates', () => {
    const feature = catalog.features[0] as RollupCatalog['features'][number];
    expect(() => exportInputRows('j', { features: [feature, feature], segments: [] }, windows)).toThrow(
      /appears twice/,
    );
    expect(() =>
      exportInputRows(
        'j',
        { features: [{ ...feature, adoption: { min_active_days: 0, window_days: 3 } }], segments: [] },
        windows,
      ),
    ).toThrow(/at least 1/);
    expect(() => exportInputRows('../x', catalog, windows)).toThrow(/job id/);
    expect(() => exportInputRows('j', catalog, [...windows].reverse())).toThrow(/ascending/);
    expect(() =>
      exportInputRows('j', catalog, [{ date: '2025-01-01', d: new Date('2025-01-01T10:00:00Z') }, ...windows]),
    ).toThrow(/only the last D/);
    // The text keeps a company's runs of dates as the bits of a BIGINT.
    const days = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ date: `d${i}`, d: new Date(Date.UTC(2025, 0, 2 + i)) }));
    expect(() => exportInputRows('j', catalog, days(MAX_ROLLUP_DATES))).not.toThrow();
    expect(() => exportInputRows('j', catalog, days(MAX_ROLLUP_DATES + 1))).toThrow(/at most 62 dates/);
  });
});

describe('exportInputsJsonLines and the table layout', () => {
  it('writes one JSON object per row with every column in EXPORT_INPUT_COLUMNS order', () => {
    const lines = exportInputsJsonLines('job-1', rows).trimEnd().split('\n');
    expect(lines).toHaveLength(rows.length);
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(EXPORT_INPUT_COLUMNS.map((c) => c.name));
    expect(first.feature_name).toBeNull();
    // Every row names its job: the table is not partitioned, so the queries select a job by this column.
    expect(lines.map((line) => (JSON.parse(line) as { job_id: unknown }).job_id)).toEqual(rows.map(() => 'job-1'));
  });

  it('declares only Glue types the JSON SerDe reads, job_id first', () => {
    for (const column of EXPORT_INPUT_COLUMNS) expect(['string', 'int']).toContain(column.type);
    expect(EXPORT_INPUT_COLUMNS[0]).toMatchObject({ name: 'job_id', type: 'string' });
  });

  it('keys a job’s file directly under export_inputs/ (no partition folder)', () => {
    expect(exportInputsKey('job-1')).toBe('export_inputs/job-1.json');
  });
});

describe('companyRollupParams', () => {
  it('binds the job, then per lake read the app’s shard and id, the dt range from LAKE_FIRST_DATE on (copies dated after the last D still decide which copy counts), and the last D', () => {
    const params = companyRollupParams({ environmentId: 'app-1', jobId: 'job-1', windows });
    expect(params).toHaveLength(COMPANY_ROLLUP_PARAM_NAMES.length);
    expect(params).toEqual([
      'job-1',
      ...Array(2)
        .fill([lakeShard('app-1'), 'app-1', '2020-01-01', '2025-06-09 00:00:00.000'])
        .flat(),
    ]);
  });

  it('for today binds the instant itself, to the millisecond', () => {
    const today = aggregationWindows('today', new Date('2025-06-11T14:05:06.789Z'));
    expect(companyRollupParams({ environmentId: 'a', jobId: 'j', windows: today }).slice(1)).toEqual([
      lakeShard('a'),
      'a',
      '2020-01-01',
      '2025-06-11 14:05:06.789',
      lakeShard('a'),
      'a',
      '2020-01-01',
      '2025-06-11 14:05:06.789',
    ]);
  });

  it('prepareCompanyRollup gives a workflow everything in JSON-friendly form', () => {
    const prepared = prepareCompanyRollup({
      jobId: 'job-2',
      environmentId: 'app-1',
      aggregation: 'today',
      asOf: new Date('2025-06-11T14:00:00Z'),
      ...catalog,
    });
    expect(prepared.dates).toEqual([{ date: '2025-06-11', d: '2025-06-11T14:00:00.000Z' }]);
    expect(JSON.parse(JSON.stringify(prepared.params))).toEqual(prepared.params);
    expect(prepared.inputRows.filter((r) => r.kind === 'feature')).toHaveLength(2);
  });

  it.each([
    ['today', 'one-date'],
    ['30d_daily', 'dates'],
    ['3m_weekly', 'weeks'],
    ['6m_weekly', 'weeks'],
  ] as const)('from facts, %s runs the text of its shape (%s)', (aggregation, shape) => {
    const asOf = new Date('2025-06-11T14:00:00Z');
    const prepared = prepareCompanyRollup({
      jobId: 'j',
      environmentId: 'a',
      aggregation,
      asOf,
      ...catalog,
      facts: { manifest: undefined },
    });
    expect({ fromFacts: prepared.fromFacts, shape: prepared.shape }).toEqual({ fromFacts: true, shape });
    // The full recompute has one text for every aggregation.
    const full = prepareCompanyRollup({ jobId: 'j', environmentId: 'a', aggregation, asOf, ...catalog });
    expect({ fromFacts: full.fromFacts, shape: full.shape }).toEqual({ fromFacts: false, shape: 'dates' });
  });
});
