import { describe, expect, it } from 'vitest';
import { companyFactsBuildSql } from '../../lambdas/core/company-export/facts/sql.ts';
import type { SqlDialectName } from '../../lambdas/core/company-export/rollup/dialect.ts';
import {
  companyRollupFromFactsSql,
  companyRollupOneDateFromFactsSql,
  companyRollupSql,
  companyRollupWeeklyFromFactsSql,
} from '../../lambdas/core/company-export/rollup/sql.ts';

const DIALECTS: SqlDialectName[] = ['trino', 'duckdb'];

// The rollup's text is assembled from one builder per CTE family; these files pin the
// assembled text, so that reshaping the builders cannot change what Athena or DuckDB run.
// A deliberate change to the query rewrites them with `npx vitest run -u test/unit/rollup-sql-text.test.ts`.
describe.each(DIALECTS)('company rollup text (%s)', (dialect) => {
  it('is byte for byte the text in its fixture', async () => {
    await expect(companyRollupSql(dialect)).toMatchFileSnapshot(`./fixtures/company-rollup.${dialect}.sql`);
  });

  it('from facts: is byte for byte the text in its fixture', async () => {
    await expect(companyRollupFromFactsSql(dialect)).toMatchFileSnapshot(
      `./fixtures/company-rollup-from-facts.${dialect}.sql`,
    );
  });

  it('from facts, one date: is byte for byte the text in its fixture', async () => {
    await expect(companyRollupOneDateFromFactsSql(dialect)).toMatchFileSnapshot(
      `./fixtures/company-rollup-one-date-from-facts.${dialect}.sql`,
    );
  });

  it('from facts, weekly: is byte for byte the text in its fixture', async () => {
    await expect(companyRollupWeeklyFromFactsSql(dialect)).toMatchFileSnapshot(
      `./fixtures/company-rollup-weekly-from-facts.${dialect}.sql`,
    );
  });

  it('facts build: is byte for byte the text in its fixture', async () => {
    await expect(companyFactsBuildSql(dialect)).toMatchFileSnapshot(`./fixtures/company-facts-build.${dialect}.sql`);
  });
});
