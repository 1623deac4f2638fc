/**
 * The daily facts' two queries, one text per dialect like the rollup's, every value a
 * `?` in a WHERE clause:
 * - the plan: which closed days received records since the watermark (so their facts
 *   are stale), reading only the `received` partitions since then;
 * - the build: the facts rows (lambdas/contract/facts.ts, COMPANY_FACT_COLUMNS in
 *   order) of the days the build's `export_inputs` rows (kind `build_span`, job id =
 *   the build id) name, for records received before the cutoff, de-duplicated by
 *   event_id against the copies received before the cutoff: a record counts unless
 *   another copy was received in the EVENT_ID_DEDUP_DAYS before it (docs/rollup.md,
 *   "Duplicates"), so only the `received` partitions from that many days before the
 *   earliest record built are asked.
 */

import { EXPORT_INPUTS_TABLE_NAME } from '../../../contract/export-inputs.ts';
import { COMPANY_FACT_COLUMNS } from '../../../contract/facts.ts';
import {
  EVENTS_TABLE_NAME,
  earliestDuplicateReceivedDate,
  earliestReceivedDate,
  lakeShard,
} from '../../../contract/lake.ts';
import type { QueryParam } from '../../shared/query-param.ts';
import { DIALECTS, dedupCopyNo, type SqlDialect, type SqlDialectName } from '../rollup/dialect.ts';
import { sqlTimestampText } from '../rollup/inputs.ts';

export interface CompanyFactsPlanParamsInput {
  readonly environmentId: string;
  /** The manifest's watermark (ISO): records received since are what can make a day stale. */
  readonly since: string;
  /** The build's cutoff (ISO). */
  readonly cutoff: string;
  /** The last closed day (YYYY-MM-DD): later days are not built. */
  readonly through: string;
}

/** The plan query; its rows are `{ dt }`, one per stale day. Bind `companyFactsPlanParams`. */
export function companyFactsPlanSql(_dialect: SqlDialectName): string {
  // The same text in both dialects: nothing in it differs.
  return `SELECT DISTINCT dt FROM ${EVENTS_TABLE_NAME}
WHERE shard = ? AND app_id = ? AND received >= ? AND received <= ?
  AND received_at >= CAST(? AS TIMESTAMP) AND received_at < CAST(? AS TIMESTAMP) AND dt <= ?
ORDER BY dt`;
}

export function companyFactsPlanParams(input: CompanyFactsPlanParamsInput): QueryParam[] {
  const since = new Date(input.since);
  const cutoff = new Date(input.cutoff);
  return [
    lakeShard(input.environmentId),
    input.environmentId,
    input.since.slice(0, 10),
    input.cutoff.slice(0, 10),
    sqlTimestampText(since),
    sqlTimestampText(cutoff),
    input.through,
  ];
}

export interface CompanyFactsBuildParamsInput {
  readonly environmentId: string;
  readonly buildId: string;
  /** Records received before this instant (ISO) are counted. */
  readonly cutoff: string;
  /** The earliest and latest day the build writes (its `build_span` rows lie between). */
  readonly firstDay: string;
  readonly lastDay: string;
}

/** The `event_name`s (actions) of a `feature_flag` row that can be a use: a check of the flag's value. */
const FLAG_USE_ACTIONS = "('check', 'check-is-enabled')";

const BUILD_SQL = new Map<SqlDialectName, string>();

/** The build query: a SELECT of the facts rows, to be UNLOADed (Athena, Parquet) / COPied (DuckDB) to the build's prefix. */
export function companyFactsBuildSql(dialect: SqlDialectName): string {
  let sql = BUILD_SQL.get(dialect);
  if (!sql) {
    sql = buildSql(DIALECTS[dialect]);
    BUILD_SQL.set(dialect, sql);
  }
  return sql;
}

function buildSql(D: SqlDialect): string {
  const days = D.dayRange(D.dayNumber('s.span_from'), D.dayNumber('s.span_to'), 'r');
  const flagKey = `CASE WHEN k.event_type = 'feature_flag' AND k.event_name IN ${FLAG_USE_ACTIONS}
      AND ${D.objectValue('k.attributes', "'evalResult'")} = 'true' THEN k.feature_id END`;
  const typed = (name: string, expression: string) => {
    const column = COMPANY_FACT_COLUMNS.find((c) => c.name === name);
    if (!column) throw new Error(`no facts column ${name}`);
    const type = { string: 'VARCHAR', int: 'INTEGER', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP' }[column.type];
    return `CAST(${expression} AS ${type}) AS "${name}"`;
  };
  const columns = (values: Record<string, string>) =>
    COMPANY_FACT_COLUMNS.map((c) => typed(c.name, values[c.name] ?? 'NULL')).join(',\n    ');
  return `WITH
build_days AS (
  SELECT ${days.column} AS day_no, s.build_id
  FROM (SELECT span_from, span_to, build_id FROM ${EXPORT_INPUTS_TABLE_NAME} WHERE job_id = ? AND kind = 'build_span') s
  ${days.from}
),
candidates AS (
  -- The records of the days built, received before the cutoff.
  SELECT e.event_id, e.event_type, e.event_name, e.user_id, e.company_id, e.feature_id, e.score, e.attributes,
    e.context_active, e."timestamp", e.received_at, e.dt, e.app_id, b.build_id, 0 AS src
  FROM ${EVENTS_TABLE_NAME} e JOIN build_days b ON b.day_no = ${D.dayNumber('e.dt')}
  WHERE e.shard = ? AND e.app_id = ? AND e.received >= ? AND e.received <= ? AND e.dt >= ? AND e.dt <= ?
    AND e.received_at < CAST(? AS TIMESTAMP)
),
copies AS (
  SELECT event_id, event_type, event_name, user_id, company_id, feature_id, score, attributes, context_active,
    "timestamp", received_at, dt, app_id, build_id, src
  FROM candidates
  UNION ALL
  -- Their copies on other days, received before the cutoff too: they only decide which copy counts.
  SELECT e.event_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, e."timestamp", e.received_at, NULL, NULL, NULL, 1
  FROM ${EVENTS_TABLE_NAME} e LEFT JOIN build_days b ON b.day_no = ${D.dayNumber('e.dt')}
  WHERE e.shard = ? AND e.app_id = ? AND e.received >= ? AND e.received_at < CAST(? AS TIMESTAMP) AND b.day_no IS NULL
    AND e.event_id IN (SELECT event_id FROM candidates)
),
kept AS (
  SELECT * FROM (
    SELECT c.*, ${dedupCopyNo('', 'received_at, "timestamp", src')} AS copy_no
    FROM copies c
  ) n
  WHERE copy_no = 1 AND src = 0
),
uses AS (
  -- Tracks and counting flag checks, per subject (the company, else the user) × use key × day.
  SELECT k.app_id, k.dt, k.build_id, k.event_type, k.company_id,
    CASE WHEN k.company_id IS NULL THEN k.user_id END AS user_id,
    CASE WHEN k.event_type = 'track' THEN k.event_name ELSE ${flagKey} END AS use_key,
    k."timestamp" AS ts, coalesce(k.context_active, true) AS active
  FROM kept k
  WHERE k.event_type IN ('track', 'feature_flag') AND (k.company_id IS NOT NULL OR k.user_id IS NOT NULL)
)
SELECT ${columns({
    app_id: 'app_id',
    dt: 'dt',
    build_id: 'build_id',
    kind: "'use'",
    event_type: 'event_type',
    company_id: 'company_id',
    user_id: 'user_id',
    use_key: 'use_key',
    first_ts: 'min(ts)',
    last_ts: 'max(ts)',
    last_active_ts: 'max(CASE WHEN active THEN ts END)',
    records: 'count(*)',
  })}
FROM uses
WHERE use_key IS NOT NULL
GROUP BY app_id, dt, build_id, event_type, company_id, user_id, use_key
UNION ALL
-- Company calls and feedback as they are: the rollup replays them.
SELECT ${columns({
    app_id: 'app_id',
    dt: 'dt',
    build_id: 'build_id',
    kind: "'record'",
    event_type: 'event_type',
    company_id: 'company_id',
    user_id: 'user_id',
    event_id: 'event_id',
    feature_id: 'feature_id',
    score: 'score',
    attributes: 'attributes',
    context_active: 'context_active',
    timestamp: '"timestamp"',
    received_at: 'received_at',
  })}
FROM kept
WHERE event_type = 'feedback' OR (event_type = 'identify_company' AND company_id IS NOT NULL)
`;
}

export function companyFactsBuildParams(input: CompanyFactsBuildParamsInput): QueryParam[] {
  const shard = lakeShard(input.environmentId);
  const cutoff = sqlTimestampText(new Date(input.cutoff));
  return [
    input.buildId,
    shard,
    input.environmentId,
    earliestReceivedDate(input.firstDay),
    input.cutoff.slice(0, 10),
    input.firstDay,
    input.lastDay,
    cutoff,
    shard,
    input.environmentId,
    earliestDuplicateReceivedDate(earliestReceivedDate(input.firstDay)),
    cutoff,
  ];
}
