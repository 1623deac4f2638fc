/**
 * The per-job inputs table `export_inputs`: the CDK Glue table (JSON SerDe), the
 * local DuckDB view and the files the export steps write all follow this layout.
 * Each job's rows are written as JSON lines to `<lake>/export_inputs/<job_id>.json`
 * before its query runs (lambdas/core/company-export/rollup/inputs.ts says why),
 * each row carrying its `job_id`.
 *
 * The table has no partitions. A `job_id` partition could only be an injected
 * projection (job ids cannot be enumerated), and Athena requires an injected value
 * to be a constant of the query text, which the documentation does not promise of
 * an execution parameter (issue 11, finding 8). Unpartitioned, `WHERE job_id = ?`
 * is valid either way; the price is that a query lists and reads every job's
 * inputs still in the lake, a few kilobytes each, kept 7 days.
 */

export const EXPORT_INPUTS_TABLE_NAME = 'export_inputs';

/**
 * How long a job's inputs file is kept by default: on AWS the bucket's lifecycle
 * rule (ExportInputsTable's `retention`), locally the writer's sweep. The query reads
 * it within the job's run (at most an hour); the rest is time to look at a failed job.
 */
export const EXPORT_INPUTS_RETENTION_DAYS = 7;

/** Glue-compatible column types; JSON values of filters stay JSON text in `string` columns. */
export type ExportInputColumnType = 'string' | 'int';

export interface ExportInputColumn {
  readonly name: string;
  readonly type: ExportInputColumnType;
  readonly comment: string;
}

/** The columns, in file order: the CDK Glue table and the local DuckDB view both read this list. */
export const EXPORT_INPUT_COLUMNS = [
  { name: 'job_id', type: 'string', comment: 'the export job the row belongs to' },
  {
    name: 'kind',
    type: 'string',
    comment: 'date | feature | feature_event | segment | filter | filter_value | facts_span | build_span',
  },
  {
    name: 'seq',
    type: 'int',
    comment: 'date: index, oldest first; feature/segment: position in id order; filter rows: their owner’s seq',
  },
  { name: 'rollup_date', type: 'string', comment: 'date: the CSV Date column, YYYY-MM-DD' },
  { name: 'd_instant', type: 'string', comment: 'date: the instant D (exclusive), ISO-8601 UTC' },
  { name: 'e_day', type: 'int', comment: 'date: the date of the last instant before D, as days since 1970-01-01' },
  { name: 'feature_id', type: 'string', comment: 'feature, feature_event' },
  { name: 'feature_name', type: 'string', comment: 'feature' },
  { name: 'feature_type', type: 'string', comment: 'feature: event | attribute' },
  { name: 'event_name', type: 'string', comment: 'feature_event: one event name of an event feature' },
  {
    name: 'flag_checks',
    type: 'int',
    comment: 'feature: 1 when a feature-flag check of the feature id that enabled it is a use, else 0',
  },
  { name: 'adoption_min_days', type: 'int', comment: 'feature' },
  { name: 'adoption_window_days', type: 'int', comment: 'feature' },
  { name: 'retention_min_days', type: 'int', comment: 'feature' },
  { name: 'retention_window_days', type: 'int', comment: 'feature' },
  { name: 'segment_id', type: 'string', comment: 'segment' },
  { name: 'segment_name', type: 'string', comment: 'segment' },
  { name: 'owner', type: 'string', comment: 'filter, filter_value: feature (an attribute feature) | segment' },
  {
    name: 'filter_no',
    type: 'int',
    comment: 'filter, filter_value: position of the filter in its owner (0 for a feature)',
  },
  { name: 'attribute', type: 'string', comment: 'filter: the attribute key' },
  {
    name: 'operator',
    type: 'string',
    comment: 'filter: eq | neq | gt | gte | lt | lte | contains | in | is_set | is_not_set',
  },
  {
    name: 'value_type',
    type: 'string',
    comment: 'filter, filter_value: string | number | boolean | null | array | object',
  },
  {
    name: 'value_text',
    type: 'string',
    comment: 'filter, filter_value: a string as is; a number, boolean or null as JSON; arrays and objects as JSON',
  },
  { name: 'value_json', type: 'string', comment: 'filter, filter_value: the value as compact JSON' },
  {
    name: 'span_from',
    type: 'string',
    comment: 'facts_span (an export’s facts snapshot), build_span (the days a facts build writes): first day',
  },
  { name: 'span_to', type: 'string', comment: 'facts_span, build_span: last day (inclusive)' },
  { name: 'build_id', type: 'string', comment: 'facts_span: the current facts build of the days' },
  { name: 'cutoff', type: 'string', comment: 'facts_span: that build’s cutoff, ISO-8601 UTC' },
] as const satisfies readonly ExportInputColumn[];
