/**
 * `npm run bench`: every benchmark, each against a baseline measured in the same
 * run (these machines are shared and noisy, so only ratios compare across runs).
 * Prints Markdown for BENCHMARKS.md.
 */
import { cpus } from 'node:os';
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
    console.log(
      `- durability check: ${fmt(expectedRows)} events acknowledged with 200, ${fmt(lakeRows)} rows in the lake afterwards: ${lakeRows >= expectedRows ? 'none lost' : 'EVENTS MISSING'}`,
    );
    if (lakeRows < expectedRows) process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
