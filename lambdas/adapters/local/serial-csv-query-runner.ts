import type { CsvQueryRunner } from './duckdb-athena-task.ts';

/**
 * Runs one query at a time, in the order asked. The export's Map state starts
 * several partition queries at once (Athena runs them on separate machines);
 * DuckDB already spreads one query over every core, so here running them side by
 * side would only multiply its memory, while the steps that gzip the finished
 * weeks keep running beside the next query.
 */
export function oneQueryAtATime(runner: CsvQueryRunner): CsvQueryRunner {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    runToCsv(sql, params, destinationPath) {
      const run = queue.then(() => runner.runToCsv(sql, params, destinationPath));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
