import { EXPORT_INPUTS_TABLE_NAME } from '../../../contract/export-inputs.ts';
import { COMPANY_FACTS_TABLE_NAME } from '../../../contract/facts.ts';
import {
  addDays,
  EVENTS_TABLE_NAME,
  earliestDuplicateReceivedDate,
  earliestReceivedDate,
  LAKE_FIRST_DATE,
  lakeShard,
} from '../../../contract/lake.ts';
import type { QueryParam } from '../../shared/query-param.ts';
import type { FactsSnapshotSpan } from '../facts/manifest.ts';
import { DIALECTS, dedupCopyNo, type SqlDialect, type SqlDialectName } from './dialect.ts';
import { assertJobId, assertRollupDates, sqlTimestampText } from './inputs.ts';
import {
  COMPANY_EXPORT_HEADER,
  FREQUENCY_LABELS,
  type RollupDate,
  SATISFACTION_LABELS,
  STARS_LABELS,
} from './types.ts';

/**
 * The company feature-adoption rollup (DESIGN "Company feature-adoption rollup") as
 * one SQL text per dialect. The text holds no value: the job, the app and the date
 * bounds are `?` parameters, all in WHERE clauses (the only place Athena takes
 * them), and the catalog and output dates are rows of `export_inputs`.
 *
 * Shape. Trino inlines a WITH query wherever it is referenced (trinodb/trino#10),
 * so a CTE over the lake that two others read would be scanned twice, and a few
 * levels of that multiply. The query is therefore four linear chains, each reading
 * the lake once and each CTE in them read by exactly one other; only the small
 * relations made from `export_inputs` are read in several places. Fan-outs are
 * joins with those small relations, look-ups are window functions.
 *
 * - `main_*`: records carrying a companyId → facts per company × feature × UTC day
 *   (active, first/last use, feedback) and per company × day (first/last seen).
 * - `user_*`: company calls carrying a userId and track/feedback records without a
 *   companyId → the latter's facts attributed to the user's company as of each
 *   output date. Users in the same company at every date count once ("steady");
 *   for the others each run of dates in which their company's such users stay the
 *   same gets its own copy (a "version").
 * - `attr_*`: company calls replayed for attribute features → the same facts.
 * - `info_*`: company calls → name and segments as of each date.
 *
 * The facts of the first three chains are merged into one timeline per company ×
 * feature × version; a grid row at day E of every date gets, from window functions,
 * everything DESIGN asks for as of D. "timestamp < D" is evaluated as "UTC day ≤ E":
 * true for every D at midnight, and for the last D because every record at or after
 * it is filtered out first (`assertRollupDates` lets only the last D fall inside a day).
 */

/** The export's row order: Date, Company ID, Feature ID (features are numbered in id order). */
const EXPORT_ORDER = 'date_no, company_id, fidx';

/**
 * How the timelines become grid rows: `dates` accumulates fact by fact and hands each
 * fact's values to the dates it covers; `weeks` does the same over the facts first
 * summed per week ending on an output date (and one summary of the days more than 84
 * before the first date), for dates a week apart; `one-date` aggregates each timeline
 * once, for a job of one date.
 */
export type RollupShape = 'dates' | 'weeks' | 'one-date';

/** Each text the builder makes, built once per dialect and shape. */
const BUILT_SQL = new Map<string, string>();

function builtRollupSql(dialect: SqlDialectName, fromFacts: boolean, shape: RollupShape): string {
  const key = `${dialect}/${fromFacts}/${shape}`;
  let sql = BUILT_SQL.get(key);
  if (!sql) {
    sql = rollupSqlFor(DIALECTS[dialect], fromFacts, shape);
    BUILT_SQL.set(key, sql);
  }
  return sql;
}

/**
 * The rollup's text built for a dialect table as given, the full recompute or the
 * facts-reading text. For tests: DuckDB with `materialized: ''` builds the text in
 * the shape Trino runs (every WITH query inlined, the versioned keys by a window), so
 * that shape runs against the oracle too.
 */
export function rollupSqlFor(D: SqlDialect, fromFacts: boolean, shape: RollupShape = 'dates'): string {
  return buildRollupSql(D, fromFacts ? FACTS_READ : FULL_READ, shape);
}

/** The rollup's SQL text for a dialect; bind `companyRollupParams` to its `?`s, in order. */
export function companyRollupSql(dialect: SqlDialectName): string {
  return builtRollupSql(dialect, false, 'dates');
}

export interface CompanyRollupParamsInput {
  readonly environmentId: string;
  readonly jobId: string;
  readonly windows: readonly RollupDate[];
}

/** How many times the text reads the lake; each read has its own `?`s for the shard, the app and the time range. */
const LAKE_SCANS = 2;

/**
 * The values for the rollup's `?`s, in text order: the job (inputs table), then for
 * each lake scan the app's shard, the app, the `dt` range and the last D. The `dt`
 * range starts at LAKE_FIRST_DATE because First Seen, First Used and adoption look
 * at the whole history; for the same reason `received` is not bounded (a backfill
 * received today may hold the earliest use), so `shard` is what prunes.
 */
export function companyRollupParams(input: CompanyRollupParamsInput): QueryParam[] {
  assertJobId(input.jobId);
  assertRollupDates(input.windows);
  if (input.environmentId === '') throw new RangeError('environmentId must not be empty');
  const last = input.windows[input.windows.length - 1] as RollupDate;
  const scan = [lakeShard(input.environmentId), input.environmentId, LAKE_FIRST_DATE, sqlTimestampText(last.d)];
  return [input.jobId, ...Array.from({ length: LAKE_SCANS }, () => scan).flat()];
}

export interface CompanyRollupFromFactsParamsInput extends CompanyRollupParamsInput {
  /** The facts the job's `facts_span` inputs rows name (`factsSnapshot`); empty: none yet. */
  readonly facts: readonly FactsSnapshotSpan[];
  /** The manifest's watermark (ISO), null without one: what bounds the raw reads by `received`. */
  readonly watermark: string | null;
}

/**
 * The rollup reading the daily facts (docs/rollup.md "Daily facts"): the same
 * computation as `companyRollupSql`, fed per day from the facts of the job's
 * `facts_span` rows where they are current, and from raw events for every other day
 * and every record received after its day's build's cutoff. Bind
 * `companyRollupFromFactsParams`. With no facts it computes what `companyRollupSql` does.
 */
export function companyRollupFromFactsSql(dialect: SqlDialectName): string {
  return builtRollupSql(dialect, true, 'dates');
}

/**
 * `companyRollupFromFactsSql` for jobs whose dates are a week apart (`3m_weekly`,
 * `6m_weekly`): the same chains and the same `?`s (bind `companyRollupFromFactsParams`),
 * but the running values are accumulated over each timeline's weeks instead of its
 * days (docs/rollup.md "Whole weeks"). Exact for any dates (where their spacing does not
 * divide 42 days, its "weeks" are days); the workflow's Choice sends weekly jobs here
 * because only for them it is cheaper.
 */
export function companyRollupWeeklyFromFactsSql(dialect: SqlDialectName): string {
  return builtRollupSql(dialect, true, 'weeks');
}

/**
 * `companyRollupFromFactsSql` for a job of one output date (`today`, the automatic
 * exports' aggregation): the same chains and the same `?`s (bind
 * `companyRollupFromFactsParams`), but each timeline's values as of that date are one
 * aggregation over its facts instead of values accumulated fact by fact and handed to
 * the dates each fact covers (docs/rollup.md "One date"). Refuses nothing: a job of
 * several dates must not be bound to it (the workflow's Choice picks the text).
 */
export function companyRollupOneDateFromFactsSql(dialect: SqlDialectName): string {
  return builtRollupSql(dialect, true, 'one-date');
}

/** The facts-reading text of a shape: `companyRollupFromFactsSql`, or its weekly or one-date shape. */
export function companyRollupFromFactsSqlOfShape(dialect: SqlDialectName, shape: RollupShape): string {
  return builtRollupSql(dialect, true, shape);
}

/**
 * The values for the facts-reading text's `?`s, in text order
 * (COMPANY_ROLLUP_FROM_FACTS_PARAM_NAMES). `raw_from` is the first `received`
 * partition a raw record outside the facts can be in: the watermark's date (every
 * record received before it is in the facts of its day), or earlier when a day
 * before the last D has no facts (its records may have been received any time from
 * the day before it on). `duplicates_from` is EVENT_ID_DEDUP_DAYS before it: a copy
 * received earlier cannot make a raw record a duplicate.
 */
export function companyRollupFromFactsParams(input: CompanyRollupFromFactsParamsInput): QueryParam[] {
  assertJobId(input.jobId);
  assertRollupDates(input.windows);
  if (input.environmentId === '') throw new RangeError('environmentId must not be empty');
  const last = input.windows[input.windows.length - 1] as RollupDate;
  const shard = lakeShard(input.environmentId);
  const app = input.environmentId;
  const rawFrom = rawReadsFrom(input.facts, input.watermark);
  const dupFrom = earliestDuplicateReceivedDate(rawFrom);
  const scan = [
    shard,
    app,
    rawFrom,
    shard,
    app,
    dupFrom,
    shard,
    app,
    rawFrom,
    sqlTimestampText(last.d),
    shard,
    app,
    shard,
    app,
  ];
  return [input.jobId, ...Array.from({ length: LAKE_SCANS }, () => scan).flat()];
}

/** Names of the facts-reading text's `?`s in text order. */
export const COMPANY_ROLLUP_FROM_FACTS_PARAM_NAMES = [
  'job_id',
  ...Array.from({ length: LAKE_SCANS }, () => [
    'shard',
    'app_id',
    'raw_from',
    'shard',
    'app_id',
    'duplicates_from',
    'shard',
    'app_id',
    'raw_from',
    'last_d',
    'shard',
    'app_id',
    'shard',
    'app_id',
  ]).flat(),
] as const;

/**
 * The earliest `received` date of a record the job's facts do not hold: the
 * watermark's date (every record received before it is in its day's facts, if the
 * snapshot has that day), or the earliest possible receipt of the first day the
 * snapshot lacks (records of a day without facts, or after the snapshot's last day,
 * may have been received any time from the day before it on), whichever is earlier.
 * Records after the last D still matter there: an earlier-received copy decides.
 */
export function rawReadsFrom(facts: readonly FactsSnapshotSpan[], watermark: string | null): string {
  if (watermark === null) return LAKE_FIRST_DATE;
  let next = LAKE_FIRST_DATE;
  for (const span of [...facts].sort((a, b) => (a.from < b.from ? -1 : 1))) {
    if (span.from > next) break;
    if (span.to >= next) next = addDays(span.to, 1);
  }
  const fromWatermark = watermark.slice(0, 10);
  const fromDay = earliestReceivedDate(next);
  return fromDay < fromWatermark ? fromDay : fromWatermark;
}

/** Names of the `?`s in text order, for documentation and tests. */
export const COMPANY_ROLLUP_PARAM_NAMES = [
  'job_id',
  ...Array.from({ length: LAKE_SCANS }, () => ['shard', 'app_id', 'dt_from', 'last_d']).flat(),
] as const;

/** A comma-separated column list (`a, b`) with each column taken from `alias` (`x.a, x.b`). */
const qualified = (columns: string, alias: string) =>
  columns
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
/** Only for the constant labels defined in this module (never for values). */
const labelLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;
const flag = (condition: string) => `CASE WHEN ${condition} THEN 1 ELSE 0 END`;

/**
 * A timeline's version names the run of dates it serves, first date lo to last hi (date
 * numbers below MAX_ROLLUP_DATES): lo + VERSION_BASE × hi. −1 is the shared timeline.
 */
const VERSION_BASE = 64;
const runVersion = (lo: string, hi: string) => `(${lo}) + ${VERSION_BASE} * (${hi})`;
const versionFirstDate = (ver: string) => `(${ver}) % ${VERSION_BASE}`;
const versionLastDate = (D: SqlDialect, ver: string) => D.intDiv(ver, String(VERSION_BASE));

/** A BIGINT with bit `n` set (n ≤ 61). */
const bitAt = (D: SqlDialect, n: string) => D.shiftLeft('CAST(1 AS BIGINT)', n);

/**
 * The last date of the run that starts at date `lo`, given a company's run starts as bits
 * (`runs`): the date before the next run's first, or the last date. The next start is the
 * lowest bit of the starts above lo; the bits below the lowest set bit of x are those of
 * (x AND −x) − 1.
 */
function runLastDate(D: SqlDialect, runs: string, lo: string, dateCount: string): string {
  const later = D.shiftRight(runs, `${lo} + 1`);
  return `CASE WHEN ${later} = 0 THEN ${dateCount} - 1 ELSE ${lo} + ${D.bitCount(`${D.bitAnd(later, `-${later}`)} - 1`)} END`;
}

function labelCase(expression: string, labels: Readonly<Record<number, string>>): string {
  const branches = Object.entries(labels)
    .map(([value, label]) => `WHEN ${Number(value)} THEN ${labelLiteral(label)}`)
    .join(' ');
  return `CASE ${expression} ${branches} END`;
}

/** JSON values held as compact JSON text, and how the filters compare them. */
function jsonExpressions(D: SqlDialect) {
  /** The JSON type, from the first character of compact JSON text. */
  const type = (json: string) =>
    `CASE substr(${json}, 1, 1) WHEN '"' THEN 'string' WHEN '[' THEN 'array' WHEN '{' THEN 'object' ` +
    `WHEN 't' THEN 'boolean' WHEN 'f' THEN 'boolean' WHEN 'n' THEN 'null' ELSE 'number' END`;
  const text = (json: string) => `CASE WHEN substr(${json}, 1, 1) = '"' THEN ${D.jsonStringValue(json)} END`;
  const number = (json: string) => `TRY_CAST(${json} AS DOUBLE)`;
  /**
   * A text equal for two values exactly when they are equal as JSON in the sense the
   * filters use: strings by their text, numbers as doubles (`+ 0.0` turns −0 into 0),
   * everything else by compact JSON text.
   */
  const key = (json: string) =>
    `CASE substr(${json}, 1, 1) WHEN '"' THEN 's:' || ${D.jsonStringValue(json)} ` +
    `WHEN '[' THEN 'j:' || ${json} WHEN '{' THEN 'j:' || ${json} WHEN 't' THEN 'j:' || ${json} ` +
    `WHEN 'f' THEN 'j:' || ${json} WHEN 'n' THEN 'j:' || ${json} ` +
    `ELSE 'n:' || CAST(${number(json)} + 0.0 AS VARCHAR) END`;
  /**
   * Whether filter `f` (a row with operator, f_type, f_key, f_str, f_num, in_keys)
   * holds for an attribute whose current value is `current` (NULL: missing). The
   * operators are DESIGN's, as lambdas/core/shared/filters.ts `matches` defines them; `any`
   * is internal (it holds always) and never comes from a catalog.
   */
  const holds = (current: string, f: string) => `CASE
      WHEN ${f}.operator = 'any' THEN true
      WHEN ${current} IS NULL THEN ${f}.operator IN ('neq', 'is_not_set')
      WHEN ${f}.operator = 'eq' THEN ${key(current)} = ${f}.f_key
      WHEN ${f}.operator = 'neq' THEN ${key(current)} <> ${f}.f_key
      WHEN ${f}.operator IN ('gt', 'gte', 'lt', 'lte') THEN ${f}.f_type = 'number' AND ${type(current)} = 'number'
        AND CASE ${f}.operator
          WHEN 'gt' THEN ${number(current)} > ${f}.f_num
          WHEN 'gte' THEN ${number(current)} >= ${f}.f_num
          WHEN 'lt' THEN ${number(current)} < ${f}.f_num
          ELSE ${number(current)} <= ${f}.f_num END
      WHEN ${f}.operator = 'contains' THEN CASE ${type(current)}
        WHEN 'string' THEN ${f}.f_type = 'string' AND strpos(${text(current)}, ${f}.f_str) > 0
        WHEN 'array' THEN coalesce(${D.arrayContains(D.arrayElementKeys(current, key), `${f}.f_key`)}, false)
        ELSE false END
      WHEN ${f}.operator = 'in' THEN coalesce(${D.arrayContains(`${f}.in_keys`, key(current))}, false)
      WHEN ${f}.operator = 'is_set' THEN ${type(current)} <> 'null'
      WHEN ${f}.operator = 'is_not_set' THEN ${type(current)} = 'null'
      ELSE false
    END`;
  return { type, text, key, holds };
}

/**
 * The per-day fact columns every chain produces, in union order. `first_at` and
 * `last_at` are a feature's first and last use on a feature's row (fidx ≥ 0), and the
 * company's first record and last active record on the company's own row (−1): one
 * pair of columns for both, since a row is only ever one of the two.
 */
const FACT_COLUMNS = 'company_id, fidx, ver, day, act, first_at, last_at, feedbacks, score_sum, scores';

/** The `event_name`s (actions) of a `feature_flag` row that can be a use: a check of the flag's value. */
const FLAG_USE_ACTIONS = "('check', 'check-is-enabled')";

/**
 * The fact aggregates over rows fanned out by role (`fidx`): ≥ 0 a feature (a use
 * for a track or a counting flag check, a feedback for a feedback, its withdrawal
 * for a retraction), −1 the company itself (seen). A row's instants are `ts` (its
 * first), `last_ts` and `active_ts` (its last, and its last active: NULL if none). A
 * retraction (a feedback version replaced by a later one with the same feedbackId,
 * dated at the later one's timestamp) subtracts what its version added, so running
 * sums give the as-of answer.
 */
const FACT_AGGREGATES = `
    max(CASE WHEN fidx >= 0 AND event_type IN ('track', 'feature_flag') THEN 1 ELSE 0 END) AS act,
    min(CASE WHEN fidx = -1 OR (fidx >= 0 AND event_type IN ('track', 'feature_flag')) THEN ts END) AS first_at,
    max(CASE WHEN fidx = -1 THEN active_ts WHEN fidx >= 0 AND event_type IN ('track', 'feature_flag') THEN last_ts END) AS last_at,
    CAST(coalesce(sum(CASE WHEN fidx < 0 THEN 0 WHEN event_type = 'feedback' THEN 1
      WHEN event_type = 'retraction' THEN -1 END), 0) AS BIGINT) AS feedbacks,
    CAST(coalesce(sum(CASE WHEN fidx < 0 THEN 0 WHEN event_type = 'feedback' THEN score
      WHEN event_type = 'retraction' THEN -score END), 0) AS BIGINT) AS score_sum,
    CAST(coalesce(sum(CASE WHEN fidx < 0 OR score IS NULL THEN 0 WHEN event_type = 'feedback' THEN 1
      WHEN event_type = 'retraction' THEN -1 END), 0) AS BIGINT) AS scores`;

/**
 * The columns every lake read hands its chain, in this order. A row is one record
 * (`ts` = `last_ts`, `active_ts` = `ts` unless `context.active` is false) or one of the
 * facts' use rows, which stands for all its key's records of a day by their first,
 * last and last active instants.
 */
const SCAN_COLUMNS =
  'event_id, event_type, event_name, user_id, company_id, feature_id, score, attributes, active_ts, ts, last_ts, received_at, copy_no, feedback_key, flag_key';
/** The columns of a chain's rows once feedback versions are dated (`versioned`). */
const DATED_COLUMNS = `${SCAN_COLUMNS}, replaced_at`;

/**
 * What a lake row gives its chain: `attributes` only for company calls (so only they
 * carry that wide column on), a feedback's `feedbackId` (a non-empty JSON string),
 * and a feature-flag event's key when the event can be a use (a check that enabled
 * the flag). `e` is the events table's alias.
 */
const scanDerived = (D: SqlDialect, e: string) => `${e}.event_id, ${e}.event_type, ${e}.event_name, ${e}.user_id,
      ${e}.company_id, ${e}.feature_id, ${e}.score,
      CASE WHEN ${e}.event_type = 'identify_company' THEN ${e}.attributes END AS attributes,
      CASE WHEN coalesce(${e}.context_active, true) THEN ${e}."timestamp" END AS active_ts,
      ${e}."timestamp" AS ts, ${e}."timestamp" AS last_ts, ${e}.received_at,
      CASE WHEN ${e}.event_type = 'feedback' THEN ${feedbackIdOf(D, `${e}.attributes`)} END AS feedback_key,
      CASE WHEN ${e}.event_type = 'feature_flag' AND ${e}.event_name IN ${FLAG_USE_ACTIONS}
        AND ${D.objectValue(`${e}.attributes`, "'evalResult'")} = 'true' THEN ${e}.feature_id END AS flag_key`;

/**
 * One read of the lake (the full recompute): the app's records with their copy number
 * over the whole lake (`dedupCopyNo`), then those before the last D. Copy 1 counts: no
 * other copy of its event_id was received in the days just before it. A copy received
 * later can never displace one already counted, which is what lets the daily facts
 * count a day once and for all (docs/rollup.md, "Duplicates").
 */
const lakeScan = (D: SqlDialect, condition: string) => `
  SELECT ${SCAN_COLUMNS} FROM (
    SELECT ${scanDerived(D, 'e')},
      ${dedupCopyNo('e.', 'e.received_at, e."timestamp"')} AS copy_no
    FROM ${EVENTS_TABLE_NAME} e
    WHERE e.shard = ? AND e.app_id = ? AND e.dt >= ? AND (${condition})
  ) scanned
  WHERE ts < CAST(? AS TIMESTAMP)`;

/**
 * One read of the lake by the facts-reading text: the records the daily facts do not
 * hold (of days without current facts, or received at or after their day's build's
 * cutoff: `facts_days`), pruned to the `received` partitions where they can be, with
 * the facts' own rows in their place. De-duplication is over every copy: a raw copy
 * counts only if no copy was received in the EVENT_ID_DEDUP_DAYS before it, which for
 * copies the facts hold is asked of the lake directly (their event ids against the
 * raw ones': one narrow read of the `received` partitions from `duplicates_from`).
 * The facts' rows are already de-duplicated; a use row stands for its records as one
 * row by the instants the chains' min/max aggregates need of them (first, last, last
 * active: `ts`, `last_ts`, `active_ts`).
 *
 * Unlike `lakeScan` its rows come dated (`versioned`): the feedback versions' window
 * runs over the raw records and the facts' `record` rows only, and the facts' `use`
 * rows (tracks and flag checks, nearly all rows, never feedback) pass by it with no
 * `replaced_at`. So the facts are read twice, for nearly disjoint columns (a
 * record's own, a use's key and instants; both read `kind`, `dt`, `build_id`,
 * `event_type` and the subject ids): on Athena the two reads scan those narrow
 * columns twice and the rest once.
 *
 * It defines two CTEs: `<name>_records` (the raw records and the facts' `record` rows,
 * materialized on DuckDB) and `<name>` (those dated, and the `use` rows). Inline,
 * DuckDB 1.5 folds the two reads of the facts into one scan and sends every `use` row
 * through the window after all (8.6M rows and 14 s of a 6m_weekly export on the
 * benchmark lake, instead of 180k rows and 0.2 s).
 */
const factsLakeScan = (D: SqlDialect, condition: string, name: string, materialized: string) => {
  const rawScope = (e: string, f: string) => `${f}.day_no IS NULL OR ${e}.received_at >= ${f}.cutoff`;
  const factsDay = (e: string, f: string) => `facts_days ${f} ON ${f}.day_no = ${D.dayNumber(`${e}.dt`)}`;
  const factsOfSnapshot = (kind: string) => `${COMPANY_FACTS_TABLE_NAME} x
    JOIN facts_days f ON f.day_no = ${D.dayNumber('x.dt')} AND f.build_id = x.build_id
    WHERE x.shard = ? AND x.app_id = ? AND x.kind = '${kind}'`;
  const records = `${name}_records AS ${D.materialized}(
  SELECT ${SCAN_COLUMNS} FROM (
    SELECT ${SCAN_COLUMNS.replace('copy_no, ', '')}, src, ${dedupCopyNo('', 'received_at, ts, src DESC')} AS copy_no
    FROM (
      SELECT ${scanDerived(D, 'e')}, 0 AS src
      FROM ${EVENTS_TABLE_NAME} e LEFT JOIN ${factsDay('e', 'f')}
      WHERE e.shard = ? AND e.app_id = ? AND e.received >= ? AND (${rawScope('e', 'f')})
      UNION ALL
      -- The copies the facts hold of the raw records' event ids: they only decide which copy counts.
      SELECT e.event_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
        CAST(NULL AS VARCHAR), CAST(NULL AS INTEGER), CAST(NULL AS VARCHAR), CAST(NULL AS TIMESTAMP), e."timestamp",
        e."timestamp", e.received_at,
        CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), 1
      FROM ${EVENTS_TABLE_NAME} e JOIN ${factsDay('e', 'f')}
      WHERE e.shard = ? AND e.app_id = ? AND e.received >= ? AND e.received_at < f.cutoff AND e.event_id IN (
        SELECT l.event_id FROM ${EVENTS_TABLE_NAME} l LEFT JOIN ${factsDay('l', 'lf')}
        WHERE l.shard = ? AND l.app_id = ? AND l.received >= ? AND (${rawScope('l', 'lf')})
      )
    ) copies
  ) kept
  WHERE src = 0 AND ts < CAST(? AS TIMESTAMP) AND (${condition})
  UNION ALL
  SELECT ${SCAN_COLUMNS} FROM (
    SELECT x.event_id, x.event_type, CAST(NULL AS VARCHAR) AS event_name, x.user_id, x.company_id, x.feature_id, x.score,
      CASE WHEN x.event_type = 'identify_company' THEN x.attributes END AS attributes,
      CASE WHEN coalesce(x.context_active, true) THEN x."timestamp" END AS active_ts, x."timestamp" AS ts,
      x."timestamp" AS last_ts, x.received_at, CAST(1 AS BIGINT) AS copy_no,
      CASE WHEN x.event_type = 'feedback' THEN ${feedbackIdOf(D, 'x.attributes')} END AS feedback_key,
      CAST(NULL AS VARCHAR) AS flag_key
    FROM ${factsOfSnapshot('record')}
  ) held
  WHERE ${condition}
)`;
  return `${records},
${name} AS ${materialized}(${versioned(`${name}_records`)}
  UNION ALL
  SELECT ${DATED_COLUMNS} FROM (
    SELECT CAST(NULL AS VARCHAR) AS event_id, x.event_type,
      CASE WHEN x.event_type = 'track' THEN x.use_key END AS event_name,
      x.user_id, x.company_id, CAST(NULL AS VARCHAR) AS feature_id, CAST(NULL AS INTEGER) AS score,
      CAST(NULL AS VARCHAR) AS attributes, x.last_active_ts AS active_ts, x.first_ts AS ts, x.last_ts,
      CAST(NULL AS TIMESTAMP) AS received_at, CAST(1 AS BIGINT) AS copy_no, CAST(NULL AS VARCHAR) AS feedback_key,
      CASE WHEN x.event_type = 'feature_flag' THEN x.use_key END AS flag_key,
      CAST(NULL AS TIMESTAMP) AS replaced_at
    FROM ${factsOfSnapshot('use')}
  ) held_uses
  WHERE ${condition}
)`;
};

/** A feedback's `feedbackId`: the attribute's text when it is a non-empty JSON string, else NULL. */
function feedbackIdOf(D: SqlDialect, attributes: string): string {
  const value = D.objectValue(attributes, "'feedbackId'");
  return `nullif(CASE WHEN substr(${value}, 1, 1) = '"' THEN ${D.jsonStringValue(value)} END, '')`;
}

/**
 * A chain's kept records (copy 1) with, for a feedback version with a feedbackId,
 * the timestamp of the next version (the same feedbackId, in timestamp, received_at,
 * event_id order): from then on it no longer counts. The chain's scan holds every
 * feedback of the app, so both chains see every version.
 */
const versioned = (source: string) => `
  SELECT ${qualified(SCAN_COLUMNS, 'r')},
    CASE WHEN r.feedback_key IS NOT NULL AND r.copy_no = 1 THEN lead(r.ts) OVER (
      -- Records without a feedbackId only need small partitions (their instant's), not a sort by a long key.
      PARTITION BY r.feedback_key, r.copy_no, CASE WHEN r.feedback_key IS NULL THEN r.ts END
      ${CALL_ORDER}
    ) END AS replaced_at
  FROM ${source} r`;

/**
 * Roles of a record: `first` (−1 seen, unless told otherwise), the feature it uses
 * (a track by its name, a counting flag check by its key), the feature it is feedback
 * for, and −3 − that feature for the retraction of a replaced feedback version. A
 * flag check that is not a use of a feature, and a prompt event, have no role at all.
 *
 * A FROM item named `r`: each record of `source` once per role number, with its role
 * for that number as `role_fidx` (NULL: none, to be filtered out). The role numbers are
 * a constant table, not an UNNEST of an array of the record's roles: an UNNEST of values
 * of the row is a lateral join, which DuckDB runs as a delim join (the rows collected,
 * their distinct role values joined back): 14 of the 69 CPU-s of a `today` export on the
 * benchmark lake, against ~2 for the cross join with five rows.
 */
const roleFanOut = (source: string, first: string) => `(
    SELECT r.*, CASE role_no.i
      WHEN 0 THEN CASE WHEN r.event_type NOT IN ('feature_flag', 'prompt_event') OR ff.fidx IS NOT NULL THEN ${first} END
      WHEN 1 THEN fe.fidx WHEN 2 THEN fb.fidx WHEN 3 THEN ff.fidx
      ELSE CASE WHEN r.replaced_at IS NOT NULL THEN -3 - fb.fidx END END AS role_fidx
    FROM ${source} r
    LEFT JOIN feature_events fe ON fe.event_name = CASE WHEN r.event_type = 'track' THEN r.event_name END
    LEFT JOIN features fb ON fb.feature_id = CASE WHEN r.event_type = 'feedback' THEN r.feature_id END
    LEFT JOIN features ff ON ff.flag_checks = 1 AND ff.feature_id = r.flag_key
    CROSS JOIN (VALUES (0), (1), (2), (3), (4)) AS role_no (i)
  ) r`;

/** How many dates have E ≤ x (dates are first_e, first_e + step, …: an arithmetic progression). */
const datesUpTo = (D: SqlDialect, x: string) =>
  `CASE WHEN ${x} < a.first_e THEN 0 ELSE least(a.date_count, ${D.intDiv(`${x} - a.first_e`, 'a.step')} + 1) END`;

/**
 * A role row's own event type, instant, day and feature: a retraction's are those of
 * its version's replacement. The company's own row (−1, seen) only ever needs the
 * earliest and latest instants up to each date, so its day is the E of the first date
 * that sees it (`a`, the date axis, in scope): one fact per company and date instead
 * of one per day it was seen. Days after the last E keep their own (no date sees them).
 */
const roleColumns = (D: SqlDialect) => {
  const role = 'r.role_fidx';
  const ts = `CASE WHEN ${role} <= -3 THEN r.replaced_at ELSE r.ts END`;
  const day = D.dayNumber(ts);
  const seenBy = datesUpTo(D, `${day} - 1`);
  return `CASE WHEN ${role} <= -3 THEN 'retraction' ELSE r.event_type END AS event_type, ${ts} AS ts,
    CASE WHEN ${role} = -1 AND ${seenBy} < a.date_count THEN a.first_e + a.step * ${seenBy} ELSE ${day} END AS day,
    CASE WHEN ${role} <= -3 THEN -3 - ${role} ELSE ${role} END AS fidx`;
};

/** The order of a company's calls: the later of two calls on the same instant is the one received later. */
const CALL_ORDER = 'ORDER BY ts, received_at, event_id';

/**
 * How a chain reads the lake: `lakeScan` (the full recompute), whose rows the chain
 * dates itself (`versioned`), or `factsLakeScan`, whose rows come dated.
 */
interface LakeRead {
  /** The CTE(s) defining relation `name`: the rows of the lake that meet `condition`. */
  readonly rows: (D: SqlDialect, condition: string, name: string, materialized: string) => string;
  readonly dated: boolean;
}
const FULL_READ: LakeRead = {
  rows: (D, condition, name, materialized) => `${name} AS ${materialized}(${lakeScan(D, condition)}
)`,
  dated: false,
};
const FACTS_READ: LakeRead = { rows: factsLakeScan, dated: true };
/** A chain's rows with their feedback versions dated. */
const datedRows = (read: LakeRead, rows: string) =>
  read.dated ? `SELECT ${DATED_COLUMNS} FROM ${rows}` : versioned(rows);

function buildRollupSql(D: SqlDialect, read: LakeRead, shape: RollupShape): string {
  const ctes = [
    jobInputRelations(D, read === FACTS_READ),
    mainChain(D, read),
    sideRows(D, read),
    userChain(D, read),
    attributeFeatureChain(D),
    companyInfoChain(D),
    mergedFacts(D),
    markedFacts(),
    ...(shape === 'one-date'
      ? [oneDateRows(D)]
      : [...(shape === 'weeks' ? [weeklyFacts(D)] : []), accumulatedFacts(D, shape === 'weeks'), spawnedRows(D)]),
    seenLent(D),
    scoredRows(D),
  ];
  return `WITH\n${ctes.join(',\n')}\n${exportSelect(D)}`;
}

/**
 * The job's inputs (one `export_inputs` read) shaped into the small relations the
 * chains join with: dates, features and their events, segments and filters.
 */
function jobInputRelations(D: SqlDialect, withFacts: boolean): string {
  const J = jsonExpressions(D);
  const days = D.dayRange(D.dayNumber('s.span_from'), D.dayNumber('s.span_to'), 'r');
  const factsDays = withFacts
    ? `
facts_days AS (
  -- The days whose facts the job reads: their build, and the cutoff before which it holds their records.
  SELECT ${days.column} AS day_no, s.build_id, CAST(s.cutoff AS TIMESTAMP) AS cutoff
  FROM (SELECT span_from, span_to, build_id, cutoff FROM job_inputs WHERE kind = 'facts_span') s ${days.from}
),`
    : '';
  return `job_inputs AS (
  SELECT kind, seq, rollup_date, e_day, feature_id, feature_name, event_name, flag_checks,
    adoption_min_days, adoption_window_days, retention_min_days, retention_window_days,
    segment_id, segment_name, owner, filter_no, attribute, operator, value_type, value_text, value_json${withFacts ? ', span_from, span_to, build_id, cutoff' : ''}
  FROM ${EXPORT_INPUTS_TABLE_NAME}
  WHERE job_id = ?
),${factsDays}
rollup_dates AS (
  SELECT CAST(seq AS BIGINT) AS date_no, rollup_date, CAST(e_day AS BIGINT) AS e_day, 1 AS fan_one
  FROM job_inputs WHERE kind = 'date'
),
date_axis AS (
  SELECT count(*) AS date_count, min(e_day) AS first_e, max(e_day) AS last_e,
    CASE WHEN count(*) > 1 THEN ${D.intDiv('max(e_day) - min(e_day)', 'count(*) - 1')} ELSE 1 END AS step
  FROM rollup_dates
),
features AS (
  SELECT CAST(seq AS BIGINT) AS fidx, feature_id, feature_name, coalesce(flag_checks, 0) AS flag_checks,
    adoption_min_days AS adopt_k, adoption_window_days AS adopt_w,
    retention_min_days AS retain_k, retention_window_days AS retain_w, 1 AS fan_one
  FROM job_inputs WHERE kind = 'feature'
),
feature_events AS (
  SELECT DISTINCT CAST(seq AS BIGINT) AS fidx, event_name FROM job_inputs WHERE kind = 'feature_event'
),
segments AS (
  SELECT CAST(seq AS BIGINT) AS sidx, segment_id, segment_name FROM job_inputs WHERE kind = 'segment'
),
filter_elements AS (
  SELECT owner, seq, filter_no, array_agg(${J.key(D.normalizeJson('value_json'))}) AS in_keys
  FROM job_inputs WHERE kind = 'filter_value'
  GROUP BY owner, seq, filter_no
),
filters AS (
  SELECT i.owner, CAST(i.seq AS BIGINT) AS seq, i.filter_no, i.attribute, i.operator, i.value_type AS f_type,
    ${J.key(D.normalizeJson('i.value_json'))} AS f_key,
    CASE WHEN i.value_type = 'string' THEN i.value_text END AS f_str,
    CASE WHEN i.value_type = 'number' THEN TRY_CAST(i.value_text AS DOUBLE) END AS f_num,
    e.in_keys
  FROM job_inputs i
  LEFT JOIN filter_elements e ON e.owner = i.owner AND e.seq = i.seq AND e.filter_no = i.filter_no
  WHERE i.kind = 'filter'
),
segment_filters AS (
  SELECT seq AS sidx, attribute, operator, f_type, f_key, f_str, f_num, in_keys FROM filters WHERE owner = 'segment'
  UNION ALL
  -- Every segment, and a pseudo-segment -1 carrying the name, holds a filter on "name"
  -- that always holds: so each has a row at every date a company has attributes.
  SELECT sidx, 'name', 'any', NULL, NULL, NULL, NULL, NULL FROM segments
  UNION ALL
  SELECT -1, 'name', 'any', NULL, NULL, NULL, NULL, NULL
),
info_keys AS (
  SELECT DISTINCT attribute AS attr_key FROM segment_filters
),
empty_segments AS (
  -- The segments of a company without attributes (yet): those whose filters all hold on a missing attribute.
  SELECT ${D.orderedCommaJoin('s.segment_name', 's.sidx', 'x.sidx IS NULL')} AS segment_names,
    ${D.orderedCommaJoin('s.segment_id', 's.sidx', 'x.sidx IS NULL')} AS segment_ids
  FROM segments s
  LEFT JOIN (
    SELECT DISTINCT seq AS sidx FROM filters WHERE owner = 'segment' AND operator NOT IN ('neq', 'is_not_set')
  ) x ON x.sidx = s.sidx
),
copy_plan AS (
  -- Class 0 keeps a fact; class 1 copies it into the version of every run of its
  -- company's dates (each date may start one) that can see it.
  SELECT 0 AS fan_class, 'keep' AS role, CAST(NULL AS BIGINT) AS date_no
  UNION ALL
  SELECT 1, 'copy', date_no FROM rollup_dates
)`;
}

/** `main_*`: records carrying a companyId → facts per company × feature × day and per company × day. */
function mainChain(D: SqlDialect, read: LakeRead): string {
  return `${read.rows(D, "company_id IS NOT NULL OR event_type = 'feedback'", 'main_rows', '')},
main_versions AS (${datedRows(read, 'main_rows')}
),
main_roles AS (
  SELECT r.company_id, r.active_ts, r.last_ts, r.score, ${roleColumns(D)}
  FROM ${roleFanOut('main_versions', 'CAST(-1 AS BIGINT)')} CROSS JOIN date_axis a
  WHERE r.copy_no = 1 AND r.company_id IS NOT NULL AND r.role_fidx IS NOT NULL
),
main_days AS (
  -- Per company × role × day; and, the second grouping set, one row per company.
  SELECT company_id, fidx, day, ${FACT_AGGREGATES}
  FROM main_roles
  GROUP BY GROUPING SETS ((company_id, fidx, day), (company_id))
),
main_facts AS (
  -- Each company's own row becomes an empty fact for every feature, so that every
  -- company × feature has a timeline (and a row in the export) from here on.
  SELECT m.company_id, coalesce(f.fidx, m.fidx) AS fidx, CAST(-1 AS BIGINT) AS ver, coalesce(m.day, a.first_e) AS day,
    CASE WHEN f.fidx IS NULL THEN m.act ELSE 0 END AS act,
    CASE WHEN f.fidx IS NULL THEN m.first_at END AS first_at,
    CASE WHEN f.fidx IS NULL THEN m.last_at END AS last_at,
    CASE WHEN f.fidx IS NULL THEN m.feedbacks ELSE 0 END AS feedbacks,
    CASE WHEN f.fidx IS NULL THEN m.score_sum ELSE 0 END AS score_sum,
    CASE WHEN f.fidx IS NULL THEN m.scores ELSE 0 END AS scores
  FROM main_days m
  CROSS JOIN date_axis a
  LEFT JOIN features f ON f.fan_one = CASE WHEN m.day IS NULL THEN 1 END
  WHERE m.day IS NOT NULL OR f.fidx IS NOT NULL
)`;
}

/**
 * The second lake read: company calls and records without a companyId, read by the
 * user, attribute and info chains (DuckDB materializes it; Trino inlines it into each).
 */
function sideRows(D: SqlDialect, read: LakeRead): string {
  return read.rows(
    D,
    `(event_type = 'identify_company' AND company_id IS NOT NULL)
      OR (company_id IS NULL AND user_id IS NOT NULL AND event_type IN ('track', 'feedback', 'feature_flag'))
      OR event_type = 'feedback'`,
    'side_rows',
    D.materialized,
  );
}

/** `user_*`: records without a companyId attributed to their user's company as of each date. */
function userChain(D: SqlDialect, read: LakeRead): string {
  const memberFrom = datesUpTo(D, 's.day - 1');
  const memberUntil = `CASE WHEN s.next_member_day IS NULL THEN a.date_count - 1 ELSE ${datesUpTo(D, 's.next_member_day - 1')} - 1 END`;
  const steady = 'coalesce(c.member_from <= c.needed_from AND c.cover_min = c.cover_max, false)';
  return `user_versions AS (${datedRows(read, 'side_rows')}
),
user_roles AS (
  -- Role -2: a company call carrying the user, which moves the user into that company.
  -- (Feedback carrying a companyId is here only for its versions: the main chain counts it.)
  SELECT r.user_id, r.received_at, r.active_ts, r.last_ts, r.score, ${roleColumns(D)},
    CASE WHEN r.role_fidx = -2 THEN r.event_id END AS member_event,
    CASE WHEN r.role_fidx = -2 THEN r.company_id END AS member_company
  FROM ${roleFanOut('user_versions', `CASE WHEN r.event_type = 'identify_company' THEN CAST(-2 AS BIGINT) ELSE CAST(-1 AS BIGINT) END`)}
    CROSS JOIN date_axis a
  WHERE r.copy_no = 1 AND r.user_id IS NOT NULL AND r.role_fidx IS NOT NULL
    AND (r.event_type = 'identify_company' OR r.company_id IS NULL)
),
user_facts AS (
  SELECT user_id, fidx, day, member_event, max(member_company) AS member_company,
    max(CASE WHEN fidx = -2 THEN ts END) AS member_ts, max(CASE WHEN fidx = -2 THEN received_at END) AS member_received,
    ${FACT_AGGREGATES}
  FROM user_roles
  GROUP BY user_id, fidx, day, member_event
),
user_spans AS (
  -- A company call is the user's latest from its day until the day of their next one.
  SELECT user_id, fidx, day, member_company, act, first_at, last_at, feedbacks, score_sum, scores,
    min(CASE WHEN fidx = -2 THEN day END) OVER (
      PARTITION BY user_id ORDER BY day, member_ts, member_received, member_event
      ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS next_member_day,
    min(CASE WHEN fidx = -2 THEN day END) OVER (PARTITION BY user_id) AS first_member_day,
    min(CASE WHEN fidx <> -2 THEN day END) OVER (PARTITION BY user_id) AS first_fact_day
  FROM user_facts
),
user_cover AS (
  -- The dates (lo..hi) at which each call is the user's latest. A user is steady when
  -- one company is theirs at every date from the first that can see any of their
  -- records (the first whose E is on or after their first record's day): their
  -- records then count once, for that company, at every date.
  SELECT s.user_id, s.fidx, s.day, s.member_company, s.act, s.first_at, s.last_at, s.feedbacks, s.score_sum,
    s.scores, s.first_member_day, a.date_count,
    ${datesUpTo(D, 's.first_member_day - 1')} AS member_from,
    ${datesUpTo(D, 's.first_fact_day - 1')} AS needed_from,
    ${datesUpTo(D, 's.day - 1')} AS fact_date,
    ${memberFrom} AS cover_lo,
    ${memberUntil} AS cover_hi,
    min(CASE WHEN s.fidx = -2 AND ${memberFrom} <= ${memberUntil} AND ${memberUntil} >= ${datesUpTo(D, 's.first_fact_day - 1')}
      THEN s.member_company END) OVER (PARTITION BY s.user_id) AS cover_min,
    max(CASE WHEN s.fidx = -2 AND ${memberFrom} <= ${memberUntil} AND ${memberUntil} >= ${datesUpTo(D, 's.first_fact_day - 1')}
      THEN s.member_company END) OVER (PARTITION BY s.user_id) AS cover_max
  FROM user_spans s CROSS JOIN date_axis a
),
user_fanned AS (
  -- Steady users keep one row; the others' records get a copy per date that can see
  -- them (E on or after their day), and their calls a copy per date they cover.
  SELECT c.user_id, c.fidx, c.day, c.member_company, c.act, c.first_at, c.last_at, c.feedbacks, c.score_sum,
    c.scores, c.cover_min, c.fact_date, c.date_count, d.date_no AS fan_date,
    ${steady} AS steady
  FROM user_cover c
  LEFT JOIN rollup_dates d ON d.fan_one = CASE WHEN c.first_member_day IS NULL OR ${steady} THEN NULL ELSE 1 END
    AND d.date_no BETWEEN CASE WHEN c.fidx = -2 THEN c.cover_lo ELSE c.fact_date END
      AND CASE WHEN c.fidx = -2 THEN c.cover_hi ELSE c.date_count - 1 END
),
user_resolved AS (
  -- A call's copy at a date also names the company the user was in at the date before
  -- (none if they were in none): the one they leave there, if it differs.
  SELECT user_id, fidx, day, act, first_at, last_at, feedbacks, score_sum, scores,
    steady, cover_min, fact_date, date_count, fan_date, member_company,
    max(CASE WHEN fidx = -2 THEN member_company END) OVER (PARTITION BY user_id, fan_date) AS date_company,
    CASE WHEN fidx = -2 AND lag(fan_date) OVER (PARTITION BY user_id, fidx ORDER BY fan_date) = fan_date - 1
      THEN lag(member_company) OVER (PARTITION BY user_id, fidx ORDER BY fan_date) END AS left_company
  FROM user_fanned
),
user_runs AS (
  -- A company's records from users who are not steady change only at the dates where
  -- such a user joins or leaves it, so those dates start its runs: dates that share one
  -- version. A call's copy where the user's company changes starts a run in the company
  -- joined (side 0) and in the one left (side 1).
  SELECT r.user_id, r.fidx, r.day, r.act, r.first_at, r.last_at, r.feedbacks, r.score_sum, r.scores,
    r.steady, r.cover_min, r.fact_date, r.date_count, r.fan_date,
    CASE WHEN x.side = 0 THEN r.date_company ELSE r.left_company END AS run_company,
    CASE WHEN r.fidx = -2 AND (r.left_company IS NULL OR r.left_company <> r.member_company) THEN r.fan_date END AS run_start
  FROM user_resolved r CROSS JOIN (VALUES (0), (1)) AS x (side)
  WHERE x.side = 0 OR (r.fidx = -2 AND r.left_company <> r.member_company)
),
user_attributed AS ${D.materialized}(
  -- A record of a user who is not steady counts in the version of each run of its
  -- company's dates that can see it, once: at the run's first date, or at its own first
  -- date when that falls inside the run. \`run_starts\`: the company's runs as bits.
  SELECT company_id, fidx,
    CASE WHEN steady THEN CAST(-1 AS BIGINT) ELSE ${runVersion('run_lo', runLastDate(D, 'run_starts', 'run_lo', 'date_count'))} END AS ver,
    day, act, first_at, last_at, feedbacks, score_sum, scores,
    CASE WHEN steady THEN CAST(NULL AS BIGINT) ELSE run_starts END AS run_starts
  FROM (
    SELECT u.*, CASE WHEN u.steady THEN u.cover_min ELSE u.run_company END AS company_id,
      coalesce(max(u.run_start) OVER (PARTITION BY u.run_company ORDER BY u.fan_date RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0) AS run_lo,
      ${D.bitOrAgg(`CASE WHEN u.run_start IS NULL THEN 1 ELSE ${bitAt(D, 'u.run_start')} END`)} OVER (PARTITION BY u.run_company) AS run_starts
    FROM user_runs u
  ) r
  WHERE fidx <> -2 AND company_id IS NOT NULL
    AND (steady OR (fan_date IS NOT NULL AND (fan_date = run_lo OR fan_date = fact_date)))
)`;
}

/**
 * `attr_*`: company calls replayed for attribute features → their days of use.
 *
 * A use makes every day until the next call an active day, so a company whose
 * attributes match for months has a row per day. Before the frequency windows (the
 * days 84 or more before the first E, which no date's bits reach) a day in the middle
 * of such a span changes no value an output date shows, so only the first and last K
 * days of each span are kept there (K: the larger of the feature's two day counts).
 * - Adoption: if a span reaches k days, its k-th day is adopted (k ≤ w, else nothing
 *   ever is), and that day is among the first K; the output dates read the earliest.
 * - Retention and First/Last Used: the latest retention day is the span's last day's
 *   (kept), the instants are its first day's (kept).
 * - A kept day's lags reach back k − 1 ≤ K − 1 active days: within its span's first K,
 *   the span's earlier days and the last days of the spans before, all kept; elsewhere
 *   a lag may land earlier than it did, which only lowers a value the span's first or
 *   last days already carry. The K days before the windows are all kept, so the days
 *   the windows see have their lags exactly.
 * An attribute feature's active days come only from these spans (catalog: no event
 * names or flag checks), so no other active day sits between them.
 */
function attributeFeatureChain(D: SqlDialect): string {
  const J = jsonExpressions(D);
  const attrSpan = D.dayRange('s.day', 's.span_to', 'r');
  return `attr_calls AS (
  -- Every company call, once per attribute feature, with the value it sets for the feature's attribute.
  SELECT r.company_id, r.event_id, r.ts, r.received_at, ${D.dayNumber('r.ts')} AS day, CAST(f.seq AS BIGINT) AS fidx,
    f.operator, f.f_type, f.f_key, f.f_str, f.f_num, f.in_keys,
    ${D.objectValue('r.attributes', 'f.attribute')} AS set_json
  FROM side_rows r CROSS JOIN filters f
  WHERE r.copy_no = 1 AND r.event_type = 'identify_company' AND f.owner = 'feature'
),
attr_states AS (
  SELECT company_id, fidx, ts, day, operator, f_type, f_key, f_str, f_num, in_keys,
    ${D.lastNonNull('set_json')} OVER (
      PARTITION BY company_id, fidx ${CALL_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS current_json,
    lead(day) OVER (PARTITION BY company_id, fidx ${CALL_ORDER}) AS next_call_day
  FROM attr_calls
),
attr_uses AS (
  -- The calls after which the attributes match the feature's filter: its uses. When a
  -- use is its day's last call, every day until the next call's day (or the last E) is
  -- an active day; the days before the frequency windows keep only the span's ends.
  SELECT s.company_id, s.fidx, s.ts, s.day, s.last_of_day,
    CASE WHEN s.last_of_day THEN coalesce(s.next_call_day - 1, a.last_e) ELSE s.day END AS span_to,
    a.first_e - 84 AS windows_after, greatest(coalesce(f.adopt_k, 1), coalesce(f.retain_k, 1)) AS ends
  FROM (
    SELECT company_id, fidx, ts, day, next_call_day, coalesce(next_call_day > day, true) AS last_of_day
    FROM attr_states s
    WHERE ${J.holds('s.current_json', 's')}
  ) s
  CROSS JOIN date_axis a
  JOIN features f ON f.fidx = s.fidx
),
attr_facts AS (
  SELECT s.company_id, s.fidx, CAST(-1 AS BIGINT) AS ver, ${attrSpan.column} AS day,
    CASE WHEN s.last_of_day THEN 1 ELSE 0 END AS act,
    CASE WHEN ${attrSpan.column} = s.day THEN s.ts END AS first_at,
    CASE WHEN ${attrSpan.column} = s.day THEN s.ts END AS last_at,
    CAST(0 AS BIGINT) AS feedbacks, CAST(0 AS BIGINT) AS score_sum, CAST(0 AS BIGINT) AS scores
  FROM attr_uses s ${attrSpan.from}
  WHERE ${attrSpan.column} > s.windows_after - s.ends OR ${attrSpan.column} < s.day + s.ends OR ${attrSpan.column} > s.span_to - s.ends
)`;
}

/** `info_*`: company calls → the company's name and segments as of each date. */
function companyInfoChain(D: SqlDialect): string {
  const J = jsonExpressions(D);
  return `info_calls AS (
  SELECT r.company_id, r.event_id, r.ts, r.received_at, ${D.dayNumber('r.ts')} AS day, k.attr_key,
    ${D.objectValue('r.attributes', 'k.attr_key')} AS set_json
  FROM side_rows r CROSS JOIN info_keys k
  WHERE r.copy_no = 1 AND r.event_type = 'identify_company'
),
info_states AS (
  SELECT company_id, attr_key, day,
    ${D.lastNonNull('set_json')} OVER (
      PARTITION BY company_id, attr_key ${CALL_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS current_json,
    lead(day) OVER (PARTITION BY company_id, attr_key ${CALL_ORDER}) AS next_call_day
  FROM info_calls
),
info_dated AS (
  -- The value of each attribute as of each date: the state after the last call on or before E.
  SELECT s.company_id, s.attr_key, s.current_json, d.date_no
  FROM info_states s
  JOIN rollup_dates d ON d.e_day >= s.day AND (s.next_call_day IS NULL OR d.e_day < s.next_call_day)
),
info_checked AS (
  SELECT i.company_id, i.date_no, i.attr_key, i.current_json, f.sidx, ${J.holds('i.current_json', 'f')} AS holds
  FROM info_dated i JOIN segment_filters f ON f.attribute = i.attr_key
),
info_segments AS (
  SELECT company_id, date_no, sidx, min(CASE WHEN holds THEN 1 ELSE 0 END) AS holds,
    max(CASE WHEN attr_key = 'name' THEN current_json END) AS name_json
  FROM info_checked
  GROUP BY company_id, date_no, sidx
),
${segmentTexts(D)}`;
}

/** Segments whose membership is a bit of a company × date's mask: bits 0–61 of a BIGINT. */
const MASKED_SEGMENTS = 62;

/**
 * `info_out`: each company × date's name and segment cells. Where WITH queries are
 * computed once (DuckDB), the segments a company is in as of a date are a bit mask
 * (those numbered under MASKED_SEGMENTS; a list only for the rest, empty unless the
 * catalog has more), and each distinct mask's texts are joined once: a list per
 * company × date is a variable-size aggregate state that DuckDB holds outside the
 * memory it can spill (200–280 MB on the benchmark lake, for the whole query), which
 * made a 6m_weekly export over 360 days of a small lake fail at the 1 GB limit. Where
 * every reference is inlined (Trino), a second reference to the masks would run the
 * info chain twice, so the lists stay.
 */
function segmentTexts(D: SqlDialect): string {
  if (D.materialized === '') {
    return `info_out AS (
  SELECT i.company_id, i.date_no, max(i.name_json) AS name_json,
    ${D.orderedCommaJoin('s.segment_name', 'i.sidx', 'i.holds = 1 AND i.sidx >= 0')} AS segment_names,
    ${D.orderedCommaJoin('s.segment_id', 'i.sidx', 'i.holds = 1 AND i.sidx >= 0')} AS segment_ids
  FROM info_segments i LEFT JOIN segments s ON s.sidx = i.sidx
  GROUP BY i.company_id, i.date_no
)`;
  }
  const masked = (sidx: string) => `${sidx} BETWEEN 0 AND ${MASKED_SEGMENTS - 1}`;
  const listed = `i.holds = 1 AND i.sidx >= ${MASKED_SEGMENTS}`;
  /** The masked segments' text, then the listed ones' (numbered after them, so in order). */
  const joined = (maskedText: string, listedText: string) =>
    `CASE WHEN ${maskedText} IS NULL THEN ${listedText} WHEN ${listedText} IS NULL THEN ${maskedText} ` +
    `ELSE ${maskedText} || ',' || ${listedText} END`;
  return `info_masks AS ${D.materialized}(
  SELECT i.company_id, i.date_no, max(i.name_json) AS name_json,
    ${D.bitOrAgg(`CASE WHEN i.holds = 1 AND ${masked('i.sidx')} THEN ${bitAt(D, 'i.sidx')} ELSE 0 END`)} AS segment_mask,
    ${D.orderedCommaJoin('s.segment_name', 'i.sidx', listed)} AS listed_names,
    ${D.orderedCommaJoin('s.segment_id', 'i.sidx', listed)} AS listed_ids
  FROM info_segments i LEFT JOIN segments s ON s.sidx = i.sidx
  GROUP BY i.company_id, i.date_no
),
mask_texts AS (
  SELECT m.segment_mask, ${D.orderedCommaJoin('s.segment_name', 's.sidx', 'true')} AS names,
    ${D.orderedCommaJoin('s.segment_id', 's.sidx', 'true')} AS ids
  FROM (SELECT DISTINCT segment_mask FROM info_masks WHERE segment_mask <> 0) m
  JOIN segments s ON ${masked('s.sidx')} AND ${D.bitAnd('m.segment_mask', bitAt(D, 's.sidx'))} <> 0
  GROUP BY m.segment_mask
),
info_out AS (
  SELECT i.company_id, i.date_no, i.name_json,
    ${joined('t.names', 'i.listed_names')} AS segment_names,
    ${joined('t.ids', 'i.listed_ids')} AS segment_ids
  FROM info_masks i LEFT JOIN mask_texts t ON t.segment_mask = i.segment_mask
)`;
}

/**
 * Each fact with `key_ver` ≥ 0 when its key (company × feature, or × −1 for the
 * company itself) is versioned: when some of its facts hold for one date only (the
 * user chain's `ver` ≥ 0). Where the engine computes a WITH query once (DuckDB), a
 * join with the user chain's few versioned keys; where it inlines every reference
 * (Trino), reading the user chain again would scan its lake read again, so a window
 * over all facts (on the benchmark lake the window is ~10% of the DuckDB query's CPU).
 */
function keyedFacts(D: SqlDialect): string {
  if (D.materialized === '') {
    return `keyed AS (
  SELECT ${FACT_COLUMNS}, max(ver) OVER (PARTITION BY company_id, fidx) AS key_ver,
    max(run_starts) OVER (PARTITION BY company_id, fidx) AS key_runs
  FROM all_facts
)`;
  }
  return `versioned_keys AS (
  SELECT company_id, fidx, max(run_starts) AS key_runs FROM user_attributed WHERE ver >= 0 GROUP BY company_id, fidx
),
keyed AS (
  SELECT ${qualified(FACT_COLUMNS, 'x')}, CASE WHEN v.fidx IS NULL THEN -1 ELSE 0 END AS key_ver, v.key_runs
  FROM all_facts x LEFT JOIN versioned_keys v ON v.company_id = x.company_id AND v.fidx = x.fidx
)`;
}

/** The three chains' facts in one timeline per company × feature × version. */
function mergedFacts(D: SqlDialect): string {
  return `all_facts AS (
  SELECT ${FACT_COLUMNS}, CAST(NULL AS BIGINT) AS run_starts FROM main_facts
  UNION ALL
  SELECT ${FACT_COLUMNS}, run_starts FROM user_attributed
  UNION ALL
  SELECT ${FACT_COLUMNS}, CAST(NULL AS BIGINT) AS run_starts FROM attr_facts
),
${keyedFacts(D)},
copied AS (
  -- A versioned key's other facts are copied into the version of every run of its
  -- company's dates whose last E is on or after their day.
  SELECT company_id, fidx, CASE WHEN run_hi IS NULL THEN ver ELSE ${runVersion('run_lo', 'run_hi')} END AS ver, day,
    act, first_at, last_at, feedbacks, score_sum, scores
  FROM (
    SELECT k.company_id, k.fidx, k.ver, k.day, k.act, k.first_at, k.last_at, k.feedbacks, k.score_sum, k.scores,
      p.date_no AS run_lo, CASE WHEN p.role = 'copy' THEN ${runLastDate(D, 'k.key_runs', 'p.date_no', 'a.date_count')} END AS run_hi, a.first_e, a.step
    FROM keyed k
    CROSS JOIN date_axis a
    JOIN copy_plan p ON p.fan_class = ${flag('k.ver = -1 AND k.key_ver >= 0')}
      AND (p.date_no IS NULL OR ${D.bitAnd('k.key_runs', bitAt(D, 'p.date_no'))} <> 0)
  ) c
  WHERE run_hi IS NULL OR first_e + step * run_hi >= day
),
merged AS (
  SELECT company_id, fidx, ver, day, max(act) AS act, min(first_at) AS first_at, max(last_at) AS last_at,
    sum(feedbacks) AS feedbacks, sum(score_sum) AS score_sum, sum(scores) AS scores
  FROM copied
  GROUP BY company_id, fidx, ver, day
)`;
}

/**
 * On each timeline's active days: adoption reached there, and the day the retention
 * count reaches back to (lags over the active days alone).
 */
function markedFacts(): string {
  // A timeline's active days apart from its other facts: the k-th latest active day is
  // then a plain lag, with no inactive rows to skip (IGNORE NULLS walks back over them).
  const activeDays = 'PARTITION BY m.company_id, m.fidx, m.ver, m.act ORDER BY m.day';
  return `marked AS (
  -- On active days: adoption reached here (the k-th latest active day lies in the
  -- window ending here), and the day the retention count reaches back to.
  SELECT m.company_id, m.fidx, m.ver, m.day, m.act, m.first_at, m.last_at, m.feedbacks, m.score_sum, m.scores,
    CASE WHEN m.act = 1 AND lag(m.day, coalesce(f.adopt_k, 1) - 1) OVER (${activeDays}) >= m.day - f.adopt_w + 1
      THEN 1 ELSE 0 END AS adopted_here,
    CASE WHEN m.act = 1 THEN lag(m.day, coalesce(f.retain_k, 1) - 1) OVER (${activeDays}) END AS retention_day
  FROM merged m LEFT JOIN features f ON f.fidx = m.fidx
)`;
}

/** An active day's bit in the 42-day bit sets: bit `day % 42` (one fact per day makes their sum exact). */
const dayBit = (D: SqlDialect, day: string) => bitAt(D, `${day} % 42`);

/**
 * The `weeks` shape: each timeline's marked facts summed per week ending on an output
 * date's E, and the days 84 or more before the first E (which no date's frequency
 * window reaches) in one summary, so the running values are accumulated over a few
 * dozen rows per timeline whatever the history's length. A sum stands at its week's E:
 * the dates it serves start there, and each value is exact as of it (adoption as its
 * earliest adopted day, the retention day as the latest, the active-day bits of its
 * days as they were: a week lies wholly inside or outside every date's 42-day bit set
 * window, since 7 divides 42 and 84). Where the dates' spacing does not divide 42 days,
 * the "weeks" are single days: still exact.
 */
function weeklyFacts(D: SqlDialect): string {
  return `weeks AS (
  SELECT company_id, fidx, ver, day, min(adoption_day) AS adoption_day, min(first_at) AS first_at,
    max(retention_day) AS retention_day, max(last_at) AS last_at,
    sum(feedbacks) AS feedbacks, sum(score_sum) AS score_sum, sum(scores) AS scores, sum(day_bits) AS day_bits
  FROM (
    -- A day's week is the first E (or the summary's day, 84 before the first E) on or after it.
    SELECT m.company_id, m.fidx, m.ver,
      CASE WHEN m.day <= w.summary_day THEN w.summary_day
        ELSE w.summary_day + w.width * ${D.intDiv('m.day - w.summary_day + w.width - 1', 'w.width')} END AS day,
      CASE WHEN m.adopted_here = 1 THEN m.day END AS adoption_day,
      m.first_at, m.retention_day, m.last_at, m.feedbacks, m.score_sum, m.scores,
      -- The summary's days are more than 84 days before every E: no bit of theirs may count.
      CASE WHEN m.act = 1 AND m.day > w.summary_day THEN ${dayBit(D, 'm.day')} ELSE 0 END AS day_bits
    FROM marked m
    CROSS JOIN (
      SELECT first_e - 84 AS summary_day, CASE WHEN 42 % step = 0 THEN step ELSE 1 END AS width FROM date_axis
    ) w
  ) d
  GROUP BY company_id, fidx, ver, day
)`;
}

/**
 * Each timeline's values accumulated as of each of its facts' days (carried → settled),
 * over its marked facts, or over their weekly sums (`weeks`, of the same columns but
 * adoption and the active-day bits already summed).
 */
function accumulatedFacts(D: SqlDialect, weeks: boolean): string {
  const timeline = 'PARTITION BY company_id, fidx, ver ORDER BY day';
  const factsSoFar = `OVER (${timeline} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  // The whole timeline, in the same window (partition and order) as the running values:
  // DuckDB sorts once per distinct window, and a bare PARTITION BY is another one.
  const wholeTimeline = `OVER (${timeline} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)`;
  const dayBits = weeks ? 'day_bits' : `CASE WHEN act = 1 THEN ${dayBit(D, 'day')} ELSE 0 END`;
  const adoptionDay = weeks ? 'adoption_day' : 'CASE WHEN adopted_here = 1 THEN day END';
  /**
   * A day % 42 bit set turned so that bit 41 is the fact's day and bit 41 − j the day
   * j days earlier (a rotation by (day + 1) % 42, in two halves that never overflow).
   */
  const turned = (bits: string, day: string) => {
    const r = `(${day} + 1) % 42`;
    return `(${D.shiftRight(bits, r)} + ${D.shiftLeft(D.bitAnd(bits, `${bitAt(D, r)} - 1`), `42 - ${r}`)})`;
  };
  return `carried AS (
  -- What accumulates, as of each fact's day (a timeline has one fact per day): the
  -- first use, first record and adoption as the timeline's earliest (a fact's instants
  -- are of its own day, so the first use's day is its instant's), the rest as running
  -- values; the active days of the 84 days up to it as two bit sets (bit day % 42 of
  -- the 42 days up to it, and of the 42 before: one fact per day makes a sum of powers
  -- of two exact); the next fact's day.
  SELECT company_id, fidx, ver, day,
    min(${adoptionDay}) ${wholeTimeline} AS adoption_day,
    min(first_at) ${wholeTimeline} AS first_at,
    max(retention_day) ${factsSoFar} AS retention_day,
    max(last_at) ${factsSoFar} AS last_at,
    sum(feedbacks) ${factsSoFar} AS feedbacks,
    sum(score_sum) ${factsSoFar} AS score_sum,
    sum(scores) ${factsSoFar} AS scores,
    coalesce(sum(${dayBits}) OVER (${timeline} RANGE BETWEEN 41 PRECEDING AND CURRENT ROW), 0) AS near_days,
    coalesce(sum(${dayBits}) OVER (${timeline} RANGE BETWEEN 83 PRECEDING AND 42 PRECEDING), 0) AS far_days,
    lead(day) OVER (${timeline}) AS next_day
  FROM ${weeks ? 'weeks' : 'marked'}
),
settled AS (
  SELECT company_id, fidx, ver, day, next_day, retention_day, last_at, feedbacks, score_sum, scores,
    CASE WHEN adoption_day <= day THEN 1 ELSE 0 END AS adopted,
    CASE WHEN ${D.dayNumber('first_at')} <= day THEN first_at END AS first_at,
    ${turned('near_days', 'day')} AS near_days,
    ${turned('far_days', 'day - 42')} AS far_days
  FROM carried
)`;
}

/** The timelines served to the grid rows (company × feature × date) of the dates each fact covers. */
function spawnedRows(D: SqlDialect): string {
  /** The first date whose E is on or after the fact's day, and the last before the next fact's day. */
  const factDate = datesUpTo(D, 'c.day - 1');
  const lastServed = `CASE WHEN c.next_day IS NULL THEN a.date_count - 1 ELSE ${datesUpTo(D, 'c.next_day - 1')} - 1 END`;
  // The range starts one before the first date served, so that it is never empty
  // (Trino's sequence counts down when its end is before its start).
  const spawn = D.dayRange(`${factDate} - 1`, lastServed, 'g');
  /** Active days among the last `t` days up to the fact's day (t ≤ 84), from its turned bit sets. */
  const activeDaysUpTo = (t: string) =>
    `CASE WHEN ${t} <= 0 THEN 0 WHEN ${t} <= 42 THEN ${D.bitCount(D.shiftRight('c.near_days', `42 - (${t})`))} ` +
    `ELSE ${D.bitCount('c.near_days')} + ${D.bitCount(D.shiftRight('c.far_days', `84 - (${t})`))} END`;
  return `spawned AS ${D.materialized}(
  -- Each fact serves the dates whose E falls between its day and the timeline's
  -- next fact's: their grid rows carry its accumulated values, and count the active
  -- days of the 7 … 84 days up to E from its bit sets. A version serves only its own run of dates.
  SELECT c.company_id, c.fidx, ${spawn.column} AS date_no, c.adopted, c.retention_day, c.first_at, c.last_at,
    c.feedbacks, c.score_sum, c.scores,
    ${[7, 14, 21, 28, 56, 84].map((days) => `${activeDaysUpTo(`${days} - (a.first_e + a.step * ${spawn.column} - c.day)`)} AS n${days}`).join(',\n    ')}
  FROM settled c CROSS JOIN date_axis a ${spawn.from}
  WHERE ${spawn.column} >= ${factDate}
    AND (c.ver = -1 OR ${spawn.column} BETWEEN ${versionFirstDate('c.ver')} AND ${versionLastDate(D, 'c.ver')})
)`;
}

/**
 * The grid rows of a job of one date (E = the axis' first_e): each timeline's values as
 * of E are one aggregation over its facts up to E (every fact is, since every record
 * is before D), its active days in the 7 … 84 days up to E counted directly. The
 * same columns as `spawned`, without accumulating fact by fact.
 */
function oneDateRows(D: SqlDialect): string {
  const activeSince = (days: number) => `sum(CASE WHEN m.act = 1 AND m.day > a.first_e - ${days} THEN 1 ELSE 0 END)`;
  return `spawned AS ${D.materialized}(
  -- One date: a version (ver 0) serves it as the shared timeline (ver -1) does.
  SELECT m.company_id, m.fidx, CAST(0 AS BIGINT) AS date_no,
    max(m.adopted_here) AS adopted, max(m.retention_day) AS retention_day,
    min(m.first_at) AS first_at, max(m.last_at) AS last_at,
    sum(m.feedbacks) AS feedbacks, sum(m.score_sum) AS score_sum, sum(m.scores) AS scores,
    ${[7, 14, 21, 28, 56, 84].map((days) => `${activeSince(days)} AS n${days}`).join(',\n    ')}
  FROM marked m CROSS JOIN date_axis a
  WHERE m.day <= a.first_e AND m.ver <= 0
  GROUP BY m.company_id, m.fidx, m.ver
)`;
}

/**
 * The company's own grid row (fidx −1) lends First and Last Seen to its features' rows
 * at the same date. Where `spawned` is computed once (DuckDB), by a join with those
 * rows: a hash join of the grid with one row per company × date instead of a window
 * that sorts the whole grid (5.5M rows, ~7 CPU-s of a 6m_weekly export on the benchmark
 * lake). Where every reference is inlined (Trino), a second read of `spawned` would
 * compute every chain again, so the window stays.
 */
function seenLent(D: SqlDialect): string {
  const kept = 'company_id, fidx, date_no, n7, n14, n21, n28, n56, n84, adopted, retention_day';
  const lent = 'first_at AS first_use, last_at AS last_use, feedbacks, score_sum, scores';
  if (D.materialized === '') {
    return `dated AS (
  SELECT ${kept}, ${lent},
    max(CASE WHEN fidx = -1 THEN first_at END) OVER (PARTITION BY company_id, date_no) AS first_seen,
    max(CASE WHEN fidx = -1 THEN last_at END) OVER (PARTITION BY company_id, date_no) AS last_seen
  FROM spawned
)`;
  }
  return `dated AS (
  SELECT ${qualified(kept, 'c')},
    ${qualified(lent, 'c')}, s.first_at AS first_seen, s.last_at AS last_seen
  FROM spawned c LEFT JOIN spawned s ON s.fidx = -1 AND s.company_id = c.company_id AND s.date_no = c.date_no
  WHERE c.fidx >= 0
)`;
}

/** Each grid row's stars, frequency, satisfaction, name and segments. */
function scoredRows(D: SqlDialect): string {
  return `scored AS (
  SELECT c.company_id, c.date_no, d.rollup_date, c.fidx, f.feature_id, f.feature_name,
    c.first_seen, greatest(coalesce(c.last_seen, c.first_seen), c.first_seen) AS last_seen,
    c.first_use, c.last_use,
    CASE
      WHEN c.first_use IS NULL THEN 1
      WHEN coalesce(c.adopted, 0) = 0 THEN 2
      WHEN c.retention_day >= d.e_day - f.retain_w + 1 THEN 3
      ELSE 4
    END AS stars,
    CASE
      WHEN c.n14 >= 8 THEN 3
      WHEN ${flag('c.n7 > 0')} + ${flag('c.n14 - c.n7 > 0')} + ${flag('c.n21 - c.n14 > 0')} + ${flag('c.n28 - c.n21 > 0')} >= 3 THEN 2
      WHEN ${flag('c.n28 > 0')} + ${flag('c.n56 - c.n28 > 0')} + ${flag('c.n84 - c.n56 > 0')} >= 2 THEN 1
      ELSE 0
    END AS frequency,
    CASE WHEN c.scores > 0 THEN ${D.intDiv('2 * c.score_sum + c.scores', '2 * c.scores')} END AS satisfaction,
    coalesce(c.feedbacks, 0) AS feedbacks,
    i.name_json,
    CASE WHEN i.company_id IS NULL THEN e.segment_names ELSE i.segment_names END AS segment_names,
    CASE WHEN i.company_id IS NULL THEN e.segment_ids ELSE i.segment_ids END AS segment_ids
  FROM dated c
  JOIN rollup_dates d ON d.date_no = c.date_no
  JOIN features f ON f.fidx = c.fidx
  LEFT JOIN info_out i ON i.company_id = c.company_id AND i.date_no = c.date_no
  CROSS JOIN empty_segments e
  -- A company is in the export at a date once a record before D carries its id.
  WHERE c.fidx >= 0 AND c.first_seen IS NOT NULL
)`;
}

/**
 * The export's columns, named and ordered as COMPANY_EXPORT_HEADER says, in the
 * export's row order: sorted before they become text where the engine keeps a
 * subquery's order (`keepsSubqueryOrder`), else last.
 */
function exportSelect(D: SqlDialect): string {
  const J = jsonExpressions(D);
  const names = COMPANY_EXPORT_HEADER.map(quoteIdent);
  const column = (i: number) => names[i] as string;
  return `SELECT
  company_id AS ${column(0)},
  nullif(CASE ${J.type('name_json')} WHEN 'string' THEN ${J.text('name_json')}
    WHEN 'number' THEN name_json WHEN 'boolean' THEN name_json END, '') AS ${column(1)},
  feature_name AS ${column(2)},
  feature_id AS ${column(3)},
  rollup_date AS ${column(4)},
  ${D.isoInstant('first_seen')} AS ${column(5)},
  ${D.isoInstant('last_seen')} AS ${column(6)},
  ${D.isoInstant('first_use')} AS ${column(7)},
  ${D.isoInstant('last_use')} AS ${column(8)},
  ${labelCase('stars', STARS_LABELS)} AS ${column(9)},
  CAST(stars AS VARCHAR) AS ${column(10)},
  ${labelCase('frequency', FREQUENCY_LABELS)} AS ${column(11)},
  CAST(frequency AS VARCHAR) AS ${column(12)},
  ${labelCase('satisfaction', SATISFACTION_LABELS)} AS ${column(13)},
  CAST(satisfaction AS VARCHAR) AS ${column(14)},
  CAST(feedbacks AS VARCHAR) AS ${column(15)},
  segment_names AS ${column(16)},
  segment_ids AS ${column(17)}
${
  D.keepsSubqueryOrder
    ? `FROM (SELECT * FROM scored ORDER BY ${EXPORT_ORDER}) sorted_rows`
    : `FROM scored
ORDER BY ${EXPORT_ORDER}`
}
`;
}
