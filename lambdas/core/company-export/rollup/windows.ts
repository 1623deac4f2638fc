import { DAY_MS } from '../../../contract/lake.ts';
import type { RollupAggregation, RollupDate } from './types.ts';

/** Midnight UTC of the date holding `instant`. */
function utcMidnight(instant: Date): number {
  return Math.floor(instant.getTime() / DAY_MS) * DAY_MS;
}

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (the SQL's day numbers). */
export const dayNumber = (date: string): number => Date.parse(`${date}T00:00:00.000Z`) / DAY_MS;

/**
 * E of DESIGN: the date of the last instant before D. For D at midnight of X it is
 * X − 1; for D at 14:00 on X it is X itself.
 */
export function lastDateBefore(d: Date): string {
  return isoDate(d.getTime() - 1);
}

/**
 * The output dates of an aggregation, oldest first (DESIGN "Aggregations", with
 * "now" = `asOf`):
 * - `today`: one date, D = now, Date = now's UTC date;
 * - `30d_daily`: the 30 complete UTC days before now's date, D = the next midnight;
 * - `3m_weekly` / `6m_weekly`: the 13 / 26 complete Monday–Sunday weeks before now's
 *   date, Date = the Sunday, D = the next Monday 00:00.
 */
export function aggregationWindows(aggregation: RollupAggregation, asOf: Date): RollupDate[] {
  if (Number.isNaN(asOf.getTime())) throw new RangeError('asOf is not a valid instant');
  const today = utcMidnight(asOf);
  switch (aggregation) {
    case 'today':
      return [{ date: isoDate(today), d: new Date(asOf.getTime()) }];
    case '30d_daily':
      return Array.from({ length: 30 }, (_, k) => {
        const day = today - (30 - k) * DAY_MS;
        return { date: isoDate(day), d: new Date(day + DAY_MS) };
      });
    case '3m_weekly':
    case '6m_weekly': {
      const weeks = aggregation === '3m_weekly' ? 13 : 26;
      // getUTCDay: 0 = Sunday. A week is complete "before now's date" when its Sunday
      // is at most yesterday: on a Sunday the week ending today is not yet complete.
      const yesterday = today - DAY_MS;
      const lastSunday = yesterday - new Date(yesterday).getUTCDay() * DAY_MS;
      return Array.from({ length: weeks }, (_, k) => {
        const sunday = lastSunday - (weeks - 1 - k) * 7 * DAY_MS;
        return { date: isoDate(sunday), d: new Date(sunday + DAY_MS) };
      });
    }
  }
}
