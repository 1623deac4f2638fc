/**
 * Bulk raw-event export (issue 5): a generated lake of N events (10M by default)
 * exported as `json` and as `csv` through the real local workflow (the local stack
 * in its own process, driven over HTTP as a client would: POST the job, poll it,
 * done when it reads `completed`), side by side with DuckDB writing the same rows
 * straight to one gzip JSON / CSV file in the same run. Peak RSS is the stack
 * process's high-water mark (VmHWM).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { EVENTS_TABLE_NAME } from '../lambdas/contract/lake.ts';
import { generateEventLake } from './event-lake.ts';
import { startStack, stop } from './tracking.ts';

const EVENTS = Number(process.env.BENCH_EXPORT_EVENTS ?? 10_000_000);
const FROM = '2025-01-06';
const DAYS = 364;

export interface ExportRun {
  readonly name: string;
  readonly seconds: number;
  /** CPU time of the process doing the work (user + system, every thread): steadier than wall time on a shared machine. */
  readonly cpuSeconds: number;
  readonly files: number;
  readonly bytes: number;
  readonly lines: number;
}

export interface EventsExportBenchmark {
  readonly events: number;
  readonly generateSeconds: number;
  readonly baseline: { json: ExportRun; csv: ExportRun };
  readonly featurelake: { json: ExportRun; csv: ExportRun };
  readonly stackPeakRssBytes: number;
  readonly baselinePeakRssBytes: number;
}

/** CPU seconds (user + system, all threads) a process has used so far (Linux). */
async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

const ownCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** Kernel's high-water mark of a process's resident set (Linux). */
export async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error('no VmHWM in /proc status');
  return Number(kb) * 1024;
}

async function countLines(stream: Readable): Promise<number> {
  let lines = 0;
  for await (const chunk of stream.pipe(createGunzip())) {
    const buffer = chunk as Buffer;
    let at = buffer.indexOf(10);
    while (at !== -1) {
      lines += 1;
      at = buffer.indexOf(10, at + 1);
    }
  }
  return lines;
}

/** DuckDB alone: the same fields of the same rows, one COPY per format into one gzip file. */
async function baseline(lakeDir: string, appId: string, appToken: string, out: string) {
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  const runs: Record<'json' | 'csv', ExportRun> = {} as never;
  try {
    await connection.run("SET TimeZone = 'UTC'");
    for (const format of ['json', 'csv'] as const) {
      const file = join(out, `baseline.${format}.gz`);
      const metadata = format === 'json' ? "CAST(coalesce(attributes, '{}') AS JSON)" : "coalesce(attributes, '{}')";
      const started = performance.now();
      const cpuBefore = ownCpuSeconds();
      const copy = await connection.prepare(`COPY (
        SELECT CAST($app_token AS VARCHAR) AS app_token, event_id, event_type, event_name, user_id, company_id, source,
          strftime("timestamp", '%Y-%m-%dT%H:%M:%S.%gZ') AS "timestamp",
          strftime(received_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS inserted_at,
          feature_id, score, comment, ${metadata} AS metadata
        FROM read_parquet('${join(lakeDir, EVENTS_TABLE_NAME)}/**/*.parquet', hive_partitioning = true)
        WHERE app_id = $app_id
      ) TO '${file}' (FORMAT ${format}, COMPRESSION gzip)`);
      copy.bind({ app_token: appToken, app_id: appId });
      await copy.run();
      const seconds = (performance.now() - started) / 1000;
      const cpuSeconds = ownCpuSeconds() - cpuBefore;
      runs[format] = {
        name: `DuckDB COPY to one ${format}.gz`,
        seconds,
        cpuSeconds,
        files: 1,
        bytes: (await stat(file)).size,
        lines: (await countLines(createReadStream(file))) - (format === 'csv' ? 1 : 0),
      };
      await rm(file);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return { runs, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

export async function api<T>(url: string, init: RequestInit & { token: string }): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    ...init,
    headers: { authorization: init.token, 'content-type': 'application/json', ...init.headers },
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** An enterprise environment named `bench`, made through the admin API with the stack's admin token. */
export async function createBenchEnvironment(
  url: string,
  home: string,
): Promise<{ environment_id: string; app_token: string; api_key: string }> {
  const adminToken = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
  const created = await api<{ environment_id: string; app_token: string; api_key: string }>(
    `${url}/admin/v1/environments`,
    { method: 'POST', token: `Bearer ${adminToken}`, body: JSON.stringify({ name: 'bench', plan: 'enterprise' }) },
  );
  if (created.status !== 201) throw new Error(`creating the environment answered ${created.status}`);
  return created.body;
}

interface JobDetail {
  status: string;
  progress: string;
  error: string | null;
  presigned_urls: { filename: string; url: string }[];
}

async function exportThroughStack(
  stack: { url: string; pid: number },
  token: string,
  format: 'json' | 'csv',
  to: string,
): Promise<ExportRun> {
  const { url } = stack;
  const cpuBefore = await cpuSecondsOf(stack.pid);
  const started = performance.now();
  const post = await api<{ links: string }>(`${url}/api/v1/analytics/exports`, {
    method: 'POST',
    token,
    body: JSON.stringify({ from: FROM, to, format }),
  });
  if (post.status !== 201) throw new Error(`POST answered ${post.status}: ${JSON.stringify(post.body)}`);
  let job: JobDetail;
  for (;;) {
    job = (await api<JobDetail>(`${url}${post.body.links}`, { token })).body;
    if (job.status !== 'running') break;
    await new Promise((done) => setTimeout(done, 250));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = (await cpuSecondsOf(stack.pid)) - cpuBefore;
  if (job.status !== 'completed') throw new Error(`the ${format} export ${job.status}: ${job.error}`);
  let bytes = 0;
  let lines = 0;
  for (const file of job.presigned_urls) {
    const response = await fetch(file.url);
    if (!response.ok || !response.body) throw new Error(`download of ${file.filename}: ${response.status}`);
    bytes += Number(response.headers.get('content-length') ?? 0);
    lines += (await countLines(Readable.fromWeb(response.body as never))) - (format === 'csv' ? 1 : 0);
  }
  return { name: `featurelake ${format} export`, seconds, cpuSeconds, files: job.presigned_urls.length, bytes, lines };
}

export async function eventsExportBenchmark(): Promise<EventsExportBenchmark> {
  const home = await mkdtemp(join(tmpdir(), 'featurelake-bench-export-'));
  const stack = await startStack(home);
  try {
    const env = await createBenchEnvironment(stack.url, home);
    const generateStarted = performance.now();
    const lake = await generateEventLake({
      lakeDir: join(home, 'lake'),
      appId: env.environment_id,
      events: EVENTS,
      from: FROM,
      days: DAYS,
    });
    const generateSeconds = (performance.now() - generateStarted) / 1000;

    const token = `Token ${env.api_key}`;
    const target = { url: stack.url, pid: stack.child.pid as number };
    const json = await exportThroughStack(target, token, 'json', lake.to);
    const csv = await exportThroughStack(target, token, 'csv', lake.to);
    const stackPeakRssBytes = await peakRss(stack.child.pid as number);

    const base = await baseline(join(home, 'lake'), env.environment_id, env.app_token, home);
    return {
      events: EVENTS,
      generateSeconds,
      baseline: base.runs,
      featurelake: { json, csv },
      stackPeakRssBytes,
      baselinePeakRssBytes: base.peakRssBytes,
    };
  } finally {
    await stop(stack.child);
    await rm(home, { recursive: true, force: true });
  }
}
