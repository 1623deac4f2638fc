/**
 * `npx featurelake …`: the admin and export APIs for people at a terminal. Talks
 * to the local stack by default, or to a deployed stack given its URL and tokens.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';

interface GlobalOptions {
  url: string;
  adminToken?: string;
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

async function callApi(options: GlobalOptions, path: string, body: unknown): Promise<unknown> {
  const url = `${options.url.replace(/\/$/, '')}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await adminToken(options)}` },
      body: JSON.stringify(body),
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

export function buildCli(): Command {
  const program = new Command('featurelake')
    .description('featurelake: tracking, company adoption exports and raw-event exports, self-hosted')
    .addOption(
      new Option('--url <url>', 'featurelake API base URL')
        .env('FEATURELAKE_URL')
        .default(`http://127.0.0.1:${process.env.PORT ?? 3000}`),
    )
    .addOption(
      new Option('--admin-token <token>', 'admin token (default: read from $FEATURELAKE_HOME/admin-token)').env(
        'FEATURELAKE_ADMIN_TOKEN',
      ),
    )
    .addOption(new Option('--home <dir>', 'local stack state folder').env('FEATURELAKE_HOME').default('.featurelake'))
    .showHelpAfterError();

  const env = program.command('env').description('environments');
  env
    .command('create')
    .description('create an environment; prints its keys (the API key is shown only now)')
    .requiredOption('--name <name>', 'environment name')
    .addOption(new Option('--plan <plan>', 'plan').choices(['free', 'pro', 'enterprise']).makeOptionMandatory())
    .action(async (options: { name: string; plan: string }) => {
      const created = await callApi(program.opts<GlobalOptions>(), '/admin/v1/environments', options);
      console.log(JSON.stringify(created, null, 2));
    });

  program
    .command('sql')
    .description('run a read-only query over the lake’s events table; prints rows as JSON')
    .argument('<query>', 'one SELECT; use ? for values')
    .option('-p, --param <value...>', 'values bound to the ? placeholders, in order')
    .action(async (query: string, options: { param?: string[] }) => {
      const result = (await callApi(program.opts<GlobalOptions>(), '/admin/v1/sql', {
        sql: query,
        params: options.param ?? [],
      })) as { rows: unknown[]; truncated: boolean };
      console.log(JSON.stringify(result.rows, null, 2));
      if (result.truncated) console.error(`(only the first ${result.rows.length} rows are shown)`);
    });

  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    console.error(error instanceof CliError ? `featurelake: ${error.message}` : error);
    process.exitCode = 1;
  });
