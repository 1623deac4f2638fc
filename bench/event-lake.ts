/**
 * Generates a large `events` lake directly with DuckDB (no tracking API), in the
 * layout the local stack reads: `<lakeDir>/events/shard=<n>/received=<date>/*.parquet`,
 * with the columns and types of EVENT_COLUMNS. Deterministic: the same arguments
 * give the same rows.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { EVENTS_TABLE_NAME, lakeShard } from '../lambdas/contract/lake.ts';

export interface GeneratedLake {
  readonly rows: number;
  readonly from: string;
  readonly to: string;
}

/**
 * Runs `work` on an in-memory DuckDB set up for writing a generated lake: UTC,
 * enough open files for one Parquet file per day, insertion order not kept.
 */
export async function withGeneratorDuckDb<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    await connection.run('SET partitioned_write_max_open_files = 2000');
    await connection.run('SET preserve_insertion_order = false');
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function generateEventLake(options: {
  readonly lakeDir: string;
  readonly appId: string;
  readonly events: number;
  /** First day (UTC) of the generated events. */
  readonly from: string;
  readonly days: number;
}): Promise<GeneratedLake> {
  const eventsDir = join(options.lakeDir, EVENTS_TABLE_NAME);
  const staging = join(options.lakeDir, '_generated');
  await rm(staging, { recursive: true, force: true });
  await mkdir(eventsDir, { recursive: true });
  const spanMs = options.days * 86_400_000;
  await withGeneratorDuckDb(async (connection) => {
    const prepared = await connection.prepare(`
      COPY (
        WITH base AS (SELECT i, hash(i) AS h FROM range(CAST($events AS BIGINT)) r(i))
        SELECT
          'evt-' || lpad(CAST(i AS VARCHAR), 10, '0') AS event_id,
          CASE WHEN h % 100 < 2 THEN 'identify_company' WHEN h % 100 < 5 THEN 'identify_user'
            WHEN h % 100 < 7 THEN 'feedback' ELSE 'track' END AS event_type,
          CASE WHEN h % 100 >= 7 THEN 'Event ' || CAST((h >> 8) % 40 AS VARCHAR) END AS event_name,
          'user-' || CAST((h >> 16) % 100000 AS VARCHAR) AS user_id,
          CASE WHEN (h >> 24) % 10 = 0 THEN NULL ELSE 'company-' || CAST((h >> 32) % 5000 AS VARCHAR) END AS company_id,
          CASE WHEN h % 100 BETWEEN 5 AND 6 THEN 'feature-' || CAST((h >> 40) % 20 AS VARCHAR) END AS feature_id,
          CASE WHEN h % 100 = 5 THEN CAST(1 + (h >> 44) % 5 AS INTEGER) END AS score,
          CASE WHEN h % 100 = 6 THEN 'Works, mostly: "' || CAST((h >> 44) % 9 AS VARCHAR) || '"' END AS comment,
          CASE WHEN h % 3 = 0 THEN NULL
            ELSE '{"plan":"' || CASE (h >> 48) % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'enterprise' END || '","seats":' || CAST((h >> 50) % 500 AS VARCHAR)
              || ',"browser":"Firefox"}' END AS attributes,
          true AS context_active,
          CAST($from AS TIMESTAMP) + to_milliseconds(CAST((h >> 12) % CAST($span AS UBIGINT) AS BIGINT)) AS "timestamp",
          CAST($from AS TIMESTAMP) + to_milliseconds(CAST((h >> 12) % CAST($span AS UBIGINT) AS BIGINT) + 1500) AS received_at,
          CASE WHEN h % 2 = 0 THEN 'api' ELSE 'bulk' END AS source,
          CAST($app AS VARCHAR) AS app_id,
          strftime(CAST($from AS TIMESTAMP) + to_milliseconds(CAST((h >> 12) % CAST($span AS UBIGINT) AS BIGINT)), '%Y-%m-%d') AS dt,
          CAST($shard AS INTEGER) AS shard,
          strftime(CAST($from AS TIMESTAMP) + to_milliseconds(CAST((h >> 12) % CAST($span AS UBIGINT) AS BIGINT) + 1500), '%Y-%m-%d') AS received
        FROM base
      ) TO '${staging.replaceAll("'", "''")}' (FORMAT parquet, PARTITION_BY (shard, received), FILENAME_PATTERN 'generated-{i}')`);
    prepared.bind({
      events: BigInt(options.events),
      from: options.from,
      span: BigInt(spanMs),
      app: options.appId,
      shard: lakeShard(options.appId),
    } as never);
    await prepared.run();
  });
  // Moved into the lake folder whole, as the compactor does, so a query never sees a partial day.
  const { readdir, rename } = await import('node:fs/promises');
  for (const shard of await readdir(staging)) {
    await mkdir(join(eventsDir, shard), { recursive: true });
    for (const day of await readdir(join(staging, shard))) {
      await rename(join(staging, shard, day), join(eventsDir, shard, day));
    }
  }
  await rm(staging, { recursive: true, force: true });
  const to = new Date(Date.parse(`${options.from}T00:00:00Z`) + spanMs - 86_400_000).toISOString().slice(0, 10);
  return { rows: options.events, from: options.from, to };
}
