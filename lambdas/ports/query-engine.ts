/** A value bound to a `?` placeholder. */
export type QueryParam = string | number | boolean | null;

export type QueryRow = Record<string, unknown>;

/** Runs SQL over the lake's `events` table (Athena on AWS, DuckDB locally). */
export interface QueryEngine {
  /**
   * Runs one read-only statement with its values bound as parameters and returns
   * its rows as JSON-friendly objects (big integers as numbers when safe, instants as ISO strings).
   * Rejects with `BadRequestError` for a statement that is not a single read-only query.
   */
  readRows(sql: string, params?: readonly QueryParam[], options?: { maxRows?: number }): Promise<QueryRow[]>;
}

/**
 * Runs one of our own queries (never a client's) and streams its whole result into a
 * CSV file, header first, without holding rows in memory. Only the local DuckDB
 * engine implements it: on AWS, Athena writes the result CSV to S3 itself.
 */
export interface CsvQueryEngine {
  runToCsv(sql: string, params: readonly QueryParam[], destinationPath: string): Promise<{ rows: number }>;
}
