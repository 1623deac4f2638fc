/** The company feature-adoption rollup: its SQL, its inputs table, its dates. */
export { DIALECTS, type SqlDialect, type SqlDialectName } from './dialect.ts';
export {
  assertJobId,
  type ExportInputRow,
  exportInputRows,
  exportInputsJsonLines,
  exportInputsKey,
  JOB_ID_PATTERN,
} from './inputs.ts';
export {
  type PrepareCompanyRollupInput,
  type PreparedCompanyRollup,
  prepareCompanyRollup,
  preparedRollupSql,
} from './prepare.ts';
export {
  COMPANY_ROLLUP_PARAM_NAMES,
  companyRollupFromFactsSql,
  companyRollupOneDateFromFactsSql,
  companyRollupParams,
  companyRollupSql,
  companyRollupWeeklyFromFactsSql,
} from './sql.ts';
export {
  COMPANY_EXPORT_HEADER,
  ROLLUP_AGGREGATIONS,
  type RollupAggregation,
  type RollupCatalog,
  type RollupDate,
  type RollupFeature,
  type RollupSegment,
} from './types.ts';
export { aggregationWindows, lastDateBefore } from './windows.ts';
