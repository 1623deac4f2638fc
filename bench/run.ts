/**
 * `npm run bench`: every benchmark, each against a baseline measured in the same
 * run (these machines are shared and noisy, so only ratios compare across runs).
 * Prints Markdown for BENCHMARKS.md.
 */
import { cpus } from 'node:os';
import { eventsExportBenchmark } from './events-export.ts';
import { fastest, rollupBenchmark } from './rollup.ts';
import { trackingBenchmark } from './tracking.ts';

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const only = process.argv[2];
  console.log(`# featurelake benchmarks, ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`);

  if (!only || only === 'tracking') {
    const { results, lakeRows, expectedRows } = await trackingBenchmark();
    const [bareSingle, bareBulk, single, bulk] = results;
    if (!bareSingle || !bareBulk || !single || !bulk) throw new Error('tracking benchmark returned too few results');
    console.log('## Tracking throughput (64 connections, loopback)\n');
    console.log('| run | requests/s | events/s | p50 ms | p99 ms | non-2xx | errors |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      console.log(
        `| ${r.name} | ${fmt(r.requestsPerSec)} | ${fmt(r.eventsPerSec)} | ${r.p50Ms} | ${r.p99Ms} | ${r.non2xx} | ${r.errors} |`,
      );
    }
    const singleRatio = single.requestsPerSec / bareSingle.requestsPerSec;
    console.log('');
    console.log(
      `- single calls: ${fmt(singleRatio * 100, 1)}% of the bare server's requests/s (target ≥ 30%), p99 ${single.p99Ms} ms (target ≤ 50 ms): ${singleRatio >= 0.3 && single.p99Ms <= 50 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `- bulk calls: ${fmt(bulk.eventsPerSec)} events/s (target ≥ 100,000, durable): ${bulk.eventsPerSec >= 100_000 ? 'met' : 'NOT met'}; bulk requests/s are ${fmt((bulk.requestsPerSec / bareBulk.requestsPerSec) * 100, 1)}% of the bare server's for the same body`,
    );
    const [, , , , bareSdk, sdk] = results;
    if (bareSdk && sdk) {
      console.log(
        `- Node SDK batches (100 mixed items, Authorization: Bearer): ${fmt(sdk.eventsPerSec)} events/s (target ≥ 100,000, durable): ${sdk.eventsPerSec >= 100_000 ? 'met' : 'NOT met'}; ${fmt((sdk.requestsPerSec / bareSdk.requestsPerSec) * 100, 1)}% of the bare server's requests/s for the same body`,
      );
    }
    console.log(
      `- durability check: ${fmt(expectedRows)} events acknowledged with 200, ${fmt(lakeRows)} rows in the lake afterwards: ${lakeRows >= expectedRows ? 'none lost' : 'EVENTS MISSING'}`,
    );
    if (lakeRows < expectedRows) process.exitCode = 1;
  }

  if (!only || only === 'events-export') {
    const r = await eventsExportBenchmark();
    const mb = (bytes: number) => fmt(bytes / 1024 / 1024);
    console.log(`\n## Bulk raw-event export (${fmt(r.events)} generated events, 52 weekly files)\n`);
    console.log(`lake generated with DuckDB in ${fmt(r.generateSeconds, 1)} s\n`);
    console.log('| run | seconds | CPU seconds | events/s | files | MB gzip | lines |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    const runs = [r.baseline.json, r.featurelake.json, r.baseline.csv, r.featurelake.csv];
    for (const run of runs) {
      console.log(
        `| ${run.name} | ${fmt(run.seconds, 1)} | ${fmt(run.cpuSeconds, 1)} | ${fmt(r.events / run.seconds)} | ${run.files} | ${mb(run.bytes)} | ${fmt(run.lines)} |`,
      );
    }
    console.log('');
    for (const format of ['json', 'csv'] as const) {
      const ratio = r.featurelake[format].seconds / r.baseline[format].seconds;
      const cpuRatio = r.featurelake[format].cpuSeconds / r.baseline[format].cpuSeconds;
      const complete = r.featurelake[format].lines === r.events && r.baseline[format].lines === r.events;
      console.log(
        `- ${format}: ${fmt(ratio, 2)}× the DuckDB baseline's time (target ≤ 2×): ${ratio <= 2 ? 'met' : 'NOT met'} (${fmt(cpuRatio, 2)}× its CPU time); every event exported: ${complete ? 'yes' : 'NO'}`,
      );
      if (!complete) process.exitCode = 1;
    }
    console.log(
      `- peak RSS of the local stack process: ${mb(r.stackPeakRssBytes)} MB (target ≤ 1,024 MB): ${r.stackPeakRssBytes <= 1024 ** 3 ? 'met' : 'NOT met'}; the benchmark process (generator and baseline DuckDB): ${mb(r.baselinePeakRssBytes)} MB`,
    );
  }

  if (!only || only === 'rollup') {
    const r = await rollupBenchmark();
    const mb = (bytes: number) => fmt(bytes / 1024 / 1024);
    console.log(
      `\n## Company rollup export (${fmt(r.events)} generated events, 10,000 companies, 20 features, 180 days)\n`,
    );
    console.log(`lake generated with DuckDB in ${fmt(r.generateSeconds, 1)} s\n`);
    console.log('| run | seconds | CPU-s | rows | MB CSV | peak RSS MB |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    const growthRuns = r.growth
      ? [
          r.growth.factsFirstBuild,
          ...r.growth.pairs.flatMap((pair) => [pair.days360[0], pair.days180[1], pair.days360[1]]),
        ]
      : [];
    for (const run of [
      r.bareCount,
      r.bareCsv,
      r.floor,
      ...r.fullRecompute,
      r.factsFirstBuild,
      r.factsOneDay,
      ...r.exports,
      ...growthRuns,
    ]) {
      console.log(
        `| ${run.name} | ${fmt(run.seconds, 1)} | ${fmt(run.cpuSeconds, 1)} | ${fmt(run.rows)} | ${mb(run.csvBytes)} | ${mb(run.peakRssBytes)} |`,
      );
    }
    console.log('');
    console.log(
      `- output floor (writing 5.2M rows of the export's shape, no lake): ${fmt(r.floor.seconds / r.bareCsv.seconds, 1)}× the bare GROUP BY to CSV`,
    );
    for (const run of [...r.fullRecompute, ...r.exports]) {
      const ratio = run.seconds / r.floor.seconds;
      const rssOk = run.peakRssBytes <= 1024 ** 3;
      console.log(
        `- ${run.name}: ${fmt(ratio, 2)}× the output floor (target ≤ 2×): ${ratio <= 2 ? 'met' : 'NOT met'}; ${fmt(run.seconds / r.bareCsv.seconds, 1)}× the bare GROUP BY to CSV; peak RSS ${mb(run.peakRssBytes)} MB (target ≤ 1,024 MB): ${rssOk ? 'met' : 'NOT met'}`,
      );
    }
    console.log(
      `- daily facts: first build over all 180 days ${fmt(r.factsFirstBuild.seconds, 1)} s, a rebuild of one day ${fmt(r.factsOneDay.seconds, 1)} s`,
    );
    console.log(
      `- raw events the exports read besides the facts: ${fmt(r.rawEventsRead)} of ${fmt(r.events)} (those received after the build's cutoff: the last day's, arrived ${'"now"'})`,
    );
    if (r.growth) {
      for (const pair of r.growth.pairs) {
        const ratio = fastest(pair.days360) / fastest(pair.days180);
        const cpuRatio = fastest(pair.days360, 'cpuSeconds') / fastest(pair.days180, 'cpuSeconds');
        console.log(
          `- growth: ${pair.aggregation}, the faster of two exports over each lake (alternated), ${fmt(fastest(pair.days360), 1)} s over 360 days against ${fmt(fastest(pair.days180), 1)} s over 180: ${fmt(ratio, 2)}× (target ≤ 1.2×): ${ratio <= 1.2 ? 'met' : 'NOT met'}; in the stack's CPU-s ${fmt(cpuRatio, 2)}×`,
        );
      }
      console.log(
        `- growth: first facts build over 360 days (${fmt(r.growth.events)} events) ${fmt(r.growth.factsFirstBuild.seconds, 1)} s`,
      );
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
