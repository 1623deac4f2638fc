import { randomUUID } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fromAthenaLiteral } from '../../core/shared/athena-literals.ts';
import { parseS3Url } from '../../core/shared/s3-url.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { QueryParam } from '../../ports/query-engine.ts';
import type { LocalTaskHandler } from './local-workflow-runner.ts';

export interface CsvQueryRunner {
  runToCsv(sql: string, params: readonly QueryParam[], destinationPath: string): Promise<{ rows: number }>;
}

/**
 * Where the task stores each finished result file, as Athena stores it in the
 * workgroup's bucket. The file at `path` stays the caller's: it is removed by the
 * caller once this resolves or rejects, so an implementation must be done with it
 * (every stream on it opened and closed) by then.
 */
export interface ResultFiles {
  writeFile(bucket: string, key: string, path: string, contentType: string): Promise<void>;
}

/**
 * ResultFiles over any object store that takes a stream (s3rver in tests). The
 * file is opened before the store sees it, so no open can happen after the caller
 * removes it; a read error that the store did not listen for fails the write
 * instead of being thrown on a stream nobody watches.
 */
export function streamedResultFiles(store: Pick<ObjectStore, 'write'>): ResultFiles {
  return {
    async writeFile(bucket, key, path, contentType) {
      const handle = await open(path, 'r');
      const body = handle.createReadStream();
      let readError: unknown;
      body.on('error', (error) => {
        readError ??= error;
      });
      try {
        await store.write(bucket, key, body, contentType);
        if (readError) throw readError;
      } finally {
        body.destroy();
        await handle.close().catch(() => undefined);
      }
    },
  };
}

/** A Task failure shaped as Step Functions reports a failed Athena query, so the same Catch reads it. */
class AthenaTaskFailure extends Error {
  override readonly name = 'States.TaskFailed';
}

/**
 * The local stand-in for one Task state's `arn:aws:states:::athena:startQueryExecution.sync`.
 * It takes the very state input Step Functions would send Athena, runs `sql` (the
 * DuckDB text of the state's query, from its workflow spec) with the same
 * parameters, writes the CSV where Athena would (the results bucket), and answers
 * with the fields of Athena's answer the workflows read.
 */
export function duckDbAthenaTask(options: {
  readonly engine: CsvQueryRunner;
  readonly files: ResultFiles;
  /** The DuckDB text of the query the Task state sends Athena in Trino. */
  readonly sql: string;
  readonly scratchDir: string;
}): LocalTaskHandler {
  return async (input) => {
    const request = input as {
      QueryString?: string;
      ExecutionParameters?: string[];
      ResultConfiguration?: { OutputLocation?: string };
    };
    const location = request.ResultConfiguration?.OutputLocation ?? '';
    const queryExecutionId = randomUUID();
    const { bucket, key: prefix } = parseS3Url(location.endsWith('/') ? `${location}x` : location);
    const key = `${prefix.replace(/x$/, '')}${queryExecutionId}.csv`;
    await mkdir(options.scratchDir, { recursive: true });
    const file = join(options.scratchDir, `${queryExecutionId}.csv`);
    try {
      await options.engine.runToCsv(options.sql, (request.ExecutionParameters ?? []).map(fromAthenaLiteral), file);
      await options.files.writeFile(bucket, key, file, 'text/csv');
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
