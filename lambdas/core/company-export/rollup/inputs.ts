import { EXPORT_INPUT_COLUMNS, EXPORT_INPUTS_TABLE_NAME } from '../../../contract/export-inputs.ts';
import { DAY_MS } from '../../../contract/lake.ts';
import type { FilterOperator, JsonValue } from '../../shared/filters.ts';
import {
  compareBytes,
  DEFAULT_ADOPTION,
  DEFAULT_RETENTION,
  type RollupCatalog,
  type RollupDate,
  type Thresholds,
} from './types.ts';
import { dayNumber, lastDateBefore } from './windows.ts';

/**
 * The per-job inputs table `export_inputs`. Athena takes `?` parameters only in
 * WHERE clauses and the rollup's SQL text holds no values, so everything the query
 * needs beyond the app, the job and the date bounds (the catalog, the output dates)
 * travels as rows of this table, written as JSON lines to
 * `<lake>/export_inputs/<job_id>.json` before the query runs.
 * Values arriving as data can never become SQL, whatever characters they hold.
 */

export type ExportInputKind =
  | 'date'
  | 'feature'
  | 'feature_event'
  | 'segment'
  | 'filter'
  | 'filter_value'
  | 'facts_span'
  | 'build_span';

export interface ExportInputRow {
  kind: ExportInputKind;
  seq: number;
  rollup_date: string | null;
  d_instant: string | null;
  e_day: number | null;
  feature_id: string | null;
  feature_name: string | null;
  feature_type: 'event' | 'attribute' | null;
  event_name: string | null;
  flag_checks: number | null;
  adoption_min_days: number | null;
  adoption_window_days: number | null;
  retention_min_days: number | null;
  retention_window_days: number | null;
  segment_id: string | null;
  segment_name: string | null;
  owner: 'feature' | 'segment' | null;
  filter_no: number | null;
  attribute: string | null;
  operator: FilterOperator | null;
  value_type: JsonType | null;
  value_text: string | null;
  value_json: string | null;
  span_from: string | null;
  span_to: string | null;
  build_id: string | null;
  cutoff: string | null;
}

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

/**
 * The most output dates one job may have: the rollup text keeps a company's runs of dates
 * (docs/rollup.md, "Shape of the computation") as bits 0 … 61 of a BIGINT. The
 * aggregations have at most 30.
 */
export const MAX_ROLLUP_DATES = 62;

/** Job ids become a file name (`<id>.json`) locally and in S3: a conservative alphabet. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function assertJobId(jobId: string): void {
  if (!JOB_ID_PATTERN.test(jobId)) {
    throw new RangeError(`job id must be 1 to 128 letters, digits, _ or -: ${JSON.stringify(jobId.slice(0, 40))}`);
  }
}

/** A row with every column null but `kind` and `seq`: other jobs' inputs (events exports) start from it too. */
export const EMPTY_INPUT_ROW: Omit<ExportInputRow, 'kind' | 'seq'> = {
  rollup_date: null,
  d_instant: null,
  e_day: null,
  feature_id: null,
  feature_name: null,
  feature_type: null,
  event_name: null,
  flag_checks: null,
  adoption_min_days: null,
  adoption_window_days: null,
  retention_min_days: null,
  retention_window_days: null,
  segment_id: null,
  segment_name: null,
  owner: null,
  filter_no: null,
  attribute: null,
  operator: null,
  value_type: null,
  value_text: null,
  value_json: null,
  span_from: null,
  span_to: null,
  build_id: null,
  cutoff: null,
};

const row = (kind: ExportInputKind, seq: number, fields: Partial<ExportInputRow>): ExportInputRow => ({
  ...EMPTY_INPUT_ROW,
  kind,
  seq,
  ...fields,
});

export function jsonType(value: JsonValue): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'string' | 'number' | 'boolean' | 'object';
}

/**
 * A JSON value split the way the SQL compares it: strings by their text, numbers
 * as doubles, everything else by compact JSON text.
 */
function valueFields(value: JsonValue): Pick<ExportInputRow, 'value_type' | 'value_text' | 'value_json'> {
  const json = JSON.stringify(value);
  return { value_type: jsonType(value), value_text: typeof value === 'string' ? value : json, value_json: json };
}

function filterRows(
  owner: 'feature' | 'segment',
  seq: number,
  filterNo: number,
  filter: { attribute: string; operator: FilterOperator; value: JsonValue },
): ExportInputRow[] {
  const rows = [
    row('filter', seq, {
      owner,
      filter_no: filterNo,
      attribute: filter.attribute,
      operator: filter.operator,
      ...valueFields(filter.value),
    }),
  ];
  if (filter.operator === 'in' && Array.isArray(filter.value)) {
    for (const element of filter.value)
      rows.push(row('filter_value', seq, { owner, filter_no: filterNo, ...valueFields(element) }));
  }
  return rows;
}

function thresholds(value: Thresholds | undefined, fallback: Thresholds, what: string): Thresholds {
  const t = value ?? fallback;
  if (
    !Number.isInteger(t.min_active_days) ||
    !Number.isInteger(t.window_days) ||
    t.min_active_days < 1 ||
    t.window_days < 1
  ) {
    throw new RangeError(`${what} needs whole min_active_days and window_days of at least 1`);
  }
  return t;
}

/**
 * Checks the dates the SQL can serve. It compares whole days only ("timestamp < D"
 * becomes "day ≤ E" once every record at or after the last D is filtered out), which
 * holds when every D but the last is a midnight: true of all four aggregations.
 */
export function assertRollupDates(windows: readonly RollupDate[]): void {
  if (windows.length === 0) throw new RangeError('a rollup needs at least one date');
  if (windows.length > MAX_ROLLUP_DATES) throw new RangeError(`a rollup takes at most ${MAX_ROLLUP_DATES} dates`);
  windows.forEach((w, i) => {
    if (Number.isNaN(w.d.getTime())) throw new RangeError(`date ${i}: D is not a valid instant`);
    const previous = windows[i - 1];
    if (previous && previous.d.getTime() >= w.d.getTime())
      throw new RangeError('rollup dates must be in ascending order');
    if (i < windows.length - 1 && w.d.getTime() % DAY_MS !== 0) {
      throw new RangeError(`date ${w.date}: only the last D may fall inside a day`);
    }
  });
}

/**
 * The rows of `export_inputs` for one job: the output dates, the features (with
 * their event names or attribute filter, and thresholds) and the segments (with
 * their filters). Features and segments are numbered in id order (UTF-8 byte
 * order, as the engines sort text), which is the order of the CSV's rows and of the
 * comma-joined segment cells.
 */
export function exportInputRows(
  jobId: string,
  catalog: RollupCatalog,
  windows: readonly RollupDate[],
): ExportInputRow[] {
  assertJobId(jobId);
  assertRollupDates(windows);
  const rows: ExportInputRow[] = windows.map((w, i) =>
    row('date', i, {
      rollup_date: w.date,
      d_instant: w.d.toISOString(),
      e_day: dayNumber(lastDateBefore(w.d)),
    }),
  );
  const features = [...catalog.features].sort((a, b) => compareBytes(a.id, b.id));
  features.forEach((feature, seq) => {
    if (seq > 0 && features[seq - 1]?.id === feature.id) throw new RangeError(`feature id ${feature.id} appears twice`);
    const adoption = thresholds(feature.adoption, DEFAULT_ADOPTION, `feature ${feature.id} adoption`);
    const retention = thresholds(feature.retention, DEFAULT_RETENTION, `feature ${feature.id} retention`);
    rows.push(
      row('feature', seq, {
        feature_id: feature.id,
        feature_name: feature.name,
        feature_type: feature.type,
        flag_checks: feature.type === 'event' && feature.flag_checks === true ? 1 : 0,
        adoption_min_days: adoption.min_active_days,
        adoption_window_days: adoption.window_days,
        retention_min_days: retention.min_active_days,
        retention_window_days: retention.window_days,
      }),
    );
    if (feature.type === 'event') {
      for (const name of new Set(feature.event_names)) {
        rows.push(row('feature_event', seq, { feature_id: feature.id, event_name: name }));
      }
    } else {
      rows.push(...filterRows('feature', seq, 0, feature));
    }
  });
  const segments = [...catalog.segments].sort((a, b) => compareBytes(a.id, b.id));
  segments.forEach((segment, seq) => {
    if (seq > 0 && segments[seq - 1]?.id === segment.id) throw new RangeError(`segment id ${segment.id} appears twice`);
    rows.push(row('segment', seq, { segment_id: segment.id, segment_name: segment.name }));
    segment.filters.forEach((filter, filterNo) => {
      rows.push(...filterRows('segment', seq, filterNo, filter));
    });
  });
  return rows;
}

/** The JSON-lines file body: one object per row, every column present (null when unused). */
export function exportInputsJsonLines(jobId: string, rows: readonly ExportInputRow[]): string {
  let text = '';
  for (const r of rows) {
    const ordered: Record<string, unknown> = {};
    for (const { name } of EXPORT_INPUT_COLUMNS) ordered[name] = name === 'job_id' ? jobId : r[name];
    text += `${JSON.stringify(ordered)}\n`;
  }
  return text;
}

/** Where a job's inputs file lives, relative to the lake's root. */
export function exportInputsKey(jobId: string): string {
  assertJobId(jobId);
  return `${EXPORT_INPUTS_TABLE_NAME}/${jobId}.json`;
}

/** `YYYY-MM-DD HH:MM:SS.mmm` (UTC): what `CAST(x AS TIMESTAMP)` reads alike in Trino and DuckDB. */
export const sqlTimestampText = (instant: Date): string => instant.toISOString().replace('T', ' ').replace('Z', '');

/** An export's facts snapshot as `facts_span` rows (the cutoff in the form the SQL casts). */
export function factsSpanInputRows(
  spans: readonly { from: string; to: string; build_id: string; cutoff: string }[],
): ExportInputRow[] {
  return spans.map((span, i) =>
    row('facts_span', i, {
      span_from: span.from,
      span_to: span.to,
      build_id: span.build_id,
      cutoff: sqlTimestampText(new Date(span.cutoff)),
    }),
  );
}

/** The days a facts build writes, as `build_span` rows carrying the build's id (its files' `build_id` column). */
export function buildSpanInputRows(buildId: string, spans: readonly { from: string; to: string }[]): ExportInputRow[] {
  return spans.map((span, i) => row('build_span', i, { span_from: span.from, span_to: span.to, build_id: buildId }));
}
