import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBResult,
  DuckDBTypeId,
  type Json,
  JsonDuckDBValueConverter,
  StatementType,
} from '@duckdb/node-api';
import {
  EXPORT_INPUT_COLUMNS,
  EXPORT_INPUTS_TABLE_NAME,
  type ExportInputColumnType,
} from '../../contract/export-inputs.ts';
import {
  COMPANY_FACT_COLUMNS,
  COMPANY_FACT_PARTITION_COLUMNS,
  COMPANY_FACTS_TABLE_NAME,
  factsBuildPrefix,
} from '../../contract/facts.ts';
import {
  EVENT_COLUMNS,
  EVENT_PARTITION_COLUMNS,
  EVENTS_TABLE_NAME,
  type LakeColumnType,
  lakeShard,
} from '../../contract/lake.ts';
import { assertReadOnlyQuery, queryTimedOut } from '../../core/environments/sql-guard.ts';
import { ValidationError } from '../../core/shared/errors.ts';
import type { FactsBuildWriter } from '../../ports/company-facts.ts';
import {
  type CsvQueryEngine,
  jsonRowBytes,
  type QueryEngine,
  type QueryParam,
  type QueryRow,
  type ReadRowsOptions,
} from '../../ports/query-engine.ts';

/** DuckDB types for the lake columns; Parquet files written with them read back in Athena with the Glue types. */
const DUCKDB_TYPE: Record<LakeColumnType, string> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

const INPUT_DUCKDB_TYPE: Record<ExportInputColumnType, string> = { string: 'VARCHAR', int: 'INTEGER' };

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
/** Only for paths this process chose itself (never for values a client sent: those are bound). */
const pathLiteral = (path: string) => `'${path.replaceAll("'", "''")}'`;

async function openDuckDb(options: { threads?: number } = {}): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(':memory:', {
    // No network here, and no surprise downloads: parquet and json are built in.
    autoinstall_known_extensions: 'false',
    ...(options.threads ? { threads: String(options.threads) } : {}),
  });
  const connection = await instance.connect();
  // Instants in the lake are UTC, as Athena's are.
  await connection.run("SET TimeZone = 'UTC'");
  connection.closeSync();
  return instance;
}

const PARTITION_KEYS = EVENT_PARTITION_COLUMNS.map((c) => c.name);
/** The facts table's columns in the Glue table's order: the columns, then the partition key. */
const FACT_ROW_COLUMNS = [...COMPANY_FACT_COLUMNS, ...COMPANY_FACT_PARTITION_COLUMNS];
/** Where facts builds are written before they move into the table's folder (outside the table's glob). */
const FACTS_STAGING = '_facts_staging';
/** Every column of a lake row in the Glue table's order: the columns, then the partition keys. */
const EVENT_ROW_COLUMNS = [...EVENT_COLUMNS, ...EVENT_PARTITION_COLUMNS];

/**
 * Compacts log segments into the lake: `<lakeDir>/events/shard=…/received=…/<segment>-<i>.parquet`,
 * the layout Firehose writes on AWS.
 * Files are written to a staging folder and renamed into place, so a crash never
 * leaves a half-written Parquet file where queries read; a segment compacted twice
 * (crash before its log file was removed) overwrites the same file names.
 */
export class DuckDbLakeCompactor {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly lakeDir: string,
  ) {}

  static async open(lakeDir: string): Promise<DuckDbLakeCompactor> {
    await rm(join(lakeDir, '_staging'), { recursive: true, force: true });
    await mkdir(join(lakeDir, EVENTS_TABLE_NAME), { recursive: true });
    // Compaction runs beside the API in one process: one thread keeps it from taking
    // every core away from requests that wait on their fsync.
    return new DuckDbLakeCompactor(await openDuckDb({ threads: 1 }), lakeDir);
  }

  readonly compact = async (segmentPath: string, segmentName: string): Promise<void> => {
    const staging = join(this.lakeDir, '_staging', segmentName);
    await rm(staging, { recursive: true, force: true });
    await mkdir(dirname(staging), { recursive: true });
    const readTypes = EVENT_ROW_COLUMNS.map(
      (c) => `${ident(c.name)}: '${c.type === 'timestamp' ? 'VARCHAR' : DUCKDB_TYPE[c.type]}'`,
    );
    const select = EVENT_ROW_COLUMNS.map((c) =>
      c.type === 'timestamp' ? `CAST(${ident(c.name)} AS TIMESTAMP) AS ${ident(c.name)}` : ident(c.name),
    ).join(', ');
    const connection = await this.instance.connect();
    try {
      await connection.run(
        `COPY (SELECT ${select} FROM read_json(${pathLiteral(segmentPath)}, format = 'newline_delimited', columns = {${readTypes.join(', ')}}))
         TO ${pathLiteral(staging)} (FORMAT parquet, PARTITION_BY (${PARTITION_KEYS.map(ident).join(', ')}), FILENAME_PATTERN '${segmentName}-{i}', OVERWRITE true)`,
      );
    } finally {
      connection.closeSync();
    }
    for (const file of await listFiles(staging)) {
      const target = join(this.lakeDir, EVENTS_TABLE_NAME, relative(staging, file));
      await fsyncPath(file);
      await mkdir(dirname(target), { recursive: true });
      await rename(file, target);
      await fsyncPath(dirname(target));
    }
    await rm(staging, { recursive: true, force: true });
  };

  close(): void {
    this.instance.closeSync();
  }
}

/** Which directories the engine serves, and where it may write CSV files. */
export interface DuckDbQueryEngineOptions {
  readonly lakeDir: string;
  /** Runs before every query (the local stack compacts the event log into the lake here). */
  readonly beforeQuery?: () => Promise<void>;
  /**
   * The one folder `runToCsv` may write into. DuckDB's `allowed_directories` lock is
   * set once at open and can never be widened, so the folder is fixed here.
   */
  readonly csvOutputDir?: string;
  /**
   * DuckDB's `memory_limit`, e.g. `1GB`. Past it, sorts, joins, aggregates and
   * windows spill to `spillDir`, so a large export runs in bounded memory.
   * @default DuckDB's own: 80% of the machine's memory
   */
  readonly memoryLimit?: string;
  /** Where DuckDB spills past `memoryLimit` (inside the allowed directories). @default none: no spilling */
  readonly spillDir?: string;
  /**
   * How long `readRows` (admin SQL) may run before its query is interrupted. The default
   * answers inside API Gateway's 30-second limit, as the Athena engine's does.
   * @default 25000
   */
  readonly readTimeoutMs?: number;
}

const DEFAULT_READ_TIMEOUT_MS = 25_000;

const MEMORY_LIMIT = /^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

/**
 * The local Athena: DuckDB over the lake's Parquet files, as the view `events`
 * with the same columns and `shard`/`received` partition columns as the Glue table, and
 * over the rollup's per-job inputs (JSON lines) as the view `export_inputs`.
 * The instance may read nothing outside the lake's `events` and `export_inputs`
 * folders and write nothing outside `csvOutputDir`; `readRows` runs only a single
 * SELECT, so `POST /admin/v1/sql` is read-only.
 */
export class DuckDbQueryEngine implements QueryEngine, CsvQueryEngine, FactsBuildWriter {
  private eventsViewHasFiles: boolean | undefined;
  private inputsViewHasFiles: boolean | undefined;
  private factsViewHasFiles: boolean | undefined;
  /** Concurrent queries would otherwise replace a view at once: a DuckDB write-write conflict. */
  private viewRefresh: Promise<void> = Promise.resolve();
  /** The texts `runToCsv` has found to be one SELECT (our own few query texts). */
  private readonly csvQueriesChecked = new Set<string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly eventsDir: string,
    private readonly inputsDir: string,
    private readonly factsDir: string,
    private readonly factsStagingDir: string,
    private readonly csvOutputDir: string | undefined,
    private readonly beforeQuery: () => Promise<void>,
    private readonly readTimeoutMs: number,
  ) {}

  static async open(options: DuckDbQueryEngineOptions): Promise<DuckDbQueryEngine> {
    const eventsDir = resolve(options.lakeDir, EVENTS_TABLE_NAME);
    const inputsDir = resolve(options.lakeDir, EXPORT_INPUTS_TABLE_NAME);
    const factsDir = resolve(options.lakeDir, COMPANY_FACTS_TABLE_NAME);
    const factsStagingDir = resolve(options.lakeDir, FACTS_STAGING);
    const csvOutputDir = options.csvOutputDir === undefined ? undefined : resolve(options.csvOutputDir);
    const spillDir = options.spillDir === undefined ? undefined : resolve(options.spillDir);
    if (options.memoryLimit !== undefined && !MEMORY_LIMIT.test(options.memoryLimit)) {
      throw new Error(`DuckDbQueryEngine: memoryLimit must be a size such as 1GB or 512MB, not ${options.memoryLimit}`);
    }
    const allowed = [
      eventsDir,
      inputsDir,
      factsDir,
      factsStagingDir,
      ...(csvOutputDir ? [csvOutputDir] : []),
      ...(spillDir ? [spillDir] : []),
    ];
    for (const dir of allowed) await mkdir(dir, { recursive: true });
    const instance = await openDuckDb();
    const connection = await instance.connect();
    try {
      if (options.memoryLimit) await connection.run(`SET memory_limit = '${options.memoryLimit}'`);
      if (spillDir) await connection.run(`SET temp_directory = ${pathLiteral(spillDir)}`);
      await connection.run(`SET allowed_directories = [${allowed.map((dir) => pathLiteral(`${dir}/`)).join(', ')}]`);
      await connection.run('SET enable_external_access = false');
      await connection.run('SET lock_configuration = true');
    } finally {
      connection.closeSync();
    }
    return new DuckDbQueryEngine(
      instance,
      eventsDir,
      inputsDir,
      factsDir,
      factsStagingDir,
      csvOutputDir,
      options.beforeQuery ?? (async () => {}),
      options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
    );
  }

  async readRows(sql: string, params: readonly QueryParam[] = [], options: ReadRowsOptions = {}): Promise<QueryRow[]> {
    // The same text guard as on Athena, so admin SQL is accepted or refused alike on both.
    assertReadOnlyQuery(sql);
    await this.beforeQuery();
    const connection = await this.instance.connect();
    // Past the time limit the query is interrupted where it runs: abandoning the promise
    // would leave DuckDB's threads on it for as long as it takes.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      connection.interrupt();
    }, this.readTimeoutMs);
    try {
      await this.refreshViews(connection);
      const statements = await connection.extractStatements(sql);
      if (statements.count !== 1) {
        throw new ValidationError([
          { field: 'sql', problem: `must be exactly one statement, got ${statements.count}` },
        ]);
      }
      const prepared = await statements.prepare(0);
      if (prepared.statementType !== StatementType.SELECT) {
        throw new ValidationError([{ field: 'sql', problem: 'must be a read-only query (SELECT or WITH)' }]);
      }
      prepared.bind(params as Parameters<typeof prepared.bind>[0]);
      // Streamed, so DuckDB computes only the chunks read; reading stops at the bounds.
      return await readBounded(await prepared.stream(), options);
    } catch (error) {
      if (timedOut) throw queryTimedOut(this.readTimeoutMs);
      if (error instanceof ValidationError) throw error;
      // The lake was readable (beforeQuery succeeded): what fails now is the query text.
      throw new ValidationError([{ field: 'sql', problem: (error as Error).message.split('\n')[0] ?? 'is invalid' }]);
    } finally {
      clearTimeout(timer);
      connection.closeSync();
    }
  }

  /**
   * Runs one of our own queries (never a client's text) and streams its result into a
   * CSV file with DuckDB's COPY: header row, RFC 4180 quoting only where needed, NULL
   * as an empty field. No row becomes a JS object, so memory stays flat however many
   * rows there are. The file appears under its name only once complete.
   */
  async runToCsv(sql: string, params: readonly QueryParam[], destinationPath: string): Promise<{ rows: number }> {
    const destination = this.outputPath(destinationPath);
    const partial = `${destination}.partial`;
    try {
      const rows = await this.copy(
        sql,
        params,
        `TO ${pathLiteral(partial)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"')`,
        dirname(destination),
      );
      await rename(partial, destination);
      return { rows };
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /**
   * Athena's `UNLOAD … WITH (format = 'TEXTFILE', compression = 'GZIP')` of a
   * one-column query, played by DuckDB: each row's text as it is (no quoting, no
   * escaping: QUOTE and ESCAPE empty, and one column never meets the delimiter)
   * followed by `\n`, into gzip files `data_<n>.csv.gz` in `destinationDir` (a new
   * folder), a file ending once it passes about `fileSizeBytes`. Like Athena's
   * writers, DuckDB's write from several threads: the rows keep no global order. A
   * failed run leaves no folder.
   */
  async unloadToTextFiles(
    sql: string,
    params: readonly QueryParam[],
    destinationDir: string,
    options: { readonly fileSizeBytes: number },
  ): Promise<{ rows: number }> {
    const destination = this.outputPath(destinationDir);
    if (!Number.isSafeInteger(options.fileSizeBytes) || options.fileSizeBytes < 1) {
      throw new Error(`unloadToTextFiles: fileSizeBytes must be a positive integer, not ${options.fileSizeBytes}`);
    }
    try {
      const rows = await this.copy(
        sql,
        params,
        `TO ${pathLiteral(destination)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER ',', ` +
          `COMPRESSION gzip, FILE_SIZE_BYTES ${options.fileSizeBytes})`,
        destination,
      );
      return { rows };
    } catch (error) {
      await rm(destination, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * The local stand-in for the facts build's UNLOAD: runs the build query (one of our
   * own texts) and writes its rows as one Parquet file into a staging folder, then
   * moves the folder to `factsBuildPrefix` in one rename, so the build's folder
   * appears whole or not at all (a build killed midway leaves only staging, which the
   * next build of the same id, or cleanup, removes). Exports read a build only once
   * the manifest names it, whatever lies in the folder.
   */
  async writeFactsBuild(
    sql: string,
    params: readonly QueryParam[],
    environmentId: string,
    buildId: string,
  ): Promise<{ rows: number }> {
    const target = join(this.factsDir, '..', factsBuildPrefix(lakeShard(environmentId), environmentId, buildId));
    const staging = join(this.factsStagingDir, buildId);
    await removeStaleStaging(this.factsStagingDir);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    try {
      const file = join(staging, 'part-0.parquet');
      const rows = await this.copy(sql, params, `TO ${pathLiteral(file)} (FORMAT parquet)`, staging);
      await fsyncPath(file);
      await mkdir(dirname(resolve(target)), { recursive: true });
      await rename(staging, resolve(target));
      await fsyncPath(dirname(resolve(target)));
      return { rows };
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /** A path inside csvOutputDir, the one folder DuckDB may write into. */
  private outputPath(path: string): string {
    const destination = resolve(path);
    if (!this.csvOutputDir || !destination.startsWith(`${this.csvOutputDir}${sep}`)) {
      throw new Error(
        `query output goes only inside the engine's csvOutputDir (${this.csvOutputDir ?? 'none configured'}), not ${destination}`,
      );
    }
    return destination;
  }

  /** `COPY (<sql>) <target>` with `params` bound, once `sql` is known to be one SELECT. */
  private async copy(sql: string, params: readonly QueryParam[], target: string, folder: string): Promise<number> {
    await this.beforeQuery();
    const connection = await this.instance.connect();
    try {
      await this.refreshViews(connection);
      // Planning the text to learn its type costs as much as the COPY's own planning, and an
      // export sends one text per week (523 for ten years): check each text once.
      if (!this.csvQueriesChecked.has(sql)) {
        const statements = await connection.extractStatements(sql);
        if (statements.count !== 1 || (await statements.prepare(0)).statementType !== StatementType.SELECT) {
          throw new Error('a query output takes exactly one SELECT statement');
        }
        this.csvQueriesChecked.add(sql);
      }
      await mkdir(folder, { recursive: true });
      const prepared = await connection.prepare(`COPY (${sql}) ${target}`);
      prepared.bind(params as Parameters<typeof prepared.bind>[0]);
      const result = await prepared.run();
      return Number(result.rowsChanged);
    } finally {
      connection.closeSync();
    }
  }
  close(): void {
    this.instance.closeSync();
  }

  private refreshViews(connection: DuckDBConnection): Promise<void> {
    const run = this.viewRefresh.then(() => this.replaceViews(connection));
    this.viewRefresh = run.catch(() => undefined);
    return run;
  }

  private async replaceViews(connection: DuckDBConnection): Promise<void> {
    const eventsGlob = `${this.eventsDir}/**/*.parquet`;
    // Lake files are never removed, so once there are some the glob need not run again.
    const eventsHaveFiles = this.eventsViewHasFiles === true || (await hasFiles(connection, eventsGlob));
    if (eventsHaveFiles !== this.eventsViewHasFiles) {
      const body = eventsHaveFiles
        ? // Columns named in the Glue table's order (DuckDB would put hive keys alphabetically).
          `SELECT ${EVENT_ROW_COLUMNS.map((c) => ident(c.name)).join(', ')} FROM read_parquet(${pathLiteral(eventsGlob)}, hive_partitioning = true, hive_types = {${EVENT_PARTITION_COLUMNS.map((c) => `${ident(c.name)}: ${DUCKDB_TYPE[c.type]}`).join(', ')}})`
        : `SELECT ${EVENT_ROW_COLUMNS.map((c) => `CAST(NULL AS ${DUCKDB_TYPE[c.type]}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
      await connection.run(`CREATE OR REPLACE VIEW ${ident(EVENTS_TABLE_NAME)} AS ${body}`);
      this.eventsViewHasFiles = eventsHaveFiles;
    }
    // Facts builds come and go (cleanup deletes retired ones), so the view is re-checked too.
    const factsGlob = `${this.factsDir}/**/*.parquet`;
    const factsHaveFiles = await hasFiles(connection, factsGlob);
    if (factsHaveFiles !== this.factsViewHasFiles) {
      const body = factsHaveFiles
        ? `SELECT ${FACT_ROW_COLUMNS.map((c) => ident(c.name)).join(', ')} FROM read_parquet(${pathLiteral(factsGlob)}, hive_partitioning = true, hive_types = {${COMPANY_FACT_PARTITION_COLUMNS.map((c) => `${ident(c.name)}: ${DUCKDB_TYPE[c.type]}`).join(', ')}})`
        : `SELECT ${FACT_ROW_COLUMNS.map((c) => `CAST(NULL AS ${DUCKDB_TYPE[c.type]}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
      await connection.run(`CREATE OR REPLACE VIEW ${ident(COMPANY_FACTS_TABLE_NAME)} AS ${body}`);
      this.factsViewHasFiles = factsHaveFiles;
    }
    // Inputs files come and go with jobs, so the view is re-checked before every query.
    const inputsGlob = `${this.inputsDir}/*.json`;
    const inputsHaveFiles = await hasFiles(connection, inputsGlob);
    if (inputsHaveFiles !== this.inputsViewHasFiles) {
      const body = inputsHaveFiles
        ? `SELECT * FROM read_json(${pathLiteral(inputsGlob)}, format = 'newline_delimited', hive_partitioning = false, columns = {${EXPORT_INPUT_COLUMNS.map((c) => `${ident(c.name)}: '${INPUT_DUCKDB_TYPE[c.type]}'`).join(', ')}})`
        : `SELECT ${EXPORT_INPUT_COLUMNS.map((c) => `CAST(NULL AS ${INPUT_DUCKDB_TYPE[c.type]}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
      await connection.run(`CREATE OR REPLACE VIEW ${ident(EXPORT_INPUTS_TABLE_NAME)} AS ${body}`);
      this.inputsViewHasFiles = inputsHaveFiles;
    }
  }
}

/** Staging folders a day old are what killed builds left behind (a live build takes minutes). */
async function removeStaleStaging(dir: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    const info = await stat(path).catch(() => undefined);
    if (info && info.mtimeMs < dayAgo) await rm(path, { recursive: true, force: true });
  }
}

async function hasFiles(connection: DuckDBConnection, glob: string): Promise<boolean> {
  const files = await connection.runAndReadAll(
    `SELECT count(*) AS n FROM (SELECT 1 FROM glob(${pathLiteral(glob)}) LIMIT 1)`,
  );
  return Number(files.getRows()[0]?.[0] ?? 0) > 0;
}

/**
 * Reads a streamed result a chunk (2,048 rows) at a time until it ends or a bound is
 * reached, converting row by row, so neither DuckDB nor the heap ever holds the whole
 * result (a 3M-row result as JS objects took 3.6 GB).
 */
async function readBounded(result: DuckDBResult, options: ReadRowsOptions): Promise<QueryRow[]> {
  const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const names = result.columnNames();
  const typeIds = result.columnTypes().map((type) => type.typeId);
  const rows: QueryRow[] = [];
  let bytes = 0;
  while (rows.length < maxRows && bytes <= maxBytes) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (let i = 0; i < chunk.rowCount && rows.length < maxRows && bytes <= maxBytes; i++) {
      const row = toRow(names, typeIds, chunk.convertRowValues(i, JsonDuckDBValueConverter));
      if (maxBytes !== Number.POSITIVE_INFINITY) bytes += jsonRowBytes(row);
      rows.push(row);
    }
  }
  return rows;
}

/** A row as JSON-friendly values: instants as ISO-8601 `Z` strings, safe integers as numbers. */
function toRow(names: readonly string[], typeIds: readonly DuckDBTypeId[], values: readonly Json[]): QueryRow {
  const out: QueryRow = {};
  names.forEach((name, i) => {
    const value = values[i];
    const typeId = typeIds[i];
    if (value === null || value === undefined) out[name] = null;
    else if (
      (typeId === DuckDBTypeId.TIMESTAMP ||
        typeId === DuckDBTypeId.TIMESTAMP_MS ||
        typeId === DuckDBTypeId.TIMESTAMP_TZ ||
        typeId === DuckDBTypeId.TIMESTAMP_S ||
        typeId === DuckDBTypeId.TIMESTAMP_NS) &&
      typeof value === 'string'
    ) {
      out[name] = isoInstant(value);
    } else if (
      (typeId === DuckDBTypeId.BIGINT || typeId === DuckDBTypeId.HUGEINT || typeId === DuckDBTypeId.UBIGINT) &&
      typeof value === 'string' &&
      Number.isSafeInteger(Number(value))
    ) {
      out[name] = Number(value);
    } else out[name] = value;
  });
  return out;
}

/** `2026-01-01 12:00:00.123` (or with `+00`) → `2026-01-01T12:00:00.123Z`. */
function isoInstant(text: string): string {
  const parsed = new Date(`${text.replace(' ', 'T').replace(/\+00(:?00)?$/, '')}Z`);
  return Number.isNaN(parsed.getTime()) ? text : parsed.toISOString();
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
