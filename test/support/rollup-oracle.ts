/**
 * A second, deliberately plain implementation of DESIGN.md "Company feature-adoption
 * rollup": loops over events held in memory, one output date at a time, written
 * from the definitions' words without looking at the SQL. Only tests use it.
 */
import { parse } from 'csv-parse/sync';
import { EVENT_ID_DEDUP_DAYS, type LakeEvent } from '../../lambdas/contract/lake.ts';
import {
  COMPANY_EXPORT_HEADER,
  compareBytes,
  DEFAULT_ADOPTION,
  DEFAULT_RETENTION,
  FREQUENCY_LABELS,
  type RollupCatalog,
  type RollupDate,
  type RollupFeature,
  SATISFACTION_LABELS,
  STARS_LABELS,
} from '../../lambdas/core/company-export/rollup/types.ts';
import { matches } from '../../lambdas/core/shared/filters.ts';

const DAY_MS = 86_400_000;
const ms = (iso: string) => Date.parse(iso);
const dayOf = (instantMs: number) => Math.floor(instantMs / DAY_MS);
const iso = (instantMs: number) => new Date(instantMs).toISOString();

/** Calls in timestamp order; equal timestamps by arrival, then by event id. */
function byCallOrder(a: LakeEvent, b: LakeEvent): number {
  return (
    ms(a.timestamp) - ms(b.timestamp) || ms(a.received_at) - ms(b.received_at) || compareBytes(a.event_id, b.event_id)
  );
}

/**
 * The copies that count: in receipt order (received_at, then timestamp), a copy counts
 * unless another copy of its event_id was received in the EVENT_ID_DEDUP_DAYS before
 * it. So a retry never counts and never displaces the copy received first; a copy sent
 * again after that long counts again.
 */
export function dedupe(events: readonly LakeEvent[]): LakeEvent[] {
  const copies = new Map<string, LakeEvent[]>();
  for (const event of events) {
    const list = copies.get(event.event_id);
    if (list) list.push(event);
    else copies.set(event.event_id, [event]);
  }
  const horizonMs = EVENT_ID_DEDUP_DAYS * 86_400_000;
  const kept: LakeEvent[] = [];
  for (const list of copies.values()) {
    list.sort((a, b) => ms(a.received_at) - ms(b.received_at) || ms(a.timestamp) - ms(b.timestamp));
    list.forEach((copy, i) => {
      const before = list[i - 1];
      if (!before || ms(copy.received_at) - ms(before.received_at) > horizonMs) kept.push(copy);
    });
  }
  return kept;
}

function parseAttributes(text: string | null): Record<string, unknown> {
  if (text === null) return {};
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Merge of attribute objects in call order: later keys win. */
function merged(calls: readonly LakeEvent[]): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const call of calls) {
    for (const [key, value] of Object.entries(parseAttributes(call.attributes))) {
      Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return attributes;
}

/** Active days in from..to (walking whichever is shorter: the range or the set). */
function countIn(days: ReadonlySet<number>, from: number, to: number): number {
  let n = 0;
  if (to - from + 1 < days.size) {
    for (let d = from; d <= to; d += 1) if (days.has(d)) n += 1;
  } else {
    for (const d of days) if (d >= from && d <= to) n += 1;
  }
  return n;
}

/** The actions of a feature-flag event that check the flag's value: the only ones that can be a use. */
const FLAG_USE_ACTIONS = new Set(['check', 'check-is-enabled']);

/**
 * A `feature_flag` row is a use of the catalog's event feature whose id is its key,
 * when that feature counts flag checks, the action checks the flag, and the
 * evaluation enabled it (`evalResult` is JSON true).
 */
function isFlagUse(event: LakeEvent, flagFeatures: ReadonlySet<string>): boolean {
  return (
    event.event_type === 'feature_flag' &&
    event.feature_id !== null &&
    flagFeatures.has(event.feature_id) &&
    event.event_name !== null &&
    FLAG_USE_ACTIONS.has(event.event_name) &&
    parseAttributes(event.attributes).evalResult === true
  );
}

/** A feedback's feedbackId: a non-empty string in its attributes. */
function feedbackIdOf(event: LakeEvent): string | undefined {
  const id = parseAttributes(event.attributes).feedbackId;
  return event.event_type === 'feedback' && typeof id === 'string' && id !== '' ? id : undefined;
}

interface FeatureState {
  firstUsed: number | undefined;
  lastUsed: number | undefined;
  activeDays: Set<number>;
}

/** Event feature: every counted track whose name is listed, and every counted flag check of its id. */
function eventFeatureState(
  feature: RollupFeature & { type: 'event' },
  tracks: readonly LakeEvent[],
  flagUses: readonly LakeEvent[],
): FeatureState {
  const state: FeatureState = { firstUsed: undefined, lastUsed: undefined, activeDays: new Set() };
  const uses = [
    ...tracks.filter((t) => t.event_name !== null && feature.event_names.includes(t.event_name)),
    ...flagUses.filter((f) => f.feature_id === feature.id),
  ];
  for (const track of uses) {
    const t = ms(track.timestamp);
    state.firstUsed = state.firstUsed === undefined ? t : Math.min(state.firstUsed, t);
    state.lastUsed = state.lastUsed === undefined ? t : Math.max(state.lastUsed, t);
    state.activeDays.add(dayOf(t));
  }
  return state;
}

/**
 * Attribute feature: replay the company's calls in order. Used at each call after
 * which the merged attributes match; a date d ≤ E is active when they match at the
 * end of d. Before its first call a company has made no call "after which" anything
 * matched, so those dates are never active.
 */
function attributeFeatureState(
  feature: RollupFeature & { type: 'attribute' },
  calls: readonly LakeEvent[],
  lastDay: number,
): FeatureState {
  const state: FeatureState = { firstUsed: undefined, lastUsed: undefined, activeDays: new Set() };
  const matchedAtEndOf = new Map<number, boolean>();
  for (let i = 0; i < calls.length; i += 1) {
    const call = calls[i] as LakeEvent;
    const ok = matches(merged(calls.slice(0, i + 1)), feature);
    const t = ms(call.timestamp);
    if (ok) {
      state.firstUsed ??= t;
      state.lastUsed = t;
    }
    matchedAtEndOf.set(dayOf(t), ok);
  }
  if (calls.length === 0) return state;
  let current = false;
  for (let d = dayOf(ms((calls[0] as LakeEvent).timestamp)); d <= lastDay; d += 1) {
    current = matchedAtEndOf.get(d) ?? current;
    if (current) state.activeDays.add(d);
  }
  return state;
}

function frequency(days: ReadonlySet<number>, e: number): number {
  if (countIn(days, e - 13, e) >= 8) return 3;
  let weeks = 0;
  for (let k = 0; k < 4; k += 1) if (countIn(days, e - 7 * k - 6, e - 7 * k) > 0) weeks += 1;
  if (weeks >= 3) return 2;
  let months = 0;
  for (let k = 0; k < 3; k += 1) if (countIn(days, e - 28 * k - 27, e - 28 * k) > 0) months += 1;
  return months >= 2 ? 1 : 0;
}

/** The CSV's rows (header first), each an array of cells; empty cells are ''. */
export function oracleRollup(
  allEvents: readonly LakeEvent[],
  appId: string,
  catalog: RollupCatalog,
  windows: readonly RollupDate[],
): string[][] {
  const events = dedupe(allEvents.filter((e) => e.app_id === appId));
  const features = [...catalog.features].sort((a, b) => compareBytes(a.id, b.id));
  const segments = [...catalog.segments].sort((a, b) => compareBytes(a.id, b.id));
  const flagFeatures = new Set(features.filter((f) => f.type === 'event' && f.flag_checks === true).map((f) => f.id));
  const rows: string[][] = [[...COMPANY_EXPORT_HEADER]];

  for (const window of windows) {
    const D = window.d.getTime();
    const E = dayOf(D - 1);
    // Prompt events and flag events that are no use count nowhere, not even as "seen".
    const before = events.filter(
      (e) =>
        ms(e.timestamp) < D &&
        e.event_type !== 'prompt_event' &&
        (e.event_type !== 'feature_flag' || isFlagUse(e, flagFeatures)),
    );
    // Of the feedback versions sharing a feedbackId, only the latest before D counts
    // (for Feedback Count and Satisfaction; every version is still a record of its company).
    const latestVersion = new Map<string, LakeEvent>();
    for (const e of before) {
      const id = feedbackIdOf(e);
      if (id === undefined) continue;
      const latest = latestVersion.get(id);
      if (!latest || byCallOrder(latest, e) < 0) latestVersion.set(id, e);
    }
    const replaced = (e: LakeEvent) => {
      const id = feedbackIdOf(e);
      return id !== undefined && latestVersion.get(id) !== e;
    };
    const companyCalls = before.filter((e) => e.event_type === 'identify_company' && e.company_id !== null);
    companyCalls.sort(byCallOrder);

    // A user belongs to the company of their latest company call carrying their userId.
    const userCompany = new Map<string, string>();
    for (const call of companyCalls)
      if (call.user_id !== null) userCompany.set(call.user_id, call.company_id as string);

    const counted = new Map<string, LakeEvent[]>();
    const countFor = (company: string, event: LakeEvent) => {
      const list = counted.get(company) ?? [];
      list.push(event);
      counted.set(company, list);
    };
    const companies = new Set<string>();
    for (const event of before) {
      if (event.company_id !== null) {
        companies.add(event.company_id);
        countFor(event.company_id, event);
      } else if (
        (event.event_type === 'track' || event.event_type === 'feedback' || event.event_type === 'feature_flag') &&
        event.user_id !== null
      ) {
        const company = userCompany.get(event.user_id);
        if (company !== undefined) countFor(company, event);
      }
    }

    for (const company of [...companies].sort(compareBytes)) {
      const records = counted.get(company) ?? [];
      const calls = companyCalls.filter((c) => c.company_id === company);
      const attributes = merged(calls);
      const firstSeen = Math.min(...records.map((r) => ms(r.timestamp)));
      const activeTimes = records.filter((r) => r.context_active !== false).map((r) => ms(r.timestamp));
      const lastSeen = Math.max(firstSeen, ...activeTimes);
      const rawName = Object.hasOwn(attributes, 'name') ? attributes.name : undefined;
      const name =
        typeof rawName === 'string'
          ? rawName
          : typeof rawName === 'number' || typeof rawName === 'boolean'
            ? JSON.stringify(rawName)
            : '';
      const inSegments = segments.filter((s) => s.filters.every((f) => matches(attributes, f)));
      const tracks = records.filter((r) => r.event_type === 'track');
      const flagUses = records.filter((r) => r.event_type === 'feature_flag');
      const feedback = records.filter((r) => r.event_type === 'feedback' && !replaced(r));

      for (const feature of features) {
        const state =
          feature.type === 'event'
            ? eventFeatureState(feature, tracks, flagUses)
            : attributeFeatureState(feature, calls, E);
        const days = new Set([...state.activeDays].filter((d) => d <= E));
        const adoption = feature.adoption ?? DEFAULT_ADOPTION;
        const retention = feature.retention ?? DEFAULT_RETENTION;
        const adopted = [...days].some(
          (d) => countIn(days, d - adoption.window_days + 1, d) >= adoption.min_active_days,
        );
        const retained = countIn(days, E - retention.window_days + 1, E) >= retention.min_active_days;
        const stars = state.firstUsed === undefined ? 1 : !adopted ? 2 : retained ? 3 : 4;
        const freq = frequency(days, E);
        const mine = feedback.filter((f) => f.feature_id === feature.id);
        const scores = mine.map((f) => f.score).filter((s): s is number => s !== null);
        const sum = scores.reduce((a, b) => a + b, 0);
        // Half up, in integers: floor(sum / n + 1/2) = floor((2 sum + n) / 2n).
        const satisfaction =
          scores.length > 0 ? Math.floor((2 * sum + scores.length) / (2 * scores.length)) : undefined;
        rows.push([
          company,
          name,
          feature.name,
          feature.id,
          window.date,
          iso(firstSeen),
          iso(lastSeen),
          state.firstUsed === undefined ? '' : iso(state.firstUsed),
          state.lastUsed === undefined ? '' : iso(state.lastUsed),
          STARS_LABELS[stars as 1 | 2 | 3 | 4],
          String(stars),
          FREQUENCY_LABELS[freq as 0 | 1 | 2 | 3],
          String(freq),
          satisfaction === undefined ? '' : SATISFACTION_LABELS[satisfaction as 1 | 2 | 3 | 4 | 5],
          satisfaction === undefined ? '' : String(satisfaction),
          String(mine.length),
          inSegments.map((s) => s.name).join(','),
          inSegments.map((s) => s.id).join(','),
        ]);
      }
    }
  }
  return rows;
}

/** A CSV's cells, parsed strictly by RFC 4180 (every row as long as the header). */
export function parseCsv(text: string): string[][] {
  return parse(text, { relax_quotes: false, relax_column_count: false }) as string[][];
}
