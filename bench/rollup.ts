/**
 * The company rollup benchmark: a lake of 10M events (10,000 companies, 20 features,
 * 180 days) generated with DuckDB straight into the local stack's lake layout (the
 * last day's records arriving "now", inside the facts' received lag, as a day's
 * newest arrivals are at the daily run). Then, through the local stack over HTTP as
 * an admin and a client would, each in a fresh stack process so that its peak RSS
 * (VmHWM) is its own: the daily facts' first build over all of history
 * (`POST /admin/v1/facts/build`), a rebuild of one day, and the `6m_weekly`,
 * `30d_daily` and `today` exports reading the facts (POST the job, poll it until
 * `completed`, download the CSV from its presigned link). Side by side, in the same
 * run and each in a child process of its own: a bare DuckDB aggregate over the same
 * files (`company_id, event_name, dt, count(*)`), counted and written to CSV, and the
 * output floor (the export's own rows, made without a lake, written to CSV).
 *
 * `npx tsx bench/run.ts rollup` runs it alone; `BENCH_ROLLUP_EVENTS` scales it;
 * `BENCH_ROLLUP_FULL=1` adds the full recompute (FEATURELAKE_ROLLUP_FROM_FACTS=0);
 * `BENCH_ROLLUP_GROWTH=1` adds the same exports over twice the history (360 days,
 * twice the events, the same output dates), alternated with the 180-day lake's, the
 * faster of two over each. Every run reports its CPU time beside its wall time.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { localConfig } from '../bin/local/config.ts';
import { DuckDbQueryEngine } from '../lambdas/adapters/local/duckdb-lake.ts';
import { FACTS_RECEIVED_LAG_MS } from '../lambdas/contract/facts.ts';
import { EVENTS_TABLE_NAME, lakeShard } from '../lambdas/contract/lake.ts';
import type { RollupAggregation, RollupCatalog, RollupFeature } from '../lambdas/core/company-export/rollup/types.ts';
import { withGeneratorDuckDb } from './event-lake.ts';
import { api, createBenchEnvironment, peakRss } from './events-export.ts';
import { startStack, stop } from './tracking.ts';

const ROOT = join(import.meta.dirname, '..');
const COMPANIES = 10_000;
const USERS_PER_COMPANY = 5;
const DAYS = 180;
/** How long before the benchmark the last day's records arrive: inside the facts' 30-minute received lag. */
const LAST_DAY_LATE_MINUTES = 5;
/** "Now" of the exports; the lake holds the 180 days before it. */
const AS_OF = new Date('2025-07-01T00:00:00.000Z');

/** 17 event features of two event names each, and 3 attribute features. */
export const BENCH_CATALOG: RollupCatalog = {
  features: [
    ...Array.from(
      { length: 17 },
      (_, k): RollupFeature => ({
        id: `feature-${String(k).padStart(2, '0')}`,
        name: `Feature ${k}`,
        type: 'event',
        event_names: [`event-${2 * k}`, `event-${2 * k + 1}`],
      }),
    ),
    { id: 'feature-17', name: 'Pro plan', type: 'attribute', attribute: 'plan', operator: 'eq', value: 'pro' },
    { id: 'feature-18', name: 'Big team', type: 'attribute', attribute: 'seats', operator: 'gte', value: 50 },
    { id: 'feature-19', name: 'Beta', type: 'attribute', attribute: 'tags', operator: 'contains', value: 'beta' },
  ],
  segments: [
    { id: 'beta', name: 'Beta testers', filters: [{ attribute: 'tags', operator: 'contains', value: 'beta' }] },
    {
      id: 'big',
      name: 'Big, paying',
      filters: [
        { attribute: 'seats', operator: 'gte', value: 100 },
        { attribute: 'plan', operator: 'neq', value: 'free' },
      ],
    },
    { id: 'enterprise', name: 'Enterprise', filters: [{ attribute: 'plan', operator: 'eq', value: 'enterprise' }] },
    { id: 'europe', name: 'Europe', filters: [{ attribute: 'region', operator: 'in', value: ['eu', 'uk'] }] },
    { id: 'unnamed', name: 'Unnamed', filters: [{ attribute: 'name', operator: 'is_not_set', value: null }] },
  ],
};

/**
 * Writes the lake with one DuckDB COPY, partitioned as the compactor writes it.
 * Company calls (3 per company, attributes changing), one membership call per user
 * in the first two days (1 in 500 users moves to another company within the last 30
 * days: a job change every few years), feedback, and
 * tracks for the rest: companies' activity skewed (a few busy, many quiet), 1 in 10
 * tracks without companyId (counted through the user), 1 in 333 sent twice.
 */
async function generateLake(lakeDir: string, appId: string, events: number, days = DAYS): Promise<number> {
  const eventsDir = join(lakeDir, EVENTS_TABLE_NAME);
  await rm(eventsDir, { recursive: true, force: true });
  await mkdir(lakeDir, { recursive: true });
  const users = COMPANIES * USERS_PER_COMPANY;
  const companyCalls = COMPANIES * 3;
  const moves = users / 500;
  const feedback = Math.round(events / 100);
  const tracks = Math.round((events - companyCalls - users - moves - feedback) / (1 + 1 / 333));
  const start = `TIMESTAMP '${new Date(AS_OF.getTime() - days * 86_400_000).toISOString().replace('T', ' ').replace('Z', '')}'`;
  const spanMs = days * 86_400_000;
  const lastDay = `TIMESTAMP '${new Date(AS_OF.getTime() - 86_400_000).toISOString().replace('T', ' ').replace('Z', '')}'`;
  const arrivedNow = `TIMESTAMP '${new Date(Date.now() - LAST_DAY_LATE_MINUTES * 60_000).toISOString().replace('T', ' ').replace('Z', '')}'`;
  return withGeneratorDuckDb(async (connection) => {
    const row = (fields: Record<string, string>) =>
      [
        `${fields.event_id} AS event_id`,
        `${fields.event_type} AS event_type`,
        `${fields.event_name ?? 'CAST(NULL AS VARCHAR)'} AS event_name`,
        `${fields.user_id ?? 'CAST(NULL AS VARCHAR)'} AS user_id`,
        `${fields.company_id ?? 'CAST(NULL AS VARCHAR)'} AS company_id`,
        `${fields.feature_id ?? 'CAST(NULL AS VARCHAR)'} AS feature_id`,
        `${fields.score ?? 'CAST(NULL AS INTEGER)'} AS score`,
        `${fields.comment ?? 'CAST(NULL AS VARCHAR)'} AS comment`,
        `${fields.attributes ?? 'CAST(NULL AS VARCHAR)'} AS attributes`,
        `${fields.context_active ?? 'true'} AS context_active`,
        `${fields.timestamp} AS "timestamp"`,
        `${fields.received_at ?? fields.timestamp} + INTERVAL 2 SECOND AS received_at`,
        `'bulk' AS source`,
      ].join(', ');
    const at = (ms: string) => `${start} + to_milliseconds(CAST(${ms} AS BIGINT))`;
    const company = (c: string) => `'company-' || lpad(CAST(${c} AS VARCHAR), 5, '0')`;
    const sql = `
      COPY (
        WITH rows AS (
          SELECT ${row({
            event_id: `'call-' || i`,
            event_type: `'identify_company'`,
            company_id: company('i // 3'),
            timestamp: at(`(i % 3) * ${spanMs / 3} + hash(i) % ${spanMs / 3}`),
            attributes: `'{"name":' || CASE WHEN i % 97 = 0 THEN 'null' ELSE '"Company ' || (i // 3) || '"' END
              || ',"plan":"' || ['free', 'pro', 'enterprise'][CAST(1 + hash(i * 7) % 3 AS BIGINT)] || '"'
              || ',"seats":' || (hash(i * 11) % 300)
              || ',"tags":' || CASE WHEN hash(i * 13) % 4 = 0 THEN '["beta","early"]' ELSE '[]' END
              || ',"region":"' || ['eu', 'us', 'uk', 'apac'][CAST(1 + (i // 3) % 4 AS BIGINT)] || '"}'`,
          })}
          FROM range(${companyCalls}) t(i)
          UNION ALL
          SELECT ${row({
            event_id: `'member-' || i`,
            event_type: `'identify_company'`,
            user_id: `'user-' || i`,
            company_id: company(`i // ${USERS_PER_COMPANY}`),
            // Users are identified with their company before they track (as SDKs do).
            timestamp: at(`hash(i) % ${2 * 86_400_000}`),
          })}
          FROM range(${users}) t(i)
          UNION ALL
          SELECT ${row({
            event_id: `'move-' || i`,
            event_type: `'identify_company'`,
            user_id: `'user-' || (i * 500)`,
            company_id: company(`(i * 500 // ${USERS_PER_COMPANY} + 1) % ${COMPANIES}`),
            timestamp: at(`${spanMs - 30 * 86_400_000} + hash(i) % ${30 * 86_400_000}`),
          })}
          FROM range(${moves}) t(i)
          UNION ALL
          SELECT ${row({
            event_id: `'feedback-' || i`,
            event_type: `'feedback'`,
            user_id: `'user-' || (hash(i) % ${users})`,
            company_id: `CASE WHEN hash(i) % 5 = 0 THEN NULL ELSE ${company(`hash(i) % ${users} // ${USERS_PER_COMPANY}`)} END`,
            feature_id: `'feature-' || lpad(CAST(hash(i * 3) % 20 AS VARCHAR), 2, '0')`,
            score: `CASE WHEN hash(i * 5) % 10 = 0 THEN NULL ELSE CAST(1 + hash(i * 7) % 5 AS INTEGER) END`,
            comment: `CASE WHEN hash(i * 5) % 10 < 2 THEN 'Works, mostly' END`,
            timestamp: at(`hash(i * 9) % ${spanMs}`),
          })}
          FROM range(${feedback}) t(i)
          UNION ALL
          SELECT ${row({
            event_id: `'track-' || i`,
            event_type: `'track'`,
            event_name: `'event-' || CAST(floor(40 * pow((hash(i * 3) % 1000000) / 1000000.0, 1.5)) AS INTEGER)`,
            user_id: `'user-' || (c * ${USERS_PER_COMPANY} + hash(i * 5) % ${USERS_PER_COMPANY})`,
            company_id: `CASE WHEN hash(i * 7) % 10 = 0 THEN NULL ELSE ${company('c')} END`,
            context_active: 'hash(i * 11) % 33 <> 0',
            timestamp: at(`hash(i * 13) % ${spanMs}`),
            received_at: `${at(`hash(i * 13) % ${spanMs}`)} + to_minutes(CAST(copy AS BIGINT) * 5)`,
          })}
          FROM (
            SELECT i, CAST(floor(${COMPANIES} * pow((hash(i) % 1000000) / 1000000.0, 2)) AS BIGINT) AS c
            FROM range(${tracks}) t(i)
          ) t
          CROSS JOIN range(2) r(copy)
          WHERE copy = 0 OR hash(i) % 333 = 0
        )
        SELECT *, CAST($app AS VARCHAR) AS app_id, strftime("timestamp", '%Y-%m-%d') AS dt,
          CAST($shard AS INTEGER) AS shard, strftime(received_at, '%Y-%m-%d') AS received
        FROM (
          -- The last day's records arrive "now" (${LAST_DAY_LATE_MINUTES} minutes ago): within the
          -- facts' received lag, so a build leaves them to the exports' raw part, as a day's
          -- newest arrivals are at the daily run.
          SELECT * REPLACE (CASE WHEN "timestamp" >= ${lastDay} THEN ${arrivedNow} ELSE received_at END AS received_at)
          FROM rows
        )
      ) TO '${eventsDir.replaceAll("'", "''")}' (FORMAT parquet, PARTITION_BY (shard, received))`;
    const copy = await connection.prepare(sql);
    copy.bind({ app: appId, shard: lakeShard(appId) } as never);
    await copy.run();
    const counted = await connection.runAndReadAll(
      `SELECT count(*) FROM read_parquet('${eventsDir.replaceAll("'", "''")}/**/*.parquet')`,
    );
    return Number(counted.getRows()[0]?.[0]);
  });
}

/** What one measured run does, in its own process. */
type ChildTask =
  | { readonly kind: 'bare'; readonly appId: string; readonly toCsv: boolean }
  | { readonly kind: 'floor' };

export interface RollupRun {
  readonly name: string;
  readonly seconds: number;
  readonly rows: number;
  readonly csvBytes: number;
  readonly peakRssBytes: number;
  /**
   * CPU time (user + system) of the process that did the work, over the run alone: less
   * moved by other load on a shared machine than the wall time, so growth is read from both.
   */
  readonly cpuSeconds: number;
}

const BARE_SQL = `SELECT company_id, event_name, dt, count(*) AS events
  FROM events WHERE shard = ? AND app_id = ? AND dt >= ? AND dt <= ?
  GROUP BY company_id, event_name, dt`;

/**
 * The output floor: no lake at all, only the 6m_weekly export's 5.2M rows (10,000
 * companies x 20 features x 26 Sundays) with its 18 columns made from row numbers,
 * formatted as the export formats them, in its order, written to CSV the same way.
 * No rollup can be faster than writing its own output. Sorted by its numbers before
 * they become text (the same order: the texts are zero-padded), as the export's
 * DuckDB text sorts (dialect `keepsSubqueryOrder`), so that the floor stays the
 * cheapest way to write these rows.
 */
const FLOOR_SQL = `SELECT 'company-' || lpad(CAST(c AS VARCHAR), 5, '0') AS "Company ID", 'Company ' || c AS "Company Name",
    'Feature ' || f AS "Feature Name", 'feature-' || lpad(CAST(f AS VARCHAR), 2, '0') AS "Feature ID",
    CAST(DATE '2025-01-05' + CAST(7 * d AS INTEGER) AS VARCHAR) AS "Date",
    strftime(TIMESTAMP '2025-01-01' + to_seconds(c * 7 + f), '%Y-%m-%dT%H:%M:%S.%gZ') AS "First Seen",
    strftime(TIMESTAMP '2025-01-01' + to_seconds(c * 9 + d), '%Y-%m-%dT%H:%M:%S.%gZ') AS "Last Seen",
    strftime(TIMESTAMP '2025-01-01' + to_seconds(c * 3 + f), '%Y-%m-%dT%H:%M:%S.%gZ') AS "First Used",
    strftime(TIMESTAMP '2025-01-01' + to_seconds(c * 5 + d + f), '%Y-%m-%dT%H:%M:%S.%gZ') AS "Last Used",
    ['never', 'tried', 'retained', 'churned'][CAST(1 + (c + f + d) % 4 AS BIGINT)] AS "STARS State Label",
    CAST(1 + (c + f + d) % 4 AS VARCHAR) AS "STARS State",
    ['Inactive', 'Monthly', 'Weekly', 'Daily'][CAST(1 + (c + d) % 4 AS BIGINT)] AS "Frequency Label",
    CAST((c + d) % 4 AS VARCHAR) AS "Frequency",
    CASE WHEN (c + f) % 3 = 0 THEN 'Satisfied' END AS "Satisfaction Label",
    CASE WHEN (c + f) % 3 = 0 THEN '4' END AS "Satisfaction",
    CAST((c * f) % 3 AS VARCHAR) AS "Feedback Count",
    CASE WHEN c % 4 = 0 THEN 'Beta testers,Europe' END AS "Segment Names",
    CASE WHEN c % 4 = 0 THEN 'beta,europe' END AS "Segment IDs"
  FROM (SELECT c, f, d FROM range(${COMPANIES}) t1(c), range(20) t2(f), range(26) t3(d) ORDER BY d, c, f) sorted_rows`;

/** The child side: open the engine, run one task, print one JSON line. */
async function runChild(lakeDir: string, task: ChildTask): Promise<void> {
  const outDir = join(lakeDir, '..', 'out');
  // The local stack's own limit ($FEATURELAKE_QUERY_MEMORY or its default), so that baselines and exports run alike.
  const engine = await DuckDbQueryEngine.open({
    lakeDir,
    csvOutputDir: outDir,
    memoryLimit: localConfig().queryMemoryLimit,
    spillDir: join(lakeDir, '..', 'spill'),
    // readRows is admin SQL's reader, cut at 25 s: a baseline on a loaded machine may take longer.
    readTimeoutMs: 3_600_000,
  });
  const file = join(outDir, `${task.kind}-${Date.now()}.csv`);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let rows: number;
  if (task.kind === 'floor') {
    ({ rows } = await engine.runToCsv(FLOOR_SQL, [], file));
  } else if (task.toCsv) {
    ({ rows } = await engine.runToCsv(BARE_SQL, [lakeShard(task.appId), task.appId, '2020-01-01', '2030-01-01'], file));
  } else {
    const [counted] = await engine.readRows(`SELECT count(*) AS n FROM (${BARE_SQL})`, [
      lakeShard(task.appId),
      task.appId,
      '2020-01-01',
      '2030-01-01',
    ]);
    rows = Number(counted?.n);
  }
  const seconds = (performance.now() - started) / 1000;
  const csvBytes = task.kind === 'bare' && !task.toCsv ? 0 : (await stat(file)).size;
  await rm(file, { force: true });
  engine.close();
  const cpu = process.cpuUsage(cpuBefore);
  // maxRSS is in kilobytes.
  process.stdout.write(
    `${JSON.stringify({ seconds, rows, csvBytes, peakRssBytes: process.resourceUsage().maxRSS * 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
  );
}

/** Each run's figures as soon as it ends (stderr): a long benchmark on a loaded machine shows what it has. */
function progress<T extends RollupRun>(run: T): T {
  console.error(
    `[rollup bench ${new Date().toISOString()}] ${run.name}: ${run.seconds.toFixed(1)} s (${run.cpuSeconds.toFixed(1)} CPU-s), ${run.rows} rows, ${(run.csvBytes / 1024 / 1024).toFixed(0)} MB CSV, peak RSS ${(run.peakRssBytes / 1024 / 1024).toFixed(0)} MB`,
  );
  return run;
}

function measure(name: string, lakeDir: string, task: ChildTask): Promise<RollupRun> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'rollup.ts'), 'child', lakeDir, JSON.stringify(task)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line) {
        reject(new Error(`${name} exited ${code}:\n${err}`));
        return;
      }
      resolve(progress({ name, ...(JSON.parse(line) as Omit<RollupRun, 'name'>) }));
    });
  });
}

export interface RollupBenchmarkResult {
  readonly events: number;
  readonly generateSeconds: number;
  readonly bareCount: RollupRun;
  readonly bareCsv: RollupRun;
  readonly floor: RollupRun;
  /** The full recompute (FEATURELAKE_ROLLUP_FROM_FACTS=0), when BENCH_ROLLUP_FULL=1. */
  readonly fullRecompute: readonly RollupRun[];
  /** The daily facts: the first build over all of history, then a rebuild of one day. */
  readonly factsFirstBuild: RollupRun;
  readonly factsOneDay: RollupRun;
  /** The exports reading the facts (the default). */
  readonly exports: readonly RollupRun[];
  /** Raw events the exports' raw part selects: those received after the facts' cutoff (the last day's, here). */
  readonly rawEventsRead: number;
  /** The same exports over twice the history (360 days, same output dates), when BENCH_ROLLUP_GROWTH=1. */
  readonly growth?: {
    readonly events: number;
    readonly generateSeconds: number;
    readonly factsFirstBuild: RollupRun;
    readonly pairs: readonly GrowthPair[];
  };
}

/** The aggregations whose growth with the history is measured. */
const GROWTH_AGGREGATIONS = ['6m_weekly', '30d_daily'] as const;

/** Two exports of one aggregation over each lake, alternated between the lakes. */
export interface GrowthPair {
  readonly aggregation: (typeof GROWTH_AGGREGATIONS)[number];
  readonly days180: readonly [RollupRun, RollupRun];
  readonly days360: readonly [RollupRun, RollupRun];
}

/** The faster of two runs, in wall time or in CPU time. */
export const fastest = (runs: readonly RollupRun[], by: 'seconds' | 'cpuSeconds' = 'seconds'): number =>
  Math.min(...runs.map((run) => run[by]));

interface CompanyExportJob {
  status: string;
  rows: number | null;
  error: string | null;
  download_url?: string;
}

/** Puts the catalog through the API, as a user would. */
async function putCatalog(url: string, token: string): Promise<void> {
  for (const [kind, items] of [
    ['features', BENCH_CATALOG.features],
    ['segments', BENCH_CATALOG.segments],
  ] as const) {
    for (const { id, ...body } of items) {
      const put = await api(`${url}/api/v1/${kind}/${encodeURIComponent(id)}`, {
        method: 'PUT',
        token,
        body: JSON.stringify(body),
      });
      if (put.status >= 300) throw new Error(`PUT ${kind}/${id} answered ${put.status}: ${JSON.stringify(put.body)}`);
    }
  }
}

/** A fresh stack process on `home`, keeping the tail of its output for error messages. */
async function benchStack(home: string, env: Record<string, string> = {}) {
  const stack = await startStack(home, env);
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  stack.child.stdout?.on('data', keep);
  stack.child.stderr?.on('data', keep);
  return { ...stack, log: () => log };
}

/**
 * A process's CPU time so far (user + system), from /proc/<pid>/stat: its fields 14 and
 * 15, in clock ticks of 1/100 s (USER_HZ, 100 on every Linux the machines run). The
 * fields are counted after the command's name, which may hold spaces, so from its `)`.
 */
async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name the fields start at 3 (state): utime is field 14, stime field 15.
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / 100;
}

/** One export through a fresh local stack process: POST, poll until done, download; its own peak RSS. */
async function exportThroughStack(
  home: string,
  token: string,
  aggregation: RollupAggregation,
  options: { readonly env?: Record<string, string>; readonly label?: string } = {},
): Promise<RollupRun> {
  const stack = await benchStack(home, options.env);
  try {
    const started = performance.now();
    const cpuBefore = await cpuSecondsOf(stack.child.pid as number);
    const post = await api<{ links: string }>(`${stack.url}/api/v1/company-exports`, {
      method: 'POST',
      token,
      body: JSON.stringify({ aggregation, as_of: AS_OF.toISOString() }),
    });
    if (post.status !== 202) throw new Error(`POST answered ${post.status}: ${JSON.stringify(post.body)}`);
    let job: CompanyExportJob;
    for (;;) {
      job = (await api<CompanyExportJob>(`${stack.url}${post.body.links}`, { token })).body;
      if (job.status !== 'running') break;
      await new Promise((done) => setTimeout(done, 250));
    }
    if (job.status !== 'completed' || !job.download_url) {
      throw new Error(`the ${aggregation} export ${job.status}: ${job.error}\nthe stack's log:\n${stack.log()}`);
    }
    const response = await fetch(job.download_url);
    if (!response.ok || !response.body) throw new Error(`download: ${response.status}`);
    let csvBytes = 0;
    for await (const chunk of response.body) csvBytes += (chunk as Uint8Array).byteLength;
    const seconds = (performance.now() - started) / 1000;
    return progress({
      name: `${aggregation} export${options.label ? ` (${options.label})` : ''}`,
      seconds,
      rows: job.rows ?? 0,
      csvBytes,
      peakRssBytes: await peakRss(stack.child.pid as number),
      cpuSeconds: (await cpuSecondsOf(stack.child.pid as number)) - cpuBefore,
    });
  } finally {
    await stop(stack.child);
  }
}

/**
 * One daily facts build through a fresh stack process, as an admin starts it
 * (`POST /admin/v1/facts/build`), timed until its execution ends; the stack's peak RSS.
 */
async function factsBuildThroughStack(
  home: string,
  name: string,
  body: Record<string, unknown>,
): Promise<RollupRun & { readonly startedAt: Date }> {
  const stack = await benchStack(home);
  const token = `Bearer ${(await readFile(join(home, 'admin-token'), 'utf8')).trim()}`;
  try {
    const startedAt = new Date();
    const started = performance.now();
    const cpuBefore = await cpuSecondsOf(stack.child.pid as number);
    const post = await api<{ links: string }>(`${stack.url}/admin/v1/facts/build`, {
      method: 'POST',
      token,
      body: JSON.stringify(body),
    });
    if (post.status !== 202) throw new Error(`POST facts/build answered ${post.status}: ${JSON.stringify(post.body)}`);
    for (;;) {
      const status = (await api<{ status: string }>(`${stack.url}${post.body.links}`, { token })).body.status;
      if (status !== 'running') break;
      await new Promise((done) => setTimeout(done, 250));
    }
    const seconds = (performance.now() - started) / 1000;
    if (/ended in error/.test(stack.log())) throw new Error(`the facts build failed:\n${stack.log()}`);
    return progress({
      name,
      seconds,
      rows: 0,
      csvBytes: 0,
      peakRssBytes: await peakRss(stack.child.pid as number),
      cpuSeconds: (await cpuSecondsOf(stack.child.pid as number)) - cpuBefore,
      startedAt,
    });
  } finally {
    await stop(stack.child);
  }
}

/** The events the exports' raw part selects after a build that started at `buildStartedAt`: received after its cutoff. */
async function countRawEvents(lakeDir: string, appId: string, buildStartedAt: Date): Promise<number> {
  const engine = await DuckDbQueryEngine.open({
    lakeDir,
    csvOutputDir: join(lakeDir, '..', 'out'),
    readTimeoutMs: 3_600_000,
  });
  try {
    const [row] = await engine.readRows(
      `SELECT count(*) AS n FROM ${EVENTS_TABLE_NAME} WHERE shard = ? AND app_id = ? AND received_at >= CAST(? AS TIMESTAMP)`,
      [lakeShard(appId), appId, new Date(buildStartedAt.getTime() - FACTS_RECEIVED_LAG_MS).toISOString()],
    );
    return Number(row?.n);
  } finally {
    engine.close();
  }
}

/** A fresh home: a first stack process makes the environment and its catalog, then stops; then the lake. */
async function benchLake(days: number, events: number) {
  const home = await mkdtemp(join(tmpdir(), 'featurelake-bench-rollup-'));
  const lakeDir = join(home, 'lake');
  const setup = await startStack(home);
  let env: { environment_id: string; api_key: string };
  try {
    env = await createBenchEnvironment(setup.url, home);
    await putCatalog(setup.url, `Token ${env.api_key}`);
  } finally {
    await stop(setup.child);
  }
  const started = performance.now();
  const generated = await generateLake(lakeDir, env.environment_id, events, days);
  console.error(
    `[rollup bench ${new Date().toISOString()}] lake of ${generated} events over ${days} days generated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return { home, lakeDir, env, events: generated, generateSeconds: (performance.now() - started) / 1000 };
}

const dayWithRecords = () => new Date(AS_OF.getTime() - 2 * 86_400_000).toISOString().slice(0, 10);

export async function rollupBenchmark(): Promise<RollupBenchmarkResult> {
  const scale = Number(process.env.BENCH_ROLLUP_EVENTS ?? 10_000_000);
  const { home, lakeDir, env, events, generateSeconds } = await benchLake(DAYS, scale);
  try {
    // The baselines twice, keeping the faster: these machines are shared and noisy,
    // and a slow baseline would flatter the exports.
    const best = async (name: string, task: ChildTask) => {
      const first = await measure(name, lakeDir, task);
      const second = await measure(name, lakeDir, task);
      return first.seconds <= second.seconds ? first : second;
    };
    const appId = env.environment_id;
    const bareCount = await best('bare GROUP BY, counted in DuckDB', { kind: 'bare', appId, toCsv: false });
    const bareCsv = await best('bare GROUP BY, to CSV', { kind: 'bare', appId, toCsv: true });
    const floor = await best("output floor: 5.2M rows of the export's shape, no lake", { kind: 'floor' });
    const token = `Token ${env.api_key}`;
    const fullRecompute =
      process.env.BENCH_ROLLUP_FULL === '1'
        ? [
            await exportThroughStack(home, token, '6m_weekly', { env: FULL, label: 'full recompute' }),
            await exportThroughStack(home, token, '30d_daily', { env: FULL, label: 'full recompute' }),
          ]
        : [];
    const factsFirstBuild = await factsBuildThroughStack(home, `facts: first build, all ${DAYS} days`, {
      environment_id: appId,
    });
    // A day's build with a day's records in it: the day before the last, whose records all
    // arrived long ago (the last day's are still inside the received lag, so it has none yet).
    const factsOneDay = await factsBuildThroughStack(home, `facts: rebuild of one day (${dayWithRecords()})`, {
      environment_id: appId,
      days: { from: dayWithRecords(), to: dayWithRecords() },
    });
    const exports = [
      await exportThroughStack(home, token, '6m_weekly', { label: 'from facts' }),
      await exportThroughStack(home, token, '30d_daily', { label: 'from facts' }),
      await exportThroughStack(home, token, 'today', { label: 'from facts' }),
    ];
    const rawEventsRead = await countRawEvents(lakeDir, appId, factsOneDay.startedAt);
    console.error(`[rollup bench] raw events read besides the facts: ${rawEventsRead}`);

    let growth: RollupBenchmarkResult['growth'];
    if (process.env.BENCH_ROLLUP_GROWTH === '1') {
      // Both lakes kept, and each aggregation's exports alternated between them (360, 180,
      // 360), best of two each: one sample of each, minutes apart, moved by up to 70 s on
      // this shared machine.
      const twice = await benchLake(2 * DAYS, 2 * scale);
      try {
        const build = await factsBuildThroughStack(twice.home, `facts: first build, all ${2 * DAYS} days`, {
          environment_id: twice.env.environment_id,
        });
        const twiceToken = `Token ${twice.env.api_key}`;
        const pairs: GrowthPair[] = [];
        for (const aggregation of GROWTH_AGGREGATIONS) {
          const label = `from facts, ${2 * DAYS} days`;
          const first = await exportThroughStack(twice.home, twiceToken, aggregation, { label });
          const again180 = await exportThroughStack(home, token, aggregation, { label: 'from facts, again' });
          const second = await exportThroughStack(twice.home, twiceToken, aggregation, { label });
          const earlier = exports.find((run) => run.name.startsWith(`${aggregation} `)) as RollupRun;
          pairs.push({ aggregation, days180: [earlier, again180], days360: [first, second] });
        }
        growth = { events: twice.events, generateSeconds: twice.generateSeconds, factsFirstBuild: build, pairs };
      } finally {
        await rm(twice.home, { recursive: true, force: true });
      }
    }
    return {
      events,
      generateSeconds,
      bareCount,
      bareCsv,
      floor,
      fullRecompute,
      factsFirstBuild,
      factsOneDay,
      exports,
      rawEventsRead,
      ...(growth ? { growth } : {}),
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** The fallback switch: the full recompute from raw events (docs/rollup.md). */
const FULL = { FEATURELAKE_ROLLUP_FROM_FACTS: '0' };

if (process.argv[2] === 'child' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runChild(process.argv[3] as string, JSON.parse(process.argv[4] as string) as ChildTask).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
