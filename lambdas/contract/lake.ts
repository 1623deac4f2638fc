/**
 * The lake's `events` table: the one definition of its columns and of its layout.
 *
 * The CDK Glue table (and so Firehose's Parquet conversion), the Firehose stream's
 * partition keys and the local sink's Parquet compaction all read these lists, so
 * the two lakes cannot drift.
 *
 * Layout: `events/shard=<0..63>/received=<YYYY-MM-DD>/`. Both keys are bounded
 * whatever clients send: `shard` is a hash of the environment id (64 values) and
 * `received` is the server's UTC date when the call was accepted, so one Firehose
 * buffer holds at most 64 × (the days it spans) partitions, far below Firehose's
 * 500 active partitions, however many environments are active or however far back
 * a backfill's timestamps go. `app_id` and `dt` (the event's own UTC date) are
 * ordinary columns: queries keep `app_id = ? AND dt …` and add `shard = ?` to prune.
 */

export type LakeColumnType = 'string' | 'int' | 'boolean' | 'timestamp';

export interface LakeColumn {
  readonly name: string;
  readonly type: LakeColumnType;
  readonly comment: string;
}

export const EVENT_COLUMNS: readonly LakeColumn[] = [
  { name: 'event_id', type: 'string', comment: 'server UUID, or the client messageId (de-duplication key)' },
  {
    name: 'event_type',
    type: 'string',
    comment: 'identify_user | identify_company | track | feedback | feature_flag | prompt_event',
  },
  {
    name: 'event_name',
    type: 'string',
    comment: 'the track call event name; the action of a feature_flag or prompt_event row',
  },
  { name: 'user_id', type: 'string', comment: 'userId, numbers stored as strings' },
  { name: 'company_id', type: 'string', comment: 'companyId, numbers stored as strings' },
  {
    name: 'feature_id',
    type: 'string',
    comment: 'featureId of a feedback or prompt event, the flag key of a feature_flag row',
  },
  { name: 'score', type: 'int', comment: 'feedback score 1-5' },
  { name: 'comment', type: 'string', comment: 'feedback comment' },
  { name: 'attributes', type: 'string', comment: 'attributes object as JSON text' },
  { name: 'context_active', type: 'boolean', comment: 'context.active, default true' },
  { name: 'timestamp', type: 'timestamp', comment: 'event time (UTC): the client timestamp or the receive time' },
  { name: 'received_at', type: 'timestamp', comment: 'when the tracking API accepted the call (UTC)' },
  { name: 'source', type: 'string', comment: 'api (single call) or bulk' },
  { name: 'app_id', type: 'string', comment: 'the environment id' },
  { name: 'dt', type: 'string', comment: 'UTC date of timestamp, YYYY-MM-DD' },
];

/** Hive partition keys, in path order: `shard=<0..63>/received=<YYYY-MM-DD>`. */
export const EVENT_PARTITION_COLUMNS = [
  { name: 'shard', type: 'int', comment: 'lakeShard(app_id): FNV-1a (32-bit) of the environment id, mod 64' },
  { name: 'received', type: 'string', comment: 'UTC date of received_at, YYYY-MM-DD' },
] as const satisfies readonly LakeColumn[];

export type EventPartitionKey = (typeof EVENT_PARTITION_COLUMNS)[number]['name'];

export const EVENTS_TABLE_NAME = 'events';

/**
 * Earliest date the lake holds: tracking refuses a timestamp before it, and the
 * queries' whole-history scans (`dt >= LAKE_FIRST_DATE`) and the `received`
 * projection start here. An older event would be stored and then never counted,
 * so it is refused at the door, where the client hears of it.
 */
export const LAKE_FIRST_DATE = '2020-01-01';

/**
 * How long after one copy of an `event_id` another copy is still a duplicate (a
 * client's retry of the same `messageId`): a copy counts unless another copy of its
 * event_id was received in the EVENT_ID_DEDUP_DAYS days before it (received_at, then
 * timestamp order). Bounding it is what lets a build or an export ask only the recent
 * `received` partitions about duplicates instead of the event ids of the whole history
 * (docs/rollup.md "Duplicates"). SDK retries come within minutes or hours; a copy sent
 * again weeks later (a replayed backfill) counts again. Amplitude's `insert_id` has the
 * same 7-day window; Segment's `messageId` one of about a day.
 */
export const EVENT_ID_DEDUP_DAYS = 7;

/** How far ahead of the server's clock a client timestamp may be (tracking refuses more). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

/** How many shards the lake's `shard` key has (its Glue projection range is 0..LAKE_SHARDS − 1). */
export const LAKE_SHARDS = 64;

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/**
 * The lake shard of an environment: 32-bit FNV-1a over the id's UTF-8 bytes, mod
 * LAKE_SHARDS. Chosen because it is a few lines with published test vectors, the
 * same in any language, and spreads ids evenly (measured over 6,400 random UUIDs
 * and 6,400 sequential ids: every shard within ±25% of the mean, chi-square near
 * its 63 degrees of freedom). Never change it: rows already in the lake stay under
 * the shard it gave them, and queries find them only through it.
 */
export function lakeShard(environmentId: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(environmentId)) {
    hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  }
  return hash % LAKE_SHARDS;
}

/**
 * The earliest `received` date of an event whose `dt` is `eventDate`: tracking
 * refuses timestamps more than MAX_FUTURE_MS (one day) ahead of its clock, so an
 * event is never received earlier than the day before its own date (an event at
 * 00:00 on D accepted at 00:00 on D − 1 is the earliest case). A query over
 * event dates from `eventDate` on may therefore prune `received >= ` this.
 */
export function earliestReceivedDate(eventDate: string): string {
  return new Date(Date.parse(`${eventDate}T00:00:00.000Z`) - MAX_FUTURE_MS).toISOString().slice(0, 10);
}

/**
 * The earliest `received` date of a copy that can make a record received on or after
 * `receivedFrom` a duplicate: EVENT_ID_DEDUP_DAYS days before (the bound a
 * de-duplication probe prunes `received` with).
 */
export function earliestDuplicateReceivedDate(receivedFrom: string): string {
  return addDays(receivedFrom, -EVENT_ID_DEDUP_DAYS);
}

/** A UTC day in milliseconds (UTC has no daylight saving; leap seconds are not counted). */
export const DAY_MS = 86_400_000;

/** The UTC date `days` days after `day` (YYYY-MM-DD; negative: before). */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export type EventType = 'identify_user' | 'identify_company' | 'track' | 'feedback' | 'feature_flag' | 'prompt_event';

/**
 * One row of the lake, as it travels on the wire: to Firehose (JSON, converted to
 * Parquet by Firehose) and into the local durable log. Instants are ISO-8601 UTC
 * strings with milliseconds and `Z` (Firehose's OpenX deserializer is configured
 * for exactly that form).
 */
export interface LakeEvent {
  event_id: string;
  event_type: EventType;
  event_name: string | null;
  user_id: string | null;
  company_id: string | null;
  feature_id: string | null;
  score: number | null;
  comment: string | null;
  attributes: string | null;
  context_active: boolean;
  timestamp: string;
  received_at: string;
  source: 'api' | 'bulk';
  app_id: string;
  dt: string;
  /** Partition key: `lakeShard(app_id)`. */
  shard: number;
  /** Partition key: the UTC date of `received_at`. */
  received: string;
}
