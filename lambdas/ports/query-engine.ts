import type { QueryParam } from '../core/shared/query-param.ts';

export type { QueryParam };

export type QueryRow = Record<string, unknown>;

/** How much of a result `readRows` reads. Rows are read a page or chunk at a time, never the whole result. */
export interface ReadRowsOptions {
  /** Stop after this many rows. */
  readonly maxRows?: number;
  /**
   * Stop once the rows read take more than this many bytes as JSON (`jsonRowBytes`).
   * The row that crosses the bound is returned too, as `maxRows + 1` would be, so a
   * caller can tell a result cut here from one that fits.
   */
  readonly maxBytes?: number;
}

/** Runs SQL over the lake's `events` table (Athena on AWS, DuckDB locally). */
export interface QueryEngine {
  /**
   * Runs one read-only statement with its values bound as parameters and returns
   * its rows as JSON-friendly objects (big integers as numbers when safe, instants as ISO strings).
   * Rejects with `ValidationError` (naming `sql`) for a statement that is not a single
   * read-only query, that the engine refuses, or that runs past the engine's time
   * limit (the query is then stopped, not left running).
   */
  readRows(sql: string, params?: readonly QueryParam[], options?: ReadRowsOptions): Promise<QueryRow[]>;
}

/** What `row` adds to a JSON array of rows: its JSON text in UTF-8 bytes, and a comma. */
export function jsonRowBytes(row: QueryRow): number {
  return Buffer.byteLength(JSON.stringify(row)) + 1;
}

/**
 * Runs one of our own queries (never a client's) and streams its whole result into a
 * CSV file, header first, without holding rows in memory. Only the local DuckDB
 * engine implements it: on AWS, Athena writes the result CSV to S3 itself.
 */
export interface CsvQueryEngine {
  runToCsv(sql: string, params: readonly QueryParam[], destinationPath: string): Promise<{ rows: number }>;
}
