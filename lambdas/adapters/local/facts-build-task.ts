import { randomUUID } from 'node:crypto';
import { COMPANY_FACTS_TABLE_NAME } from '../../contract/facts.ts';
import { fromAthenaLiteral } from '../../core/shared/athena-literals.ts';
import type { FactsBuildWriter } from '../../ports/company-facts.ts';
import type { LocalTaskHandler } from './local-workflow-runner.ts';

/**
 * The one UNLOAD the daily facts workflow sends (workflows/daily-facts.ts): Parquet
 * into a build's own prefix of the lake bucket, `company_facts/shard=<n>/<app>/<build>/`.
 */
const FACTS_UNLOAD = new RegExp(
  `^UNLOAD \\([\\s\\S]*\\) TO 's3://[^/'\\s]+/${COMPANY_FACTS_TABLE_NAME}/shard=(\\d+)/([A-Za-z0-9_-]+)/([^/'\\s]+)/' WITH \\(format = 'PARQUET', compression = 'SNAPPY'\\)$`,
);

/** A Task failure shaped as Step Functions reports a failed Athena query, so the same Catch reads it. */
class AthenaTaskFailure extends Error {
  override readonly name = 'States.TaskFailed';
}

/**
 * The local stand-in for the facts workflow's BuildCompanyFacts state (Athena's
 * `startQueryExecution.sync` of the UNLOAD): it takes the very state input Step
 * Functions would send Athena, reads the environment and build id from the UNLOAD's
 * destination, and has the local writer run the build query's DuckDB text with the
 * same parameters into that build's folder of the local lake (DuckDB's COPY, all
 * files visible at once or none). A failure answers as Athena's would.
 */
export function factsBuildTask(options: {
  readonly writer: FactsBuildWriter;
  /** The DuckDB text of the build query (its spec's `duckdb`). */
  readonly sql: string;
}): LocalTaskHandler {
  return async (input) => {
    const request = input as { QueryString?: string; ExecutionParameters?: string[] };
    const queryExecutionId = randomUUID();
    const fail = (reason: string) =>
      new AthenaTaskFailure(
        JSON.stringify({
          QueryExecution: {
            QueryExecutionId: queryExecutionId,
            Status: { State: 'FAILED', StateChangeReason: reason },
          },
        }),
      );
    const match = FACTS_UNLOAD.exec(request.QueryString ?? '');
    if (!match) throw fail('not the daily facts UNLOAD this stand-in runs');
    const [, , environmentId = '', buildId = ''] = match;
    const params = (request.ExecutionParameters ?? []).map(fromAthenaLiteral);
    try {
      await options.writer.writeFactsBuild(options.sql, params, environmentId, buildId);
    } catch (error) {
      throw fail((error as Error).message.split('\n')[0] ?? 'failed');
    }
    return {
      QueryExecution: {
        QueryExecutionId: queryExecutionId,
        Query: request.QueryString ?? '',
        ResultConfiguration: { OutputLocation: `s3://local/${queryExecutionId}` },
        Status: { State: 'SUCCEEDED' },
      },
    };
  };
}
