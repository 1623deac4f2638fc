/**
 * The daily facts' two queries, one text per dialect like the rollup's, every value a
 * `?` in a WHERE clause:
 * - the plan: which closed days received records since the watermark (so their facts
 *   are stale), reading only the `received` partitions since then;
 * - the build: the facts rows (lambdas/contract/facts.ts, COMPANY_FACT_COLUMNS in
 *   order) of the days the build's `export_inputs` rows (kind `build_span`, job id =
 *   the build id) name, for records received before the cutoff, de-duplicated by
 *   event_id over the whole lake as of the cutoff (the copy received first wins,
 *   then the earlier timestamp).
 */
import type { QueryParam } from '../../shared/query-param.ts';
import type { SqlDialectName } from '../rollup/dialect.ts';

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
  throw new Error('facts: companyFactsPlanSql not yet implemented');
}

export function companyFactsPlanParams(_input: CompanyFactsPlanParamsInput): QueryParam[] {
  throw new Error('facts: companyFactsPlanParams not yet implemented');
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

/** The build query: a SELECT of the facts rows, to be UNLOADed (Athena, Parquet) / COPied (DuckDB) to the build's prefix. */
export function companyFactsBuildSql(_dialect: SqlDialectName): string {
  throw new Error('facts: companyFactsBuildSql not yet implemented');
}

export function companyFactsBuildParams(_input: CompanyFactsBuildParamsInput): QueryParam[] {
  throw new Error('facts: companyFactsBuildParams not yet implemented');
}
