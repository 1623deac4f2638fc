import type { CsvQueryRunner, TextFileUnloader } from './duckdb-athena-task.ts';

/**
 * Runs one query at a time, in the order asked. The export's Map state starts
 * several partition queries at once (Athena runs them on separate machines);
 * DuckDB already spreads one query over every core, so here running them side by
 * side would only multiply its memory, while the steps that assemble the finished
 * weeks keep running beside the next query.
 */
export function oneQueryAtATime(runner: CsvQueryRunner & TextFileUnloader): CsvQueryRunner & TextFileUnloader {
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
    const result = queue.then(run);
    queue = result.catch(() => undefined);
    return result;
  };
  return {
    runToCsv: (sql, params, destinationPath) => inTurn(() => runner.runToCsv(sql, params, destinationPath)),
    unloadToTextFiles: (sql, params, destinationDir, options) =>
      inTurn(() => runner.unloadToTextFiles(sql, params, destinationDir, options)),
  };
}
