/**
 * Where Trino (Athena) and DuckDB spell the same thing differently. The rollup is
 * written once against this table; each entry says which trap it avoids.
 * Everything not listed here is written in the subset both engines read alike.
 */

import { EVENT_ID_DEDUP_DAYS } from '../../../contract/lake.ts';

export type SqlDialectName = 'trino' | 'duckdb';

/** A lateral FROM item (`from`) and the expression of the column it yields. */
export interface LateralItem {
  readonly from: string;
  readonly column: string;
}

export interface SqlDialect {
  readonly name: SqlDialectName;
  /**
   * Whole days from 1970-01-01 to the UTC date of a TIMESTAMP. Both engines' `date_diff`
   * agree on two DATEs (on timestamps they differ: DuckDB counts boundaries crossed,
   * Trino whole units), so the timestamp is cast to DATE first.
   */
  dayNumber(timestamp: string): string;
  /**
   * `YYYY-MM-DDTHH:MM:SS.mmmZ`. DuckDB's CAST to VARCHAR drops a zero fraction and
   * Trino has no strftime; both texts are built to the millisecond.
   */
  isoInstant(timestamp: string): string;
  /** Integer division of non-negative integers: DuckDB's `/` on integers gives a double. */
  intDiv(a: string, b: string): string;
  /**
   * An aggregate: the texts of the rows where `condition` holds, joined with `,` in
   * `orderBy` order (a key unique within the group), NULL when none. Trino has no
   * `string_agg`, DuckDB no `array_join`. On DuckDB an unordered `list` sorted
   * afterwards: its ordered aggregates sort every group's rows apart, which took 5.7
   * CPU-s of a 30d_daily export's segment lists on the benchmark lake, the list 3.1.
   */
  orderedCommaJoin(text: string, orderBy: string, condition: string): string;
  /**
   * The value of a top-level key of a JSON object held as text, as compact JSON text
   * in the engine's own spelling (`null` for a JSON null); NULL when the key is absent
   * or the text is not an object. Both engines turn a JSON null inside a map into SQL
   * NULL, so presence is asked of the map's keys.
   */
  objectValue(jsonText: string, key: string): string;
  /** Any JSON text re-spelt as the engine spells the values `objectValue` returns. */
  normalizeJson(jsonText: string): string;
  /** The text of a JSON string held as JSON text (`"a\"b"` → `a"b`). */
  jsonStringValue(jsonText: string): string;
  /**
   * The elements of a JSON array held as text, each mapped by `keyOf` (given the
   * element's compact JSON text); NULL for anything but an array. Lambdas are
   * `x -> …` in Trino and `lambda x: …` in DuckDB.
   */
  arrayElementKeys(jsonText: string, keyOf: (elementJson: string) => string): string;
  /** Bits set in a BIGINT: Trino `bit_count(x, 64)`, DuckDB `bit_count(x)`. */
  bitCount(value: string): string;
  /** Bitwise AND of two BIGINTs: Trino `bitwise_and`, DuckDB `&`. */
  bitAnd(a: string, b: string): string;
  /** The aggregate OR of BIGINTs (also over a window): Trino `bitwise_or_agg`, DuckDB `bit_or`. */
  bitOrAgg(value: string): string;
  /** A BIGINT shifted left / right (values here stay below 2^62): Trino has functions, DuckDB operators. */
  shiftLeft(value: string, bits: string): string;
  shiftRight(value: string, bits: string): string;
  /** Whether an array holds a value: Trino `contains`, DuckDB `list_contains`. */
  arrayContains(array: string, value: string): string;
  /**
   * The last non-NULL value of a window frame, written before its OVER. Trino puts
   * IGNORE NULLS after the call, DuckDB inside the parentheses.
   */
  lastNonNull(value: string): string;
  /** The whole numbers from..to, one row each: Trino `sequence`, DuckDB `generate_series`. */
  dayRange(from: string, to: string, alias: string): LateralItem;
  /**
   * Written between `AS` and the body of a WITH query read by several others. DuckDB
   * then computes it once; Trino has no such keyword and inlines every reference. The
   * rollup also asks it whether a second read of a chain is cheap (non-empty: computed
   * once) when it picks a join over a window (`keyedFacts`).
   */
  readonly materialized: string;
  /**
   * Whether rows sorted by a subquery's ORDER BY keep that order through the plain
   * projection above it. DuckDB keeps a projection's input order, and its COPY writes
   * rows in that order (docs "Order Preservation"), so the rollup sorts its rows
   * before turning them into the export's text columns: the sort then carries 4
   * instants and 4 integers instead of their 11 texts (8.3 instead of 13.0 CPU-s of
   * a 6m_weekly export on the benchmark lake). Trino drops an ORDER BY that is not the
   * query's last clause, so there the text sorts last.
   */
  readonly keepsSubqueryOrder: boolean;
}

const TRINO_MAP = (json: string) => `try_cast(json_parse(${json}) AS MAP(VARCHAR, JSON))`;
const DUCKDB_MAP = (json: string) => `TRY_CAST(CAST(${json} AS JSON) AS MAP(VARCHAR, JSON))`;

export const TRINO: SqlDialect = {
  name: 'trino',
  dayNumber: (t) => `date_diff('day', DATE '1970-01-01', CAST(${t} AS DATE))`,
  // A timestamp(3) cast to varchar is always `YYYY-MM-DD HH:MM:SS.mmm`.
  isoInstant: (t) => `replace(CAST(CAST(${t} AS TIMESTAMP(3)) AS VARCHAR), ' ', 'T') || 'Z'`,
  intDiv: (a, b) => `((${a}) / (${b}))`,
  orderedCommaJoin: (text, orderBy, condition) =>
    `array_join(array_agg(${text} ORDER BY ${orderBy}) FILTER (WHERE ${condition}), ',')`,
  objectValue: (json, key) =>
    `CASE WHEN contains(map_keys(${TRINO_MAP(json)}), ${key}) ` +
    `THEN coalesce(json_format(element_at(${TRINO_MAP(json)}, ${key})), 'null') END`,
  normalizeJson: (json) => `json_format(json_parse(${json}))`,
  jsonStringValue: (json) => `json_extract_scalar(${json}, '$')`,
  arrayElementKeys: (json, keyOf) =>
    `transform(try_cast(json_parse(${json}) AS ARRAY(JSON)), x_element -> ${keyOf("coalesce(json_format(x_element), 'null')")})`,
  bitCount: (value) => `bit_count(${value}, 64)`,
  bitAnd: (a, b) => `bitwise_and(${a}, ${b})`,
  bitOrAgg: (value) => `bitwise_or_agg(${value})`,
  shiftLeft: (value, bits) => `bitwise_left_shift(${value}, ${bits})`,
  shiftRight: (value, bits) => `bitwise_right_shift(${value}, ${bits})`,
  arrayContains: (array, value) => `contains(${array}, ${value})`,
  lastNonNull: (value) => `last_value(${value}) IGNORE NULLS`,
  // sequence() holds at most 10,000 elements: 27 years of days, more than the lake spans.
  dayRange: (from, to, alias) => ({
    from: `CROSS JOIN UNNEST(sequence(${from}, ${to})) AS ${alias} (day)`,
    column: `${alias}.day`,
  }),
  materialized: '',
  keepsSubqueryOrder: false,
};

export const DUCKDB: SqlDialect = {
  name: 'duckdb',
  dayNumber: (t) => `date_diff('day', DATE '1970-01-01', CAST(${t} AS DATE))`,
  isoInstant: (t) => `strftime(${t}, '%Y-%m-%dT%H:%M:%S.%gZ')`,
  intDiv: (a, b) => `((${a}) // (${b}))`,
  orderedCommaJoin: (text, orderBy, condition) =>
    `array_to_string(list_transform(list_sort(list(struct_pack(k := ${orderBy}, v := ${text})) FILTER (WHERE ${condition})), ` +
    `lambda x_joined: x_joined.v), ',')`,
  objectValue: (json, key) =>
    `CASE WHEN map_contains(${DUCKDB_MAP(json)}, ${key}) ` +
    `THEN coalesce(CAST(${DUCKDB_MAP(json)}[${key}] AS VARCHAR), 'null') END`,
  normalizeJson: (json) => `CAST(json(${json}) AS VARCHAR)`,
  jsonStringValue: (json) => `json_extract_string(${json}, '$')`,
  arrayElementKeys: (json, keyOf) =>
    `list_transform(TRY_CAST(CAST(${json} AS JSON) AS JSON[]), lambda x_element: ${keyOf("coalesce(CAST(x_element AS VARCHAR), 'null')")})`,
  bitCount: (value) => `bit_count(${value})`,
  bitAnd: (a, b) => `((${a}) & (${b}))`,
  bitOrAgg: (value) => `bit_or(${value})`,
  shiftLeft: (value, bits) => `((${value}) << (${bits}))`,
  shiftRight: (value, bits) => `((${value}) >> (${bits}))`,
  arrayContains: (array, value) => `list_contains(${array}, ${value})`,
  lastNonNull: (value) => `last_value(${value} IGNORE NULLS)`,
  dayRange: (from, to, alias) => ({
    from: `CROSS JOIN unnest(generate_series(${from}, ${to})) AS ${alias} (day)`,
    column: `${alias}.day`,
  }),
  materialized: 'MATERIALIZED ',
  keepsSubqueryOrder: true,
};

export const DIALECTS: Readonly<Record<SqlDialectName, SqlDialect>> = { trino: TRINO, duckdb: DUCKDB };

/**
 * A record's copy number under the de-duplication rule both texts share (docs/rollup.md
 * "Duplicates"): 1, it counts, unless another copy of its `event_id` was received in the
 * EVENT_ID_DEDUP_DAYS days before it (copies in `order`: received_at, then timestamp),
 * else 2. Only the copy just before matters (an earlier one was received earlier still).
 * `e` is the alias, with its dot (or empty); the same text in both dialects.
 */
export const dedupCopyNo = (e: string, order: string) =>
  `CASE WHEN lag(${e}received_at) OVER (PARTITION BY ${e}event_id ORDER BY ${order})
        >= ${e}received_at - INTERVAL '${EVENT_ID_DEDUP_DAYS}' DAY THEN 2 ELSE 1 END`;
