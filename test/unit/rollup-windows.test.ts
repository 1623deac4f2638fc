import { describe, expect, it } from 'vitest';
import { aggregationWindows, lastDateBefore } from '../../lambdas/core/company-export/rollup/windows.ts';

const dates = (aggregation: Parameters<typeof aggregationWindows>[0], asOf: string) =>
  aggregationWindows(aggregation, new Date(asOf)).map((w) => [w.date, w.d.toISOString()]);

describe('aggregationWindows (DESIGN "Aggregations", now = as_of)', () => {
  it('today: one date, D = now itself, Date = now’s UTC date', () => {
    expect(dates('today', '2025-06-11T14:00:00.000Z')).toEqual([['2025-06-11', '2025-06-11T14:00:00.000Z']]);
  });

  it('30d_daily: the 30 complete days before now’s date, D the next midnight, oldest first', () => {
    const windows = dates('30d_daily', '2025-06-11T14:00:00.000Z');
    expect(windows).toHaveLength(30);
    expect(windows[0]).toEqual(['2025-05-12', '2025-05-13T00:00:00.000Z']);
    expect(windows[29]).toEqual(['2025-06-10', '2025-06-11T00:00:00.000Z']);
  });

  it('30d_daily at exactly midnight: today is not complete, so it ends yesterday', () => {
    expect(dates('30d_daily', '2025-06-11T00:00:00.000Z')[29]).toEqual(['2025-06-10', '2025-06-11T00:00:00.000Z']);
  });

  it('3m_weekly on a Wednesday: 13 Sundays, the last one the Sunday just past, D the Monday after', () => {
    const windows = dates('3m_weekly', '2025-06-11T09:00:00.000Z'); // a Wednesday
    expect(windows).toHaveLength(13);
    expect(windows[12]).toEqual(['2025-06-08', '2025-06-09T00:00:00.000Z']);
    expect(windows[0]).toEqual(['2025-03-16', '2025-03-17T00:00:00.000Z']);
    for (const [date] of windows) expect(new Date(`${date}T00:00:00Z`).getUTCDay()).toBe(0);
  });

  it('weekly on a Monday includes the week that ended yesterday; on a Sunday that week is not complete', () => {
    expect(dates('6m_weekly', '2025-06-09T00:00:00.000Z')[25]).toEqual(['2025-06-08', '2025-06-09T00:00:00.000Z']);
    expect(dates('6m_weekly', '2025-06-08T23:00:00.000Z')[25]).toEqual(['2025-06-01', '2025-06-02T00:00:00.000Z']);
    expect(dates('6m_weekly', '2025-06-08T23:00:00.000Z')).toHaveLength(26);
  });

  it('rejects an invalid instant', () => {
    expect(() => aggregationWindows('today', new Date('nope'))).toThrow(RangeError);
  });
});

describe('lastDateBefore (E of DESIGN)', () => {
  it('is the previous date for a D at midnight and the same date for a D inside a day', () => {
    expect(lastDateBefore(new Date('2025-06-11T00:00:00.000Z'))).toBe('2025-06-10');
    expect(lastDateBefore(new Date('2025-06-11T14:00:00.000Z'))).toBe('2025-06-11');
    expect(lastDateBefore(new Date('2025-06-11T00:00:00.001Z'))).toBe('2025-06-11');
  });
});
