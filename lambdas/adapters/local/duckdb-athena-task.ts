import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fromAthenaLiteral } from '../../core/shared/athena-literals.ts';
import { parseS3Url } from '../../core/shared/s3-url.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { QueryParam } from '../../ports/query-engine.ts';
import type { LocalTaskHandler } from './local-workflow-runner.ts';

export interface CsvQueryRunner {
  runToCsv(sql: string, params: readonly QueryParam[], destinationPath: string): Promise<{ rows: number }>;
}

/** Plays Athena's TEXTFILE, GZIP UNLOAD of a one-column query into gzip files in a new folder. */
export interface TextFileUnloader {
  unloadToTextFiles(
    sql: string,
    params: readonly QueryParam[],
    destinationDir: string,
    options: { readonly fileSizeBytes: number },
  ): Promise<{ rows: number }>;
}

/**
 * `UNLOAD (<query>) TO 's3://…/' WITH (format = 'TEXTFILE', compression = 'GZIP')`,
 * the one UNLOAD form our workflows send (workflows/events-export.ts).
 */
const UNLOAD = /^UNLOAD \([\s\S]*\) TO '(s3:\/\/[^'\s]+\/)' WITH \(format = 'TEXTFILE', compression = 'GZIP'\)$/;

/** Where the stand-in puts an UNLOAD's files: S3 (s3rver), where the steps Lambda copies them from. */
export interface LocalUnload {
  readonly engine: TextFileUnloader;
  readonly store: Pick<ObjectStore, 'list' | 'write'>;
  /** About how large each file grows before the next starts (Athena splits its output too). */
  readonly fileSizeBytes: number;
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
 * with the fields of Athena's answer the workflows read. A query text that is an
 * UNLOAD (of `sql`'s Trino twin) writes gzip text files under its `TO` location
 * instead, refused as Athena refuses it when that location holds anything.
 */
export function duckDbAthenaTask(options: {
  readonly engine: CsvQueryRunner;
  readonly files: ResultFiles;
  /** The DuckDB text of the query the Task state sends Athena in Trino. */
  readonly sql: string;
  readonly scratchDir: string;
  /** How UNLOAD runs; without it an UNLOAD fails. */
  readonly unload?: LocalUnload;
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
    const unloadTo = UNLOAD.exec(request.QueryString ?? '')?.[1];
    // An UNLOAD's results location would hold only Athena's manifest, which nothing here reads.
    const key = `${prefix.replace(/x$/, '')}${queryExecutionId}${unloadTo ? '' : '.csv'}`;
    await mkdir(options.scratchDir, { recursive: true });
    const file = join(options.scratchDir, `${queryExecutionId}.csv`);
    const params = (request.ExecutionParameters ?? []).map(fromAthenaLiteral);
    try {
      if (unloadTo) await runUnload(options, params, unloadTo, join(options.scratchDir, queryExecutionId));
      else {
        await options.engine.runToCsv(options.sql, params, file);
        await options.files.writeFile(bucket, key, file, 'text/csv');
      }
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
      await rm(join(options.scratchDir, queryExecutionId), { recursive: true, force: true });
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

/** DuckDB's part files, `data_<n>.csv.gz`. */
const PART_FILE = /^data_(\d+)\.csv\.gz$/;

async function runUnload(
  options: { readonly sql: string; readonly unload?: LocalUnload },
  params: readonly QueryParam[],
  to: string,
  dir: string,
): Promise<void> {
  const unload = options.unload;
  if (!unload) throw new Error('UNLOAD is not available to this query');
  const { bucket, key: prefix } = parseS3Url(`${to}x`);
  const target = prefix.slice(0, -1);
  if ((await unload.store.list(bucket, target)).length > 0) {
    throw new Error(`HIVE_PATH_ALREADY_EXISTS: Target directory for UNLOAD is not empty: ${to}`);
  }
  await unload.engine.unloadToTextFiles(options.sql, params, dir, { fileSizeBytes: unload.fileSizeBytes });
  const parts = (await readdir(dir))
    .map((name) => ({ name, index: Number(PART_FILE.exec(name)?.[1] ?? Number.NaN) }))
    .filter((part) => Number.isInteger(part.index))
    .sort((a, b) => a.index - b.index);
  // Named in DuckDB's numbering, zero-padded so key order follows it (data_10 sorts before data_2).
  for (const part of parts) {
    await streamedResultFiles(unload.store).writeFile(
      bucket,
      `${target}${String(part.index).padStart(6, '0')}.gz`,
      join(dir, part.name),
      'application/gzip',
    );
  }
}
