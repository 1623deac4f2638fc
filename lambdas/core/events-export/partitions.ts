import { formatDay, parseDay } from './request.ts';

/**
 * Weekly partitions (seed 002 "Understanding File Names and Date Ranges"): one per
 * Monday-based UTC week touching [from, to], named by its Monday, holding only the
 * days of that week inside the range.
 */
export interface EventsExportPartition {
  /** The week's Monday, `YYYY-MM-DD`: the chunk's name and its file's stem. */
  readonly week: string;
  /** First and last day of the week inside the requested range (inclusive, `YYYY-MM-DD`). */
  readonly from: string;
  readonly to: string;
}

/** 1970-01-01 was a Thursday: day 0 is 3 days after a Monday. */
const mondayOf = (day: number) => day - ((day + 3) % 7);

export function planWeeklyPartitions(from: string, to: string): EventsExportPartition[] {
  const first = parseDay(from);
  const last = parseDay(to);
  if (first === undefined || last === undefined) throw new RangeError(`not a date range: ${from} .. ${to}`);
  if (last < first) throw new RangeError(`the range ends before it starts: ${from} .. ${to}`);
  const partitions: EventsExportPartition[] = [];
  for (let monday = mondayOf(first); monday <= last; monday += 7) {
    partitions.push({
      week: formatDay(monday),
      from: formatDay(Math.max(monday, first)),
      to: formatDay(Math.min(monday + 6, last)),
    });
  }
  return partitions;
}
