/**
 * The lake's `events` table: the one definition of its columns.
 *
 * The CDK Glue table (and so Firehose's Parquet conversion) and the local
 * sink's Parquet compaction both read this list, so the two lakes cannot drift.
 */

export type LakeColumnType = 'string' | 'int' | 'boolean' | 'timestamp';

export interface LakeColumn {
  readonly name: string;
  readonly type: LakeColumnType;
  readonly comment: string;
}

export const EVENT_COLUMNS: readonly LakeColumn[] = [
  { name: 'event_id', type: 'string', comment: 'server UUID, or the client messageId (de-duplication key)' },
  { name: 'event_type', type: 'string', comment: 'identify_user | identify_company | track | feedback' },
  { name: 'event_name', type: 'string', comment: 'the track call event name' },
  { name: 'user_id', type: 'string', comment: 'userId, numbers stored as strings' },
  { name: 'company_id', type: 'string', comment: 'companyId, numbers stored as strings' },
  { name: 'feature_id', type: 'string', comment: 'featureId of a feedback call' },
  { name: 'score', type: 'int', comment: 'feedback score 1-5' },
  { name: 'comment', type: 'string', comment: 'feedback comment' },
  { name: 'attributes', type: 'string', comment: 'attributes object as JSON text' },
  { name: 'context_active', type: 'boolean', comment: 'context.active, default true' },
  { name: 'timestamp', type: 'timestamp', comment: 'event time (UTC): the client timestamp or the receive time' },
  { name: 'received_at', type: 'timestamp', comment: 'when the tracking API accepted the call (UTC)' },
  { name: 'source', type: 'string', comment: 'api (single call) or bulk' },
];

/** Hive partition keys, in path order: `app_id=<environment id>/dt=<YYYY-MM-DD>`. */
export const EVENT_PARTITION_KEYS = ['app_id', 'dt'] as const;

export const EVENTS_TABLE_NAME = 'events';

/** Earliest `dt` the Glue partition projection enumerates. */
export const LAKE_FIRST_DATE = '2020-01-01';

export type EventType = 'identify_user' | 'identify_company' | 'track' | 'feedback';

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
}
