import type { LakeEvent } from '../../lambdas/contract/lake.ts';
import type { Exclusions } from '../../lambdas/core/catalog/catalog.ts';
import { EXPORTED_EVENT_FIELDS } from '../../lambdas/core/events-export/sql.ts';
import { type Filter, matches } from '../../lambdas/core/shared/filters.ts';

/**
 * What an events export must contain, computed in plain JavaScript from the lake's
 * rows (as tracking produced them): the test oracle for the SQL. It follows the
 * rules docs/events-export.md states, and filters.ts `matches` for segments.
 */

export type ExportedEvent = Record<(typeof EXPORTED_EVENT_FIELDS)[number], unknown>;

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The company attributes as of the end of `asOf` (merge of identify_company calls, later keys win). */
function companyAttributes(events: readonly LakeEvent[], asOf: string): Map<string, Record<string, unknown>> {
  const calls = dedupe(
    events.filter((e) => e.event_type === 'identify_company' && e.company_id !== null && e.dt <= asOf),
  ).sort(
    (a, b) =>
      a.timestamp.localeCompare(b.timestamp) ||
      a.received_at.localeCompare(b.received_at) ||
      bytes(a.event_id, b.event_id),
  );
  const merged = new Map<string, Record<string, unknown>>();
  for (const call of calls) {
    const company = call.company_id as string;
    merged.set(company, { ...merged.get(company), ...(call.attributes ? JSON.parse(call.attributes) : {}) });
  }
  return merged;
}

/** One copy per event id: the earliest timestamp, then the first received (as the rollup keeps it). */
function dedupe(events: readonly LakeEvent[]): LakeEvent[] {
  const first = new Map<string, LakeEvent>();
  for (const event of events) {
    const seen = first.get(event.event_id);
    if (
      !seen ||
      event.timestamp < seen.timestamp ||
      (event.timestamp === seen.timestamp && event.received_at < seen.received_at)
    ) {
      first.set(event.event_id, event);
    }
  }
  return [...first.values()];
}

export function expectedExport(input: {
  readonly events: readonly LakeEvent[];
  readonly appId: string;
  readonly appToken: string;
  readonly request: {
    readonly event_type: readonly string[];
    readonly user_id: readonly string[];
    readonly company_id: readonly string[];
    readonly to: string;
  };
  /** The partition's days. */
  readonly from: string;
  readonly to: string;
  readonly segment?: { readonly filters: readonly Filter[] };
  readonly exclusions?: Exclusions;
}): ExportedEvent[] {
  const { request } = input;
  const app = input.events.filter((e) => e.app_id === input.appId);
  const attributes = input.segment ? companyAttributes(app, request.to) : undefined;
  const selected = app.filter((e) => {
    if (e.dt < input.from || e.dt > input.to) return false;
    if (!request.event_type.includes(e.event_type)) return false;
    if (request.user_id.length > 0 && (e.user_id === null || !request.user_id.includes(e.user_id))) return false;
    if (request.company_id.length > 0 && (e.company_id === null || !request.company_id.includes(e.company_id))) {
      return false;
    }
    if (e.user_id !== null && input.exclusions?.user_ids.includes(e.user_id)) return false;
    if (e.company_id !== null && input.exclusions?.company_ids.includes(e.company_id)) return false;
    if (input.segment && attributes) {
      if (e.company_id === null) return false;
      const company = attributes.get(e.company_id) ?? {};
      if (!input.segment.filters.every((f) => matches(company, f))) return false;
    }
    return true;
  });
  return dedupe(selected)
    .sort((a, b) => a.timestamp.localeCompare(b.timestamp) || bytes(a.event_id, b.event_id))
    .map((e) => ({
      app_token: input.appToken,
      event_id: e.event_id,
      event_type: e.event_type,
      event_name: e.event_name,
      user_id: e.user_id,
      company_id: e.company_id,
      source: e.source,
      timestamp: e.timestamp,
      inserted_at: e.received_at,
      feature_id: e.feature_id,
      score: e.score,
      comment: e.comment,
      metadata: e.attributes ? JSON.parse(e.attributes) : {},
    }));
}

/**
 * The oracle's rows in the order a file holds them (the export promises no order):
 * only a permutation, so a missing, extra or repeated row still fails the comparison.
 */
export function inFileOrder<T extends { readonly event_id: unknown }>(
  want: readonly T[],
  fileIds: readonly unknown[],
): T[] {
  const position = new Map<unknown, number>();
  fileIds.forEach((id, i) => {
    if (!position.has(id)) position.set(id, i);
  });
  const at = (row: T) => position.get(row.event_id) ?? fileIds.length;
  return [...want].sort((a, b) => at(a) - at(b));
}

/** The same events as the CSV file's cells: NULL as empty, metadata as its JSON text. */
export function asCsvCells(events: readonly ExportedEvent[]): string[][] {
  return [
    [...EXPORTED_EVENT_FIELDS],
    ...events.map((event) =>
      EXPORTED_EVENT_FIELDS.map((field) => {
        const value = event[field];
        if (value === null || value === undefined) return '';
        return field === 'metadata' ? JSON.stringify(value) : String(value);
      }),
    ),
  ];
}
