import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../bin/local.ts';
import type { ObservedExchange } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { ensureStateTable } from '../../lambdas/adapters/local/state-table.ts';
import { OpenApiExchangeValidator } from './openapi-exchanges.ts';

/** A DynamoDB client for the dynalite at `endpoint` (dynalite only checks that credentials are present). */
export function dynaliteClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
}

export interface InMemoryStateTable {
  /** Where the dynalite listens (for a child process's client). */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  /** Stops the client and the dynalite. */
  close(): Promise<void>;
}

/** A dynalite in memory, on a free port, holding the state table `table` as the stack lays it out. */
export async function inMemoryStateTable(table: string): Promise<InMemoryStateTable> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = dynaliteClient(endpoint);
  await ensureStateTable(client, table);
  return {
    endpoint,
    client,
    documents: DynamoDBDocumentClient.from(client),
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function tempHome(prefix = 'featurelake-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * The real local stack (dynalite, s3rver, DuckDB, durable log) on a free port in a
 * fresh home. Every exchange it serves is checked against the OpenAPI document
 * (test/support/openapi-exchanges.ts); `close` and `cleanup` fail the test on any violation.
 */
export async function startTestStack(
  options: LocalStackOptions = {},
): Promise<LocalStack & { readonly exchanges: OpenApiExchangeValidator; cleanup(): Promise<void> }> {
  const home = options.home ?? (await tempHome());
  const exchanges = new OpenApiExchangeValidator();
  const stack = await startLocalStack({ port: 0, ...options, home, observeExchanges: exchanges.observe });
  return {
    ...stack,
    exchanges,
    async close() {
      await stack.close();
      exchanges.assertNone();
    },
    async cleanup() {
      try {
        await stack.close();
      } finally {
        await rm(home, { recursive: true, force: true });
      }
      exchanges.assertNone();
    },
  };
}

export interface HttpResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export async function http<T = any>(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; raw?: string | Buffer } = {},
): Promise<HttpResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | Buffer | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: leave the text
  }
  return { status: response.status, body: parsed as T, text };
}

export function admin(stack: { url: string; adminToken: string }) {
  const auth = { authorization: `Bearer ${stack.adminToken}` };
  return {
    createEnvironment: (name: string, plan: 'free' | 'pro' | 'enterprise') =>
      http(`${stack.url}/admin/v1/environments`, { headers: auth, body: { name, plan } }),
    sql: async <R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> => {
      const response = await http<{ rows: R[] }>(`${stack.url}/admin/v1/sql`, { headers: auth, body: { sql, params } });
      if (response.status !== 200) throw new Error(`sql failed: ${response.status} ${response.text}`);
      return response.body.rows;
    },
  };
}

/**
 * `npm start` as a user runs it, in a child process (for crash tests). Resolves with its URL once it serves.
 * Every exchange it serves is logged in the home (test/support/exchange-log.ts); `exchangeViolations()`
 * checks them, and those of earlier stacks on the same home, against the OpenAPI document.
 */
export async function spawnLocalStack(
  home: string,
  /** Environment variables the stack starts with besides (e.g. FEATURELAKE_ROLLUP_FROM_FACTS). */
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; output: () => string; exchangeViolations(): Promise<string[]> }> {
  const log = join(home, EXCHANGE_LOG);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './test/support/exchange-log.ts', 'bin/local.ts'],
    {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, ...env, FEATURELAKE_HOME: home, PORT: '0', FEATURELAKE_TEST_EXCHANGE_LOG: log },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local stack did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /local stack on (http:\/\/[\d.:]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local stack exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output, exchangeViolations: () => readExchangeViolations(log) };
}

/** Where a spawned stack logs its exchanges, in its home. */
const EXCHANGE_LOG = 'test-exchanges.jsonl';

/** The violations of the OpenAPI document among the exchanges logged in `file` (a line cut by SIGKILL is skipped). */
async function readExchangeViolations(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const validator = new OpenApiExchangeValidator();
  for (const line of text.split('\n')) {
    let logged: ObservedExchange & { rawBody: string };
    try {
      logged = JSON.parse(line);
    } catch {
      continue;
    }
    validator.observe({ ...logged, rawBody: Buffer.from(logged.rawBody, 'base64') });
  }
  if (validator.checked === 0) return [`no exchange was logged in ${file}`];
  return [...validator.violations()];
}
