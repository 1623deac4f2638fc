import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsOutput,
  type QueryExecutionStatus,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { assertReadOnlyQuery } from '../../core/environments/sql-guard.ts';
import { toAthenaLiteral } from '../../core/shared/athena-literals.ts';
import { ValidationError } from '../../core/shared/errors.ts';

/** Athena's AthenaError.ErrorCategory for a fault in the query itself. */
const USER_ERROR = 2;

import {
  jsonRowBytes,
  type QueryEngine,
  type QueryParam,
  type QueryRow,
  type ReadRowsOptions,
} from '../../ports/query-engine.ts';

/** GetQueryResults returns at most 1,000 rows per page. */
const MAX_PAGE_SIZE = 1000;

export interface AthenaQueryEngineOptions {
  readonly client: AthenaClient;
  /** The workgroup fixes the results bucket and the per-query scan limit, so no OutputLocation is sent. */
  readonly workGroup: string;
  /** The Glue database holding the `events` table. */
  readonly database: string;
  /** @default 500 */
  readonly pollIntervalMs?: number;
  /**
   * How long a query may run before it is stopped. The default leaves room inside
   * API Gateway's 30-second integration limit for the admin SQL endpoint.
   * @default 25000
   */
  readonly timeoutMs?: number;
  /** Injected so tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds clock used for the timeout; injected with `sleep` in tests. @default Date.now */
  readonly now?: () => number;
}

/** How an Athena query ended when it did not succeed. */
export type AthenaQueryOutcome = 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

/**
 * A query that Athena did not complete. `reason` is Athena's StateChangeReason (for a
 * syntax error or a missing column it names the problem, so a caller may show it to the
 * person who wrote the SQL); `errorCategory` is Athena's: 1 system, 2 user, 3 other.
 */
export class AthenaQueryError extends Error {
  override readonly name = 'AthenaQueryError';
  constructor(
    readonly queryExecutionId: string,
    readonly outcome: AthenaQueryOutcome,
    readonly reason: string | undefined,
    readonly errorCategory: number | undefined,
  ) {
    super(`Athena query ${queryExecutionId} ${outcome}${reason ? `: ${reason}` : ''}`);
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export { toAthenaLiteral } from '../../core/shared/athena-literals.ts';

/** Runs read-only SQL over the lake on Athena, with values bound as execution parameters. */
export class AthenaQueryEngine implements QueryEngine {
  readonly #client: AthenaClient;
  readonly #workGroup: string;
  readonly #database: string;
  readonly #pollIntervalMs: number;
  readonly #timeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;

  constructor(options: AthenaQueryEngineOptions) {
    if (!options.workGroup) throw new Error('AthenaQueryEngine: workGroup is required');
    if (!options.database) throw new Error('AthenaQueryEngine: database is required');
    this.#client = options.client;
    this.#workGroup = options.workGroup;
    this.#database = options.database;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 25_000;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#now = options.now ?? Date.now;
  }

  async readRows(sql: string, params: readonly QueryParam[] = [], options: ReadRowsOptions = {}): Promise<QueryRow[]> {
    assertReadOnlyQuery(sql);
    const executionParameters = params.map(toAthenaLiteral);
    const started = await this.#client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.#workGroup,
        QueryExecutionContext: { Database: this.#database },
        // Athena rejects an empty list, so a query without `?` sends none.
        ...(executionParameters.length > 0 ? { ExecutionParameters: executionParameters } : {}),
      }),
    );
    const queryExecutionId = started.QueryExecutionId;
    if (!queryExecutionId) throw new Error('Athena StartQueryExecution returned no QueryExecutionId');
    await this.#waitForSuccess(queryExecutionId);
    return this.#readResults(
      queryExecutionId,
      options.maxRows ?? Number.POSITIVE_INFINITY,
      options.maxBytes ?? Number.POSITIVE_INFINITY,
    );
  }

  async #waitForSuccess(queryExecutionId: string): Promise<void> {
    const deadline = this.#now() + this.#timeoutMs;
    for (;;) {
      const { QueryExecution } = await this.#client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: queryExecutionId }),
      );
      const status: QueryExecutionStatus = QueryExecution?.Status ?? {};
      switch (status.State) {
        case 'SUCCEEDED':
          return;
        case 'FAILED':
        case 'CANCELLED':
          if (status.State === 'FAILED' && status.AthenaError?.ErrorCategory === USER_ERROR) {
            // The query text is at fault (unknown column, syntax): the caller gets the
            // same 400 naming `sql` that the local DuckDB engine gives.
            throw new ValidationError([
              { field: 'sql', problem: status.StateChangeReason ?? status.AthenaError?.ErrorMessage ?? 'is invalid' },
            ]);
          }
          throw new AthenaQueryError(
            queryExecutionId,
            status.State,
            status.StateChangeReason ?? status.AthenaError?.ErrorMessage,
            status.AthenaError?.ErrorCategory,
          );
      }
      if (this.#now() >= deadline) {
        // A query left running keeps scanning (and billing) after nobody waits for it.
        await this.#client
          .send(new StopQueryExecutionCommand({ QueryExecutionId: queryExecutionId }))
          .catch(() => undefined);
        throw new AthenaQueryError(
          queryExecutionId,
          'TIMED_OUT',
          `stopped after ${this.#timeoutMs} ms without finishing`,
          undefined,
        );
      }
      await this.#sleep(this.#pollIntervalMs);
    }
  }

  async #readResults(queryExecutionId: string, maxRows: number, maxBytes: number): Promise<QueryRow[]> {
    const rows: QueryRow[] = [];
    // Pages stop once the rows read pass maxBytes (the crossing row kept, see ReadRowsOptions).
    let bytes = 0;
    let columns: ColumnInfo[] | undefined;
    let nextToken: string | undefined;
    let firstPage = true;
    while (rows.length < maxRows && bytes <= maxBytes) {
      // The first page starts with the header row, so ask for one more there.
      const wanted = maxRows - rows.length + (firstPage ? 1 : 0);
      const page: GetQueryResultsOutput = await this.#client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: queryExecutionId,
          MaxResults: Math.min(MAX_PAGE_SIZE, wanted),
          NextToken: nextToken,
        }),
      );
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const pageRows = page.ResultSet?.Rows ?? [];
      for (const row of firstPage ? pageRows.slice(1) : pageRows) {
        if (rows.length >= maxRows || bytes > maxBytes) break;
        const converted = toQueryRow(columns, row.Data ?? []);
        if (maxBytes !== Number.POSITIVE_INFINITY) bytes += jsonRowBytes(converted);
        rows.push(converted);
      }
      firstPage = false;
      nextToken = page.NextToken;
      if (!nextToken) break;
    }
    return rows;
  }
}

function toQueryRow(columns: readonly ColumnInfo[], cells: readonly { VarCharValue?: string | undefined }[]): QueryRow {
  const row: QueryRow = {};
  columns.forEach((column, i) => {
    row[column.Name ?? `_col${i}`] = convertCell(column.Type ?? 'varchar', cells[i]?.VarCharValue);
  });
  return row;
}

/** Athena returns every cell as text; this gives it back the type its column declares. */
export function convertCell(type: string, text: string | undefined): unknown {
  if (text === undefined) return null;
  const base = type.toLowerCase().replace(/\(.*$/, '').trim();
  switch (base) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
      return Number(text);
    case 'bigint': {
      // Past 2^53 a JS number would silently change the value: keep the digits.
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return Number(text);
    case 'boolean':
      return text === 'true';
    case 'timestamp':
      return isoUtc(text, 'Z') ?? text;
    case 'timestamp with time zone':
      return timestampWithZone(text) ?? text;
    default:
      return text;
  }
}

const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?$/;

/** `2024-03-01 12:00:05.1` (Athena's text for a timestamp, which the lake keeps in UTC) → `2024-03-01T12:00:05.100Z`. */
function isoUtc(text: string, offset: string): string | undefined {
  const match = TIMESTAMP_TEXT.exec(text.trim());
  if (!match) return undefined;
  const [, date, time, fraction = ''] = match;
  const seconds = (time as string).length === 5 ? `${time}:00` : (time as string);
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  const local = `${date}T${seconds}.${millis}`;
  if (offset === 'Z') return `${local}Z`;
  const instant = new Date(`${local}${offset}`);
  return Number.isNaN(instant.getTime()) ? undefined : instant.toISOString();
}

/** `… UTC`, `… Z` or `… +02:00` become the same instant in UTC; a named zone is left as Athena wrote it. */
function timestampWithZone(text: string): string | undefined {
  const match = /^(.*?)\s*(UTC|Z|[+-]\d{2}:\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const [, local, zone] = match;
  return isoUtc(local as string, zone === 'UTC' || zone === 'Z' ? 'Z' : (zone as string));
}
