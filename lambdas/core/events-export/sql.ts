import { EXPORT_INPUTS_TABLE_NAME } from '../../contract/export-inputs.ts';
import { EVENTS_TABLE_NAME, earliestReceivedDate, LAKE_FIRST_DATE, lakeShard } from '../../contract/lake.ts';
import { DIALECTS, type SqlDialect, type SqlDialectName } from '../company-export/rollup/dialect.ts';
import { assertJobId } from '../company-export/rollup/inputs.ts';
import type { QueryParam } from '../shared/query-param.ts';
import type { EventsExportPartition } from './partitions.ts';

/**
 * The query behind one weekly partition of an events export, as one SQL text per
 * dialect. The text holds no value: the job, the app and the partition's dates are
 * `?` parameters, all in WHERE clauses (the only place Athena takes them), and each
 * scan of the lake names its partitions (`shard`, a lower `received` bound); the
 * app token, the format, the filter lists and the segment's filters are rows of
 * `export_inputs` (see inputs.ts). Each row of the result is one finished line of
 * the file (a JSON object, or a CSV record ending in CR), in the single column
 * `line`: the week's UNLOAD writes each row followed by LF into gzip files, and the
 * step that makes the file only joins those on S3 (assemble-week.ts): no value is
 * parsed or re-encoded outside the engine. A line never holds a bare NULL (TEXTFILE
 * would write `\N`): every field is coalesced.
 *
 * What it selects: the app's events with `dt` (the UTC date of `timestamp`) in the
 * partition's days, of the wanted types, of the wanted users and companies if any
 * are named, minus excluded users and companies, and, given a segment, only those
 * whose `company_id` is in the segment as of the end of the export's last day; one
 * copy per `event_id` (a retried call lands twice: the earliest, as the rollup
 * keeps it), ordered by time (within each UNLOAD file: see docs/events-export.md).
 *
 * Segment membership follows DESIGN: a company's attributes are the merge of its
 * `identify_company` calls up to then (later keys win), and every filter must hold
 * (a missing attribute holds only `neq` and `is_not_set`), with the same JSON value
 * semantics as the rollup (filters.ts `matches`).
 */

/** The exported event's fields, in file order (the CSV header, the JSON keys). */
export const EXPORTED_EVENT_FIELDS = [
  'app_token',
  'event_id',
  'event_type',
  'event_name',
  'user_id',
  'company_id',
  'source',
  'timestamp',
  'inserted_at',
  'feature_id',
  'score',
  'comment',
  'metadata',
] as const;

/** The result's one column. */
const LINE_COLUMN = 'line';

/** Names of the `?`s in text order, for documentation and tests. */
export const EVENTS_EXPORT_PARAM_NAMES = [
  'job_id',
  'shard',
  'app_id',
  'segment_received_from',
  'segment_dt_from',
  'segment_dt_to',
  'shard',
  'app_id',
  'received_from',
  'dt_from',
  'dt_to',
] as const;

/**
 * With no segment, the segment history scan is given an empty `dt` range whose
 * `received` bound lies in the far future, which both engines prune to no partition
 * at all: the static text costs nothing when unused.
 */
const NO_HISTORY = { from: '9999-12-31', to: '0000-01-01' } as const;

export function eventsExportParams(input: {
  readonly jobId: string;
  readonly environmentId: string;
  readonly partition: Pick<EventsExportPartition, 'from' | 'to'>;
  /** The export's last day; set when a segment is asked for. */
  readonly segmentAsOf?: string;
}): QueryParam[] {
  assertJobId(input.jobId);
  if (input.environmentId === '') throw new RangeError('environmentId must not be empty');
  const history = input.segmentAsOf ? { from: LAKE_FIRST_DATE, to: input.segmentAsOf } : NO_HISTORY;
  const shard = lakeShard(input.environmentId);
  // Each scan reads one shard, and only the receive dates its events can have: an
  // event is never received earlier than the day before its own date, because
  // tracking refuses timestamps more than a day ahead (MAX_FUTURE_MS). No upper
  // `received` bound: a backfill may arrive any time later.
  return [
    input.jobId,
    shard,
    input.environmentId,
    earliestReceivedDate(history.from),
    history.from,
    history.to,
    shard,
    input.environmentId,
    earliestReceivedDate(input.partition.from),
    input.partition.from,
    input.partition.to,
  ];
}

/** Where the two engines spell this query's pieces differently (beyond the rollup's dialect table). */
interface LineDialect {
  /** A VARCHAR as a JSON string literal (escaped), or NULL for NULL. */
  jsonString(text: string): string;
}

const LINE_DIALECTS: Readonly<Record<SqlDialectName, LineDialect>> = {
  // Casting a VARCHAR to JSON makes a JSON string (it does not parse it).
  trino: { jsonString: (t) => `json_format(CAST(${t} AS JSON))` },
  duckdb: { jsonString: (t) => `CAST(to_json(${t}) AS VARCHAR)` },
};

const EVENTS_EXPORT_SQL = new Map<SqlDialectName, string>();

/** The partition query's text for a dialect; bind `eventsExportParams` to its `?`s, in order. */
export function eventsExportSql(dialect: SqlDialectName): string {
  let sql = EVENTS_EXPORT_SQL.get(dialect);
  if (!sql) {
    sql = buildSql(DIALECTS[dialect], LINE_DIALECTS[dialect]);
    EVENTS_EXPORT_SQL.set(dialect, sql);
  }
  return sql;
}

/** The JSON type of a value held as compact JSON text, from its first character. */
const jsonTypeOf = (json: string) =>
  `CASE substr(${json}, 1, 1) WHEN '"' THEN 'string' WHEN '[' THEN 'array' WHEN '{' THEN 'object' ` +
  `WHEN 't' THEN 'boolean' WHEN 'f' THEN 'boolean' WHEN 'n' THEN 'null' ELSE 'number' END`;

/**
 * A text equal for two JSON values exactly when DESIGN calls them equal: strings by
 * their text, numbers as doubles, anything else by the engine's compact JSON.
 */
const valueKey = (D: SqlDialect) => (json: string) =>
  `CASE ${jsonTypeOf(json)} WHEN 'number' THEN 'n:' || CAST(TRY_CAST(${json} AS DOUBLE) AS VARCHAR) ` +
  `WHEN 'string' THEN 's:' || ${D.jsonStringValue(json)} ELSE 'j:' || ${json} END`;

/** RFC 4180: quoted (quotes doubled) only when it holds a comma, a quote or a line break; NULL is empty. */
const csvField = (text: string) =>
  `CASE WHEN ${text} IS NULL THEN '' ` +
  `WHEN strpos(${text}, '"') > 0 OR strpos(${text}, ',') > 0 OR strpos(${text}, chr(10)) > 0 OR strpos(${text}, chr(13)) > 0 ` +
  `THEN '"' || replace(${text}, '"', '""') || '"' ELSE ${text} END`;

/** Fields whose every value featurelake writes itself: an app token, an enum, an ISO instant, an integer. */
const UNQUOTED_CSV_FIELDS: ReadonlySet<string> = new Set([
  'app_token',
  'event_type',
  'source',
  'timestamp',
  'inserted_at',
  'score',
]);

function buildSql(D: SqlDialect, L: LineDialect): string {
  const key = valueKey(D);
  // A filter's value as the engine spells the attribute values it compares with.
  const filterValue = (alias: string) => `${alias}.value_type AS f_type,
    ${key(D.normalizeJson(`${alias}.value_json`))} AS f_key,
    CASE WHEN ${alias}.value_type = 'string' THEN ${alias}.value_text END AS f_str,
    CASE WHEN ${alias}.value_type = 'number' THEN TRY_CAST(${alias}.value_text AS DOUBLE) END AS f_num`;
  const listed = (kind: string) => `(SELECT value_text FROM job_inputs WHERE kind = '${kind}')`;
  const listEmpty = (kind: string) => `(SELECT count(*) FROM job_inputs WHERE kind = '${kind}') = 0`;

  // Each field as the file shows it: text, or NULL where the event has none.
  const text: Record<(typeof EXPORTED_EVENT_FIELDS)[number], string> = {
    app_token: 's.app_token',
    event_id: 'e.event_id',
    event_type: 'e.event_type',
    event_name: 'e.event_name',
    user_id: 'e.user_id',
    company_id: 'e.company_id',
    source: 'e.source',
    timestamp: D.isoInstant('e.ts'),
    inserted_at: D.isoInstant('e.received_at'),
    feature_id: 'e.feature_id',
    score: 'CAST(e.score AS VARCHAR)',
    comment: 'e.comment',
    // Attributes are stored as the JSON text of an object; an event without them has none.
    metadata: `coalesce(e.attributes, '{}')`,
  };
  const jsonValue = (field: (typeof EXPORTED_EVENT_FIELDS)[number]) => {
    if (field === 'metadata') return text.metadata;
    if (field === 'score') return `coalesce(${text.score}, 'null')`;
    if (field === 'timestamp' || field === 'inserted_at') return `'"' || ${text[field]} || '"'`;
    return `coalesce(${L.jsonString(text[field])}, 'null')`;
  };
  const jsonLine = `'{' || ${EXPORTED_EVENT_FIELDS.map(
    (field, i) => `'${i === 0 ? '' : ','}"${field}":' || ${jsonValue(field)}`,
  ).join(' || ')} || '}'`;
  // RFC 4180's CRLF: the UNLOAD writes the LF after each row, the line carries the CR.
  // Only a client's text is searched for what needs quoting (four scans of it): the
  // fields featurelake writes itself never hold a comma, quote or line break, and a
  // non-empty JSON object always holds a quote, so those skip the scans (a third of
  // the line's CPU on DuckDB).
  const csvValue = (field: (typeof EXPORTED_EVENT_FIELDS)[number]) => {
    if (UNQUOTED_CSV_FIELDS.has(field)) return `coalesce(${text[field]}, '')`;
    if (field === 'metadata') {
      return `CASE WHEN ${text.metadata} = '{}' THEN '{}' ELSE '"' || replace(${text.metadata}, '"', '""') || '"' END`;
    }
    return csvField(text[field]);
  };
  const csvLine = EXPORTED_EVENT_FIELDS.map(csvValue).join(" || ',' || ");

  return `WITH
job_inputs AS (
  SELECT kind, owner, filter_no, attribute, operator, value_type, value_text, value_json
  FROM ${EXPORT_INPUTS_TABLE_NAME}
  WHERE job_id = ?
),
settings AS (
  SELECT max(CASE WHEN kind = 'app_token' THEN value_text END) AS app_token,
    max(CASE WHEN kind = 'format' THEN value_text END) AS format
  FROM job_inputs
),
segment_filters AS (
  SELECT i.filter_no, i.attribute, i.operator, ${filterValue('i')}
  FROM job_inputs i WHERE i.kind = 'filter' AND i.owner = 'segment'
),
segment_filter_values AS (
  SELECT DISTINCT i.filter_no, ${key(D.normalizeJson('i.value_json'))} AS f_key
  FROM job_inputs i WHERE i.kind = 'filter_value' AND i.owner = 'segment'
),
segment_calls AS (
  SELECT company_id, event_id, attributes, "timestamp" AS ts, received_at,
    row_number() OVER (PARTITION BY event_id ORDER BY "timestamp", received_at) AS copy_no
  FROM ${EVENTS_TABLE_NAME}
  WHERE shard = ? AND app_id = ? AND received >= ? AND dt >= ? AND dt <= ?
    AND event_type = 'identify_company' AND company_id IS NOT NULL
),
segment_companies AS (
  SELECT DISTINCT company_id FROM segment_calls
),
call_values AS (
  SELECT c.company_id, c.ts, c.received_at, c.event_id, f.filter_no,
    ${D.objectValue('c.attributes', 'f.attribute')} AS a_json
  FROM segment_calls c CROSS JOIN segment_filters f
  WHERE c.copy_no = 1
),
latest_values AS (
  SELECT company_id, filter_no, a_json, ${jsonTypeOf('a_json')} AS a_type
  FROM (
    SELECT company_id, filter_no, a_json,
      row_number() OVER (PARTITION BY company_id, filter_no ORDER BY ts DESC, received_at DESC, event_id DESC) AS newest
    FROM call_values WHERE a_json IS NOT NULL
  ) t
  WHERE newest = 1
),
filter_results AS (
  SELECT v.company_id, v.filter_no,
    CASE f.operator
      WHEN 'eq' THEN ${key('v.a_json')} = f.f_key
      WHEN 'neq' THEN ${key('v.a_json')} <> f.f_key
      WHEN 'gt' THEN v.a_type = 'number' AND f.f_type = 'number' AND TRY_CAST(v.a_json AS DOUBLE) > f.f_num
      WHEN 'gte' THEN v.a_type = 'number' AND f.f_type = 'number' AND TRY_CAST(v.a_json AS DOUBLE) >= f.f_num
      WHEN 'lt' THEN v.a_type = 'number' AND f.f_type = 'number' AND TRY_CAST(v.a_json AS DOUBLE) < f.f_num
      WHEN 'lte' THEN v.a_type = 'number' AND f.f_type = 'number' AND TRY_CAST(v.a_json AS DOUBLE) <= f.f_num
      WHEN 'contains' THEN CASE v.a_type
        WHEN 'string' THEN f.f_type = 'string' AND strpos(${D.jsonStringValue('v.a_json')}, f.f_str) > 0
        WHEN 'array' THEN coalesce(${D.arrayContains(D.arrayElementKeys('v.a_json', key), 'f.f_key')}, false)
        ELSE false END
      WHEN 'in' THEN fv.f_key IS NOT NULL
      WHEN 'is_set' THEN v.a_type <> 'null'
      WHEN 'is_not_set' THEN v.a_type = 'null'
      ELSE false
    END AS matched
  FROM latest_values v
  JOIN segment_filters f ON f.filter_no = v.filter_no
  LEFT JOIN segment_filter_values fv ON fv.filter_no = v.filter_no AND fv.f_key = ${key('v.a_json')}
),
segment_failures AS (
  SELECT DISTINCT c.company_id
  FROM segment_companies c
  CROSS JOIN segment_filters f
  LEFT JOIN filter_results r ON r.company_id = c.company_id AND r.filter_no = f.filter_no
  WHERE NOT (CASE WHEN r.company_id IS NULL THEN f.operator IN ('neq', 'is_not_set') ELSE coalesce(r.matched, false) END)
),
week_events AS (
  SELECT event_id, event_type, event_name, user_id, company_id, source, feature_id, score, comment, attributes,
    "timestamp" AS ts, received_at,
    row_number() OVER (PARTITION BY event_id ORDER BY "timestamp", received_at) AS copy_no
  FROM ${EVENTS_TABLE_NAME}
  WHERE shard = ? AND app_id = ? AND received >= ? AND dt >= ? AND dt <= ?
    AND event_type IN ${listed('event_type')}
    AND (${listEmpty('user_id')} OR user_id IN ${listed('user_id')})
    AND (${listEmpty('company_id')} OR company_id IN ${listed('company_id')})
    AND (user_id IS NULL OR user_id NOT IN ${listed('excluded_user_id')})
    AND (company_id IS NULL OR company_id NOT IN ${listed('excluded_company_id')})
    AND (${listEmpty('segment')} OR (
      company_id IS NOT NULL
      AND company_id NOT IN (SELECT company_id FROM segment_failures)
      AND (company_id IN (SELECT company_id FROM segment_companies)
        OR (SELECT count(*) FROM segment_filters WHERE operator NOT IN ('neq', 'is_not_set')) = 0)
    ))
)
SELECT CASE WHEN s.format = 'csv' THEN ${csvLine} || chr(13)
  ELSE ${jsonLine} END AS ${LINE_COLUMN}
FROM week_events e CROSS JOIN settings s
WHERE e.copy_no = 1
`;
}
