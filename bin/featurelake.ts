/**
 * `npx featurelake …`: the admin and export APIs for people at a terminal. Talks
 * to the local stack by default, or to a deployed stack given its URL and tokens.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { lakeShard } from '../lambdas/contract/lake.ts';
import { LOCAL_DEFAULT_HOME, LOCAL_DEFAULT_PORT } from './local/config.ts';

interface GlobalOptions {
  url: string;
  adminToken?: string;
  apiKey?: string;
  home: string;
}

class CliError extends Error {}

async function adminToken(options: GlobalOptions): Promise<string> {
  if (options.adminToken) return options.adminToken;
  const file = join(resolve(options.home), 'admin-token');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new CliError(
      `No admin token: pass --admin-token, set FEATURELAKE_ADMIN_TOKEN, or start the local stack (it writes ${file}).`,
    );
  }
}

type Auth = { kind: 'admin' } | { kind: 'token' };

async function authorization(options: GlobalOptions, auth: Auth): Promise<string> {
  if (auth.kind === 'admin') return `Bearer ${await adminToken(options)}`;
  if (!options.apiKey) {
    throw new CliError(
      'No API key: pass --api-key or set FEATURELAKE_API_KEY (printed when the environment was created).',
    );
  }
  return `Token ${options.apiKey}`;
}

async function callApi(
  options: GlobalOptions,
  path: string,
  init: { method?: string; body?: unknown; auth?: Auth } = {},
): Promise<unknown> {
  const url = `${options.url.replace(/\/$/, '')}${path}`;
  const headers: Record<string, string> = {
    authorization: await authorization(options, init.auth ?? { kind: 'admin' }),
  };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (error) {
    throw new CliError(
      `Cannot reach featurelake at ${options.url} (${(error as Error).cause ?? (error as Error).message}). Is \`npm start\` running?`,
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const errors = (parsed as { errors?: Array<{ message: string; details: string | null }> }).errors;
    const detail = errors?.map((e) => e.details ?? e.message).join('\n  ') ?? text;
    throw new CliError(`${response.status} from ${path}:\n  ${detail}`);
  }
  return parsed;
}

/** Downloads a URL to a file, streaming. */
async function download(url: string, out: string): Promise<number> {
  const response = await fetch(url);
  if (!response.ok || !response.body)
    throw new CliError(`download failed: ${response.status} ${await response.text()}`);
  await mkdir(dirname(resolve(out)), { recursive: true });
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(out));
  return (await stat(out)).size;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface CompanyExportJobView {
  job_id: string;
  status: 'running' | 'completed' | 'failed';
  rows: number | null;
  download_url: string | null;
  error: string | null;
}

interface EventsExportJobView {
  job_id: string;
  status: 'running' | 'completed' | 'failed';
  progress: string;
  all_chunks: string[];
  completed_chunks: string[];
  presigned_urls: Array<{ filename: string; url: string }>;
  error: string | null;
}

interface EventsExportOptions {
  from: string;
  to: string;
  format: string;
  eventType?: string[];
  userId?: string[];
  companyId?: string[];
  segmentId?: string;
  exclusions?: boolean;
  email?: string[];
  out: string;
  pollMs: string;
}

export function buildCli(): Command {
  const program = new Command('featurelake')
    .description('featurelake: tracking, company adoption exports and raw-event exports, self-hosted')
    .addOption(
      new Option('--url <url>', 'featurelake API base URL')
        .env('FEATURELAKE_URL')
        .default(`http://127.0.0.1:${process.env.PORT ?? LOCAL_DEFAULT_PORT}`),
    )
    .addOption(
      new Option('--admin-token <token>', 'admin token (default: read from $FEATURELAKE_HOME/admin-token)').env(
        'FEATURELAKE_ADMIN_TOKEN',
      ),
    )
    .addOption(
      new Option('--api-key <key>', "an environment's API key, for the export commands").env('FEATURELAKE_API_KEY'),
    )
    .addOption(
      new Option('--home <dir>', 'local stack state folder').env('FEATURELAKE_HOME').default(LOCAL_DEFAULT_HOME),
    )
    .showHelpAfterError();

  const env = program.command('env').description('environments');
  env
    .command('create')
    .description('create an environment; prints its keys (the API key is shown only now)')
    .requiredOption('--name <name>', 'environment name')
    .addOption(new Option('--plan <plan>', 'plan').choices(['free', 'pro', 'enterprise']).makeOptionMandatory())
    .action(async (options: { name: string; plan: string }) => {
      const created = await callApi(program.opts<GlobalOptions>(), '/admin/v1/environments', { body: options });
      console.log(JSON.stringify(created, null, 2));
    });

  env
    .command('shard')
    .description(
      "print the lake shard of an environment id: `WHERE shard = <n> AND app_id = '<id>'` reads only its partitions",
    )
    .argument('<environment-id>', 'the environment id (the lake column app_id)')
    .action((environmentId: string) => {
      console.log(lakeShard(environmentId));
    });

  program
    .command('sql')
    .description('run a read-only query over the lake’s events table; prints rows as JSON')
    .argument('<query>', 'one SELECT; use ? for values')
    .option('-p, --param <value...>', 'values bound to the ? placeholders, in order')
    .action(async (query: string, options: { param?: string[] }) => {
      const result = (await callApi(program.opts<GlobalOptions>(), '/admin/v1/sql', {
        body: { sql: query, params: options.param ?? [] },
      })) as { rows: unknown[]; truncated: boolean; truncated_reason?: string | null };
      console.log(JSON.stringify(result.rows, null, 2));
      if (result.truncated) {
        console.error(result.truncated_reason ?? `(only the first ${result.rows.length} rows are shown)`);
      }
    });

  program
    .command('scheduler')
    .description('the automatic-export schedule')
    .command('tick')
    .description('fire the daily schedule as EventBridge would at an instant: start the due automatic exports')
    .option(
      '--at <instant>',
      'ISO 8601 instant to fire for (default: now); the exports are as of 00:00 UTC of its date',
    )
    .action(async (options: { at?: string }) => {
      const report = await callApi(program.opts<GlobalOptions>(), '/admin/v1/scheduler/tick', {
        body: options.at ? { at: options.at } : {},
      });
      console.log(JSON.stringify(report, null, 2));
    });

  const facts = program.command('facts').description('the daily facts the company exports read (docs/rollup.md)');
  facts
    .command('build')
    .description(
      'build the daily facts now: every closed day without facts, and every day that received events since its build (a first run builds all of history)',
    )
    .option('--environment <id>', 'only this environment (default: every environment)')
    .option('--from <date>', 'with --environment and --to: rebuild these days (YYYY-MM-DD), stale or not')
    .option('--to <date>', 'the last day to rebuild (YYYY-MM-DD)')
    .option('--no-wait', 'print the started build and return at once')
    .option('--poll-ms <ms>', 'how often to ask whether the build still runs', '2000')
    .action(async (options: { environment?: string; from?: string; to?: string; wait: boolean; pollMs: string }) => {
      const global = program.opts<GlobalOptions>();
      if ((options.from === undefined) !== (options.to === undefined)) {
        throw new CliError('--from and --to go together: the first and the last day to rebuild.');
      }
      const started = (await callApi(global, '/admin/v1/facts/build', {
        body: {
          ...(options.environment ? { environment_id: options.environment } : {}),
          ...(options.from && options.to ? { days: { from: options.from, to: options.to } } : {}),
        },
      })) as { execution_name: string; links: string };
      console.log(JSON.stringify(started, null, 2));
      if (!options.wait) return;
      for (;;) {
        const status = (await callApi(global, started.links)) as { status: string };
        if (status.status !== 'running') {
          console.error(`facts build ${started.execution_name}: ${status.status}`);
          if (status.status !== 'ended') process.exitCode = 1;
          return;
        }
        await new Promise((done) => setTimeout(done, Number(options.pollMs)));
      }
    });

  const exports = program
    .command('export')
    .description('exports (API key of the environment: --api-key or FEATURELAKE_API_KEY)');
  exports
    .command('company')
    .description('company feature-adoption CSV (seed 000): start the job, follow it, download the file')
    .addOption(
      new Option('--aggregation <aggregation>', 'historical aggregation')
        .choices(['today', '30d_daily', '3m_weekly', '6m_weekly'])
        .makeOptionMandatory(),
    )
    .option('--as-of <instant>', 'the instant that stands for "now" (ISO 8601, default: now)')
    .requiredOption('--out <file>', 'where to write the CSV')
    .option('--poll-ms <ms>', 'how often to ask for the job status', '1000')
    .action(async (options: { aggregation: string; asOf?: string; out: string; pollMs: string }) => {
      const global = program.opts<GlobalOptions>();
      const started = (await callApi(global, '/api/v1/company-exports', {
        auth: { kind: 'token' },
        body: { aggregation: options.aggregation, ...(options.asOf ? { as_of: options.asOf } : {}) },
      })) as { job_id: string; links: string };
      const bar = new SingleBar(
        { format: 'company export {job} | {status} | {duration}s', hideCursor: true, stream: process.stderr },
        Presets.shades_classic,
      );
      bar.start(1, 0, { job: started.job_id, status: 'running' });
      let job: CompanyExportJobView;
      try {
        for (;;) {
          job = (await callApi(global, started.links, { auth: { kind: 'token' } })) as CompanyExportJobView;
          bar.update(job.status === 'running' ? 0 : 1, { status: job.status });
          if (job.status !== 'running') break;
          await sleep(Number(options.pollMs));
        }
      } finally {
        bar.stop();
      }
      if (job.status === 'failed') throw new CliError(`the export failed: ${job.error ?? 'no reason given'}`);
      if (!job.download_url) throw new CliError('the export completed without a download URL');
      const bytes = await download(job.download_url, options.out);
      console.log(JSON.stringify({ job_id: job.job_id, rows: job.rows, file: resolve(options.out), bytes }));
    });

  exports
    .command('events')
    .description(
      'raw events (seed 002): start the export job, show its partitions as they finish, download every weekly file',
    )
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD')
    .addOption(new Option('--format <format>', 'file format').choices(['json', 'csv']).default('json'))
    .option('--event-type <types...>', 'event types to export (default: every type)')
    .option('--user-id <ids...>', 'only these users')
    .option('--company-id <ids...>', 'only these companies')
    .option('--segment-id <id>', 'only the companies of this segment')
    .option('--exclusions', "leave out the environment's excluded users and companies")
    .option('--email <addresses...>', 'also email the download links to these addresses')
    .requiredOption('--out <dir>', 'folder to download the files into')
    .option('--poll-ms <ms>', 'how often to ask for the job status', '1000')
    .action(async (options: EventsExportOptions) => {
      const global = program.opts<GlobalOptions>();
      const body = {
        from: options.from,
        to: options.to,
        format: options.format,
        ...(options.eventType ? { event_type: options.eventType } : {}),
        ...(options.userId ? { user_id: options.userId } : {}),
        ...(options.companyId ? { company_id: options.companyId } : {}),
        ...(options.segmentId ? { segment_id: options.segmentId } : {}),
        ...(options.exclusions ? { exclusions: true } : {}),
        ...(options.email ? { emails: options.email } : {}),
      };
      const started = (await callApi(global, '/api/v1/analytics/exports', {
        auth: { kind: 'token' },
        body,
      })) as { job_id: string; links: string };
      const bar = new SingleBar(
        {
          format: 'events export {job} | {bar} | {value}/{total} partitions | {status} | {duration}s',
          hideCursor: true,
          stream: process.stderr,
          // Also when stderr is a file or a pipe (CI logs), a line now and then.
          noTTYOutput: true,
          notTTYSchedule: 5000,
        },
        Presets.shades_classic,
      );
      let job: EventsExportJobView;
      let barStarted = false;
      try {
        for (;;) {
          job = (await callApi(global, started.links, { auth: { kind: 'token' } })) as EventsExportJobView;
          if (!barStarted) {
            bar.start(job.all_chunks.length, 0, { job: started.job_id, status: job.status });
            barStarted = true;
          }
          bar.update(job.completed_chunks.length, { status: job.status });
          if (job.status !== 'running') break;
          await sleep(Number(options.pollMs));
        }
      } finally {
        bar.stop();
      }
      if (job.status === 'failed') throw new CliError(`the export failed: ${job.error ?? 'no reason given'}`);
      const files = [];
      for (const file of job.presigned_urls) {
        const path = join(resolve(options.out), file.filename);
        files.push({ filename: file.filename, path, bytes: await download(file.url, path) });
      }
      console.log(JSON.stringify({ job_id: job.job_id, status: job.status, progress: job.progress, files }));
    });

  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    console.error(error instanceof CliError ? `featurelake: ${error.message}` : error);
    process.exitCode = 1;
  });
