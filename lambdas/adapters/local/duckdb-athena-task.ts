import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fromAthenaLiteral } from '../../core/athena-literals.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { parseS3Url } from '../../ports/object-store.ts';
import type { QueryParam } from '../../ports/query-engine.ts';
import type { LocalTaskHandler } from './local-workflow-runner.ts';

export interface CsvQueryRunner {
  runToCsv(sql: string, params: readonly QueryParam[], destinationPath: string): Promise<{ rows: number }>;
}

/** A Task failure shaped as Step Functions reports a failed Athena query, so the same Catch reads it. */
class AthenaTaskFailure extends Error {
  override readonly name = 'States.TaskFailed';
}

/**
 * The local stand-in for `arn:aws:states:::athena:startQueryExecution.sync`. It takes
 * the very state input Step Functions would send Athena, runs the DuckDB text of the
 * same query (`dialects` maps each Trino text the workflows send to its DuckDB twin)
 * with the same parameters, writes the CSV where Athena would (the results bucket,
 * here s3rver), and answers with the fields of Athena's answer the workflows read.
 */
export function duckDbAthenaTask(options: {
  readonly engine: CsvQueryRunner;
  readonly files: Pick<ObjectStore, 'write'>;
  readonly dialects: ReadonlyMap<string, string>;
  readonly scratchDir: string;
}): LocalTaskHandler {
  return async (input) => {
    const request = input as {
      QueryString?: string;
      ExecutionParameters?: string[];
      ResultConfiguration?: { OutputLocation?: string };
    };
    const sql = options.dialects.get(request.QueryString ?? '');
    if (!sql) throw new AthenaTaskFailure('The local Athena stand-in does not know this query text.');
    const location = request.ResultConfiguration?.OutputLocation ?? '';
    const queryExecutionId = randomUUID();
    const { bucket, key: prefix } = parseS3Url(location.endsWith('/') ? `${location}x` : location);
    const key = `${prefix.replace(/x$/, '')}${queryExecutionId}.csv`;
    await mkdir(options.scratchDir, { recursive: true });
    const file = join(options.scratchDir, `${queryExecutionId}.csv`);
    try {
      await options.engine.runToCsv(sql, (request.ExecutionParameters ?? []).map(fromAthenaLiteral), file);
      await options.files.write(bucket, key, createReadStream(file), 'text/csv');
    } catch (error) {
      throw new AthenaTaskFailure(
        JSON.stringify({
          QueryExecution: {
            QueryExecutionId: queryExecutionId,
            Status: { State: 'FAILED', StateChangeReason: (error as Error).message.split('\n')[0] },
          },
        }),
      );
    } finally {
      await rm(file, { force: true });
    }
    return {
      QueryExecution: {
        QueryExecutionId: queryExecutionId,
        Query: request.QueryString ?? '',
        ResultConfiguration: { OutputLocation: `s3://${bucket}/${key}` },
        Status: { State: 'SUCCEEDED' },
      },
    };
  };
}
