/**
 * What the console's Tracking and Features pages read from the lake: an environment's
 * most recent events, its unassociated tracks (seed 001's "Tracking" tab), and the
 * STARS funnel of every feature. Each is one read-only query over the `events` table
 * (Athena on AWS, DuckDB locally), scoped to the environment's `app_id` and pruned by
 * its `shard`, with every value bound as a `?` parameter in a WHERE clause (the only
 * place Athena takes them). docs/console.md and docs/cost.md say what each costs.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DAY_MS, LAKE_FIRST_DATE, lakeShard } from '../../contract/lake.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import type { FactsManifestStore } from '../../ports/company-facts.ts';
import type { LakeInputsWriter } from '../../ports/lake-inputs.ts';
import type { QueryEngine, QueryParam, QueryRow } from '../../ports/query-engine.ts';
import {
  type PreparedCompanyRollup,
  prepareCompanyRollup,
  preparedRollupSql,
  type SqlDialectName,
} from '../company-export/rollup/index.ts';
import { DomainError, ValidationError } from '../shared/errors.ts';
import { parseRequestPayload } from '../shared/request-body.ts';

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** `YYYY-MM-DD HH:MM:SS.mmm`: what `CAST(? AS TIMESTAMP)` reads alike in Trino and DuckDB. */
const sqlTimestamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** Query strings arrive as text: a whole number in a range, or the field named in the 400. */
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/**
 * A read the lake could not answer inside one request: on Athena the workgroup's
 * per-query scan cutoff or the 25-second limit stopped it. Not the client's input (it
 * names no field), and the same request would stop the same way: a 400 in words.
 */
export class LakeReadTooLargeError extends DomainError {
  readonly status = 400;
}

/** `readRows`, with the engine's refusal of our own query (`sql`) said in the console's words. */
async function readLake(
  engine: Pick<QueryEngine, 'readRows'>,
  what: string,
  instead: string,
  sql: string,
  params: readonly QueryParam[],
  options?: { maxRows?: number },
): Promise<QueryRow[]> {
  try {
    return await engine.readRows(sql, params, options);
  } catch (error) {
    if (error instanceof ValidationError && error.problems.every((p) => p.field === 'sql')) {
      const reason = error.problems.map((p) => p.problem).join('; ');
      throw new LakeReadTooLargeError(
        `${what} needs more of the lake than one request may read (${reason}). ${instead}`,
      );
    }
    throw error;
  }
}

// ---------------------------------------------------------------- recent events

export const RECENT_EVENTS_DEFAULT_LIMIT = 50;
export const RECENT_EVENTS_MAX_LIMIT = 200;
/**
 * How many UTC `received` dates the tail reads at most: today and yesterday. With
 * the shard, that prunes the scan to two partitions; an environment quiet for two
 * days shows no events.
 */
export const RECENT_EVENTS_RECEIVED_DAYS = 2;
/**
 * The tail is looked for in the last hour first. The lake's files are written in
 * arrival order (a Firehose buffer, a compacted log segment), so Parquet's min/max
 * statistics on `received_at` let Athena skip every older row group: at 1,000
 * events/s the first read scans an hour, not two days. Only when the hour holds
 * fewer events than asked for is the two-day window read.
 */
export const RECENT_EVENTS_FIRST_WINDOW_MS = 60 * 60 * 1000;
/** Characters of an event's attributes JSON shown in the tail; the rest is in the lake and its exports. */
export const RECENT_EVENTS_ATTRIBUTES_CHARS = 500;

export const recentEventsQuery = z.object({
  limit: wholeNumber(1, RECENT_EVENTS_MAX_LIMIT).default(RECENT_EVENTS_DEFAULT_LIMIT),
});

export interface RecentEvent {
  event_id: string;
  event_type: string;
  event_name: string | null;
  user_id: string | null;
  company_id: string | null;
  feature_id: string | null;
  /** The first RECENT_EVENTS_ATTRIBUTES_CHARS characters of the attributes JSON. */
  attributes: string | null;
  attributes_truncated: boolean;
  context_active: boolean;
  timestamp: string;
  received_at: string;
  source: string;
}

export interface RecentEventsAnswer {
  events: RecentEvent[];
  limit: number;
  /** The earliest `received_at` read (the last hour, or the start of yesterday): older events are not looked at. */
  received_since: string;
}

/**
 * Newest first by `received_at` (what "just arrived" means to someone watching the
 * page), then `event_id` so that ties have one order. The LIMIT is the largest one
 * allowed, written in the text (Athena takes `?` only in WHERE); the engine reads
 * only the rows asked for.
 */
export const RECENT_EVENTS_SQL = `SELECT event_id, event_type, event_name, user_id, company_id, feature_id,
  substr(attributes, 1, ${RECENT_EVENTS_ATTRIBUTES_CHARS}) AS attributes,
  coalesce(length(attributes) > ${RECENT_EVENTS_ATTRIBUTES_CHARS}, false) AS attributes_truncated,
  context_active, "timestamp", received_at, source
FROM events
WHERE shard = ? AND app_id = ? AND received >= ? AND received_at >= CAST(? AS TIMESTAMP)
ORDER BY received_at DESC, event_id DESC
LIMIT ${RECENT_EVENTS_MAX_LIMIT}`;

/** The query's values for the events received from `since` on (its date prunes `received`). */
export function recentEventsParams(environmentId: string, since: Date): QueryParam[] {
  return [lakeShard(environmentId), environmentId, isoDate(since.getTime()), sqlTimestamp(since.getTime())];
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const instant = (value: unknown): string => new Date(String(value)).toISOString();

export async function recentEvents(
  engine: Pick<QueryEngine, 'readRows'>,
  environmentId: string,
  query: Record<string, string | undefined> | undefined,
  now: Date,
): Promise<RecentEventsAnswer> {
  const { limit } = parseRequestPayload(recentEventsQuery, query ?? {});
  const read = (since: Date) =>
    readLake(
      engine,
      'Reading the recent events',
      'Ask for fewer events, or read the lake with a raw-event export.',
      RECENT_EVENTS_SQL,
      recentEventsParams(environmentId, since),
      { maxRows: limit },
    );
  let since = new Date(now.getTime() - RECENT_EVENTS_FIRST_WINDOW_MS);
  let rows = await read(since);
  if (rows.length < limit) {
    since = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS - (RECENT_EVENTS_RECEIVED_DAYS - 1) * DAY_MS);
    rows = await read(since);
  }
  return {
    events: rows.slice(0, limit).map((row) => ({
      event_id: String(row.event_id),
      event_type: String(row.event_type),
      event_name: text(row.event_name),
      user_id: text(row.user_id),
      company_id: text(row.company_id),
      feature_id: text(row.feature_id),
      attributes: text(row.attributes),
      attributes_truncated: row.attributes_truncated === true || row.attributes_truncated === 'true',
      context_active: row.context_active !== false && row.context_active !== 'false',
      timestamp: instant(row.timestamp),
      received_at: instant(row.received_at),
      source: String(row.source),
    })),
    limit,
    received_since: since.toISOString(),
  };
}

// ---------------------------------------------------------- unassociated events

/** How many days of tracks the unassociated count looks at. */
export const UNASSOCIATED_WINDOW_DAYS = 30;
export const UNASSOCIATED_DEFAULT_USERS = 50;
export const UNASSOCIATED_MAX_USERS = 200;

export const unassociatedQuery = z.object({
  limit: wholeNumber(1, UNASSOCIATED_MAX_USERS).default(UNASSOCIATED_DEFAULT_USERS),
});

/**
 * Tracks of the last UNASSOCIATED_WINDOW_DAYS days that count for no company
 * (DESIGN "User → company"): sent without `companyId` by a user whom no `company`
 * call before now ever carried. Membership looks at the whole history (a user
 * associated a year ago still belongs), reading only company calls' `user_id`;
 * the tracks are bounded by the window on `dt` and on `received` (an event is never
 * received before the day before its date). Tracks are de-duplicated by `event_id`
 * (a retried call is one track), as the rollup counts them.
 */
export const UNASSOCIATED_SQL = `WITH members AS (
  SELECT DISTINCT user_id
  FROM events
  WHERE shard = ? AND app_id = ? AND dt >= ? AND event_type = 'identify_company'
    AND user_id IS NOT NULL AND "timestamp" < CAST(? AS TIMESTAMP)
),
orphans AS (
  SELECT user_id, count(DISTINCT event_id) AS tracks, max("timestamp") AS last_seen
  FROM events
  WHERE shard = ? AND app_id = ? AND dt >= ? AND received >= ? AND event_type = 'track'
    AND company_id IS NULL AND user_id IS NOT NULL
    AND "timestamp" >= CAST(? AS TIMESTAMP) AND "timestamp" < CAST(? AS TIMESTAMP)
    AND user_id NOT IN (SELECT user_id FROM members)
  GROUP BY user_id
)
SELECT user_id, tracks, last_seen, count(*) OVER () AS total_users, sum(tracks) OVER () AS total_tracks
FROM orphans
ORDER BY tracks DESC, user_id
LIMIT ${UNASSOCIATED_MAX_USERS}`;

export function unassociatedParams(environmentId: string, now: Date): { params: QueryParam[]; since: Date } {
  const shard = lakeShard(environmentId);
  const since = new Date(now.getTime() - UNASSOCIATED_WINDOW_DAYS * DAY_MS);
  const sinceDate = isoDate(since.getTime());
  const nowText = sqlTimestamp(now.getTime());
  return {
    params: [
      shard,
      environmentId,
      LAKE_FIRST_DATE,
      nowText,
      shard,
      environmentId,
      sinceDate,
      isoDate(since.getTime() - DAY_MS),
      sqlTimestamp(since.getTime()),
      nowText,
    ],
    since,
  };
}

export interface UnassociatedAnswer {
  /** The window's start: tracks before it are not counted. */
  since: string;
  until: string;
  window_days: number;
  /** Tracks of the window that count for no company, and how many users sent them. */
  unassociated_tracks: number;
  unassociated_users: number;
  /** The users with the most such tracks, at most `limit`. */
  users: { user_id: string; tracks: number; last_seen: string }[];
  limit: number;
}

export async function unassociatedEvents(
  engine: Pick<QueryEngine, 'readRows'>,
  environmentId: string,
  query: Record<string, string | undefined> | undefined,
  now: Date,
): Promise<UnassociatedAnswer> {
  const { limit } = parseRequestPayload(unassociatedQuery, query ?? {});
  const { params, since } = unassociatedParams(environmentId, now);
  const rows = await readLake(
    engine,
    'Counting the unassociated events',
    'Count them with POST /admin/v1/sql over a shorter window, or in a raw-event export.',
    UNASSOCIATED_SQL,
    params,
    { maxRows: limit },
  );
  const first = rows[0];
  return {
    since: since.toISOString(),
    until: now.toISOString(),
    window_days: UNASSOCIATED_WINDOW_DAYS,
    unassociated_tracks: first ? Number(first.total_tracks) : 0,
    unassociated_users: first ? Number(first.total_users) : 0,
    users: rows.slice(0, limit).map((row) => ({
      user_id: String(row.user_id),
      tracks: Number(row.tracks),
      last_seen: instant(row.last_seen),
    })),
    limit,
  };
}

// ------------------------------------------------------------------ STARS funnel

export const starsFunnelQuery = z.object({
  as_of: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 instant with a time zone, e.g. 2025-12-01T00:00:00Z' })
    .optional(),
});

export interface FeatureFunnel {
  feature_id: string;
  feature_name: string;
  /** Companies per STARS state, as a `today` export's rows for the feature say. */
  never: number;
  tried: number;
  retained: number;
  churned: number;
}

export interface StarsFunnelAnswer {
  as_of: string;
  features: FeatureFunnel[];
}

export const STARS_FUNNEL_STATES: Record<string, keyof Omit<FeatureFunnel, 'feature_id' | 'feature_name'>> = {
  '1': 'never',
  '2': 'tried',
  '3': 'retained',
  '4': 'churned',
};

/**
 * The company rollup's own SQL (the text a `today` export runs, as `preparedRollupSql`
 * picks it for the prepared job: the one-date text over the daily facts, else the full
 * recompute), counted per feature and STARS state. Nothing of the rollup is written
 * twice: the export's columns are grouped as they come out, so the funnel equals the
 * counts of a `today` export's CSV with the same `as_of`.
 */
export function starsFunnelSql(
  dialect: SqlDialectName,
  prepared: Pick<PreparedCompanyRollup, 'fromFacts' | 'shape'> = { fromFacts: false, shape: 'dates' },
): string {
  return `SELECT "Feature ID" AS feature_id, "STARS State" AS stars, count(*) AS companies
FROM (
${preparedRollupSql(dialect, prepared)}
) rollup_rows
GROUP BY "Feature ID", "STARS State"`;
}

export interface StarsFunnelDeps {
  readonly engine: Pick<QueryEngine, 'readRows'>;
  readonly dialect: SqlDialectName;
  readonly catalog: Pick<CatalogStore, 'listFeatures' | 'listSegments'>;
  readonly inputs: LakeInputsWriter;
  /**
   * The daily facts' manifests: given (FEATURELAKE_ROLLUP_FROM_FACTS=1, the default),
   * the funnel reads the facts where they are current, as an export does, and scans
   * the raw lake only for the days since the last build; absent, the full recompute.
   */
  readonly facts?: Pick<FactsManifestStore, 'readFactsManifest'>;
}

/**
 * Runs the rollup for `today` as of `as_of` (default now) over the environment's
 * catalog as it is, and counts companies per feature and state. Its inputs go to
 * `export_inputs` under a job id of their own (`funnel-<uuid>`), as an export's do.
 */
export async function starsFunnel(
  deps: StarsFunnelDeps,
  environmentId: string,
  query: Record<string, string | undefined> | undefined,
  now: Date,
): Promise<StarsFunnelAnswer> {
  const request = parseRequestPayload(starsFunnelQuery, query ?? {});
  const asOf = request.as_of ? new Date(request.as_of) : now;
  // Read together, as an export's prepare step reads them.
  const [features, segments, manifest] = await Promise.all([
    deps.catalog.listFeatures(environmentId),
    deps.catalog.listSegments(environmentId),
    deps.facts?.readFactsManifest(environmentId),
  ]);
  const answer: StarsFunnelAnswer = {
    as_of: asOf.toISOString(),
    features: features.map((f) => ({
      feature_id: f.id,
      feature_name: f.name,
      never: 0,
      tried: 0,
      retained: 0,
      churned: 0,
    })),
  };
  if (features.length === 0) return answer;
  const jobId = `funnel-${randomUUID()}`;
  const prepared = prepareCompanyRollup({
    jobId,
    environmentId,
    aggregation: 'today',
    asOf,
    features,
    segments,
    ...(deps.facts ? { facts: { manifest } } : {}),
  });
  await deps.inputs.writeInputs(jobId, prepared.inputRows);
  const rows = await readLake(
    deps.engine,
    'Counting the STARS funnel',
    "Start a “Just today's snapshot” export (Data export): its CSV holds the same counts.",
    starsFunnelSql(deps.dialect, prepared),
    prepared.params,
  );
  const byId = new Map(answer.features.map((f) => [f.feature_id, f]));
  for (const row of rows) {
    const feature = byId.get(String(row.feature_id));
    const state = STARS_FUNNEL_STATES[String(row.stars)];
    if (feature && state) feature[state] += Number(row.companies);
  }
  return answer;
}
