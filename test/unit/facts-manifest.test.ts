import { describe, expect, it } from 'vitest';
import { factsBuildPrefix } from '../../lambdas/contract/facts.ts';
import {
  applyFactsBuild,
  daysToRuns,
  type FactsManifest,
  factsSnapshot,
} from '../../lambdas/core/company-export/facts/manifest.ts';
import { rawReadsFrom } from '../../lambdas/core/company-export/rollup/sql.ts';

const first = applyFactsBuild(undefined, {
  buildId: 'b1',
  cutoff: '2025-03-10T23:30:00.000Z',
  days: ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-05'],
  complete: true,
  committedAt: '2025-03-11T00:01:00.000Z',
});

describe('facts manifest', () => {
  it('a first build: version 1, consecutive days as spans, the build’s cutoff, the watermark at the cutoff', () => {
    expect(first).toEqual({
      version: 1,
      watermark: '2025-03-10T23:30:00.000Z',
      spans: [
        { from: '2025-03-01', to: '2025-03-03', build_id: 'b1' },
        { from: '2025-03-05', to: '2025-03-05', build_id: 'b1' },
      ],
      builds: { b1: { cutoff: '2025-03-10T23:30:00.000Z', committed_at: '2025-03-11T00:01:00.000Z' } },
      retired: {},
    } satisfies FactsManifest);
  });

  it('a rebuild of one day splits its span; a build no day names any more is retired, with when', () => {
    const second = applyFactsBuild(first, {
      buildId: 'b2',
      cutoff: '2025-03-11T23:30:00.000Z',
      days: ['2025-03-02', '2025-03-04'],
      complete: true,
      committedAt: '2025-03-12T00:01:00.000Z',
    });
    expect(second.version).toBe(2);
    expect(second.spans).toEqual([
      { from: '2025-03-01', to: '2025-03-01', build_id: 'b1' },
      { from: '2025-03-02', to: '2025-03-02', build_id: 'b2' },
      { from: '2025-03-03', to: '2025-03-03', build_id: 'b1' },
      { from: '2025-03-04', to: '2025-03-04', build_id: 'b2' },
      { from: '2025-03-05', to: '2025-03-05', build_id: 'b1' },
    ]);
    const third = applyFactsBuild(second, {
      buildId: 'b3',
      cutoff: '2025-03-12T23:30:00.000Z',
      days: ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05'],
      complete: false,
      committedAt: '2025-03-13T00:01:00.000Z',
    });
    expect(third.spans).toEqual([{ from: '2025-03-01', to: '2025-03-05', build_id: 'b3' }]);
    expect(Object.keys(third.builds)).toEqual(['b3']);
    expect(third.retired).toEqual({ b1: '2025-03-13T00:01:00.000Z', b2: '2025-03-13T00:01:00.000Z' });
    // A run restricted to some days does not move the watermark.
    expect(third.watermark).toBe(second.watermark);
  });

  it('a run that built nothing still moves the watermark when complete, never backwards', () => {
    const none = applyFactsBuild(first, {
      buildId: 'b9',
      cutoff: '2025-03-11T23:30:00.000Z',
      days: [],
      complete: true,
      committedAt: '2025-03-12T00:01:00.000Z',
    });
    expect(none.spans).toEqual(first.spans);
    expect(none.builds).toEqual(first.builds);
    expect(none.watermark).toBe('2025-03-11T23:30:00.000Z');
    const earlier = applyFactsBuild(none, {
      ...{ buildId: 'b8', days: [], complete: true },
      cutoff: '2025-03-01T00:00:00.000Z',
      committedAt: 'x',
    });
    expect(earlier.watermark).toBe('2025-03-11T23:30:00.000Z');
  });

  it('an export’s snapshot: the spans before the day it reads raw, cut there, each with its build’s cutoff', () => {
    expect(factsSnapshot(first, '2025-03-03')).toEqual([
      { from: '2025-03-01', to: '2025-03-02', build_id: 'b1', cutoff: '2025-03-10T23:30:00.000Z' },
    ]);
    expect(factsSnapshot(undefined, '2025-03-03')).toEqual([]);
    expect(() => factsSnapshot({ ...first, builds: {} }, '2025-03-03')).toThrow(/without its cutoff/);
  });

  it('days as runs of consecutive days', () => {
    expect(daysToRuns(['2025-03-03', '2025-03-01', '2025-03-02', '2025-03-02', '2025-03-07'])).toEqual([
      { from: '2025-03-01', to: '2025-03-03' },
      { from: '2025-03-07', to: '2025-03-07' },
    ]);
  });
});

describe('raw reads of an export from facts', () => {
  const span = (from: string, to: string) => ({ from, to, build_id: 'b', cutoff: '2025-03-10T23:30:00.000Z' });

  it('without a watermark every received partition is read (no complete run has vouched for any)', () => {
    expect(rawReadsFrom([span('2020-01-01', '2025-03-09')], null)).toBe('2020-01-01');
  });

  it('with every day covered up to the snapshot’s end: the watermark’s day, or the day before the first day not covered', () => {
    expect(rawReadsFrom([span('2020-01-01', '2025-03-09')], '2025-03-10T23:30:00.000Z')).toBe('2025-03-09');
    expect(rawReadsFrom([span('2020-01-01', '2025-03-20')], '2025-03-10T23:30:00.000Z')).toBe('2025-03-10');
  });

  it('a day in the middle without facts: from the day before it (its records may have been received any time since)', () => {
    expect(
      rawReadsFrom([span('2020-01-01', '2024-12-31'), span('2025-01-02', '2025-03-09')], '2025-03-10T23:30:00.000Z'),
    ).toBe('2024-12-31');
  });
});

describe('facts layout', () => {
  it('a build’s folder: shard, environment, build; ids that cannot name a folder are refused', () => {
    expect(factsBuildPrefix(7, 'app-1', '20250310T233000Z-0123abcd')).toBe(
      'company_facts/shard=7/app-1/20250310T233000Z-0123abcd/',
    );
    expect(() => factsBuildPrefix(7, '../x', '20250310T233000Z-0123abcd')).toThrow(RangeError);
    expect(() => factsBuildPrefix(7, 'app-1', '../../events')).toThrow(RangeError);
    expect(() => factsBuildPrefix(64, 'app-1', '20250310T233000Z-0123abcd')).toThrow(RangeError);
  });
});
