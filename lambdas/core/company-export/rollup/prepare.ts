import type { QueryParam } from '../../shared/query-param.ts';
import { type ExportInputRow, exportInputRows } from './inputs.ts';
import { companyRollupParams } from './sql.ts';
import type { RollupAggregation, RollupDate, RollupEventFeature, RollupFeature, RollupSegment } from './types.ts';
import { aggregationWindows } from './windows.ts';

export interface PrepareCompanyRollupInput {
  readonly jobId: string;
  readonly environmentId: string;
  readonly aggregation: RollupAggregation;
  /** "Now" of the aggregation's definition. */
  readonly asOf: Date;
  readonly features: readonly (RollupFeature | RollupEventFeature)[];
  readonly segments: readonly RollupSegment[];
}

export interface PreparedCompanyRollup {
  /** Write these to `export_inputs` (LakeInputsWriter) before running the query. */
  readonly inputRows: ExportInputRow[];
  /** Bind to `companyRollupSql(dialect)`, in order. */
  readonly params: QueryParam[];
  /** The output dates, oldest first, with their D as an ISO instant (JSON-friendly for a workflow's state). */
  readonly dates: { date: string; d: string }[];
  readonly windows: RollupDate[];
}

/** Everything a job needs to run one company export: the inputs rows and the query's parameters. */
export function prepareCompanyRollup(input: PrepareCompanyRollupInput): PreparedCompanyRollup {
  const windows = aggregationWindows(input.aggregation, input.asOf);
  return {
    inputRows: exportInputRows(input.jobId, { features: input.features, segments: input.segments }, windows),
    params: companyRollupParams({ environmentId: input.environmentId, jobId: input.jobId, windows }),
    dates: windows.map((w) => ({ date: w.date, d: w.d.toISOString() })),
    windows,
  };
}
