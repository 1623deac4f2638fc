import { DAY_MS } from '../../../contract/lake.ts';
import type { QueryParam } from '../../shared/query-param.ts';
import { type FactsManifest, factsSnapshot } from '../facts/manifest.ts';
import type { SqlDialectName } from './dialect.ts';
import { type ExportInputRow, exportInputRows, factsSpanInputRows } from './inputs.ts';
import {
  companyRollupFromFactsParams,
  companyRollupFromFactsSqlOfShape,
  companyRollupParams,
  companyRollupSql,
  type RollupShape,
} from './sql.ts';
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
  /**
   * Read the daily facts this manifest names (undefined: none built yet), through
   * `companyRollupFromFactsSql`. Absent: the full recompute, `companyRollupSql`.
   */
  readonly facts?: { readonly manifest: FactsManifest | undefined };
}

export interface PreparedCompanyRollup {
  /** Write these to `export_inputs` (LakeInputsWriter) before running the query. */
  readonly inputRows: ExportInputRow[];
  /** Bind to the text `preparedRollupSql` picks, in order. */
  readonly params: QueryParam[];
  readonly fromFacts: boolean;
  /**
   * The facts-reading text's shape: `one-date` for one output date (`today`), `weeks`
   * for dates a week apart (`3m_weekly`, `6m_weekly`), else `dates` (and always `dates`
   * for the full recompute, which has one text).
   */
  readonly shape: RollupShape;
  /** The output dates, oldest first, with their D as an ISO instant (JSON-friendly for a workflow's state). */
  readonly dates: { date: string; d: string }[];
  readonly windows: RollupDate[];
}

/** Everything a job needs to run one company export: the inputs rows and the query's parameters. */
export function prepareCompanyRollup(input: PrepareCompanyRollupInput): PreparedCompanyRollup {
  const windows = aggregationWindows(input.aggregation, input.asOf);
  const inputRows = exportInputRows(input.jobId, { features: input.features, segments: input.segments }, windows);
  const dates = windows.map((w) => ({ date: w.date, d: w.d.toISOString() }));
  if (!input.facts) {
    const params = companyRollupParams({ environmentId: input.environmentId, jobId: input.jobId, windows });
    return { inputRows, params, fromFacts: false, shape: 'dates', dates, windows };
  }
  // Facts of the days before the last D's date only: a day holding D is counted raw, record by record.
  const lastD = (windows[windows.length - 1] as RollupDate).d;
  const facts = factsSnapshot(input.facts.manifest, lastD.toISOString().slice(0, 10));
  const params = companyRollupFromFactsParams({
    environmentId: input.environmentId,
    jobId: input.jobId,
    windows,
    facts,
    watermark: input.facts.manifest?.watermark ?? null,
  });
  return {
    inputRows: [...inputRows, ...factsSpanInputRows(facts)],
    params,
    fromFacts: true,
    shape: windows.length === 1 ? 'one-date' : weekApart(windows) ? 'weeks' : 'dates',
    dates,
    windows,
  };
}

const WEEK_MS = 7 * DAY_MS;

/** Several dates, each a week after the one before. */
function weekApart(windows: readonly RollupDate[]): boolean {
  return (
    windows.length > 1 &&
    windows.every((w, i) => i === 0 || w.d.getTime() - (windows[i - 1] as RollupDate).d.getTime() === WEEK_MS)
  );
}

/**
 * The text a prepared job's parameters are for: the full recompute, the facts-reading
 * text in its shape (the company export workflow's Choice picks the same).
 */
export function preparedRollupSql(
  dialect: SqlDialectName,
  prepared: Pick<PreparedCompanyRollup, 'fromFacts' | 'shape'>,
): string {
  return prepared.fromFacts ? companyRollupFromFactsSqlOfShape(dialect, prepared.shape) : companyRollupSql(dialect);
}
