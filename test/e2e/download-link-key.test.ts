import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { admin, http, startTestStack } from '../support/local-stack.ts';

/**
 * The download-link key (issue 11, finding 3) stays where it is kept: in
 * `$FEATURELAKE_HOME/download-link.key` (0600) locally, as in Secrets Manager on
 * AWS. Whatever a client does with links, good, changed, malformed or broken, the
 * key is in no response and no line the stack logs.
 */

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
const logged: string[] = [];
const responses: string[] = [];

async function call(url: string, init: Parameters<typeof http>[1] = {}) {
  const response = await http(url, init);
  responses.push(response.text);
  return response;
}

beforeAll(async () => {
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((arg) => (arg instanceof Error ? `${arg.message}\n${arg.stack}` : String(arg))).join(' '));
    });
  }
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.cleanup();
  vi.restoreAllMocks();
});

describe('the download-link key', () => {
  it('lives in a 0600 file of the home, and is never in a response body or a log line', async () => {
    const path = join(stack.home, 'download-link.key');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const key = (await readFile(path, 'utf8')).trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const env = (await admin(stack).createEnvironment('keys', 'enterprise')).body;
    const auth = { authorization: `Token ${env.api_key}` };
    const started = await call(`${stack.url}/api/v1/company-exports`, {
      headers: auth,
      body: { aggregation: 'today' },
    });
    await stack.workflowsIdle();
    const job = await call(`${stack.url}${started.body.links}`, { headers: auth });
    const link = new URL(job.body.download_url);
    // Followed, changed, malformed, and on a job that does not exist.
    responses.push(await (await fetch(link)).text());
    const signature = link.searchParams.get('signature') ?? '';
    // Its last character changed (to another: the original may itself end in "A").
    const lastChanged = `${signature.slice(0, 42)}${signature.endsWith('A') ? 'E' : 'A'}`;
    const variants = [
      ['signature', lastChanged],
      ['signature', key],
      ['expires', '1'],
      ['environment_id', key],
      ['signature', ''],
    ];
    for (const [name, value] of variants) {
      const changed = new URL(link);
      changed.searchParams.set(name as string, value as string);
      const refused = await call(changed.toString());
      expect(refused.status, refused.text).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
    }
    const missing = new URL(link);
    missing.pathname = missing.pathname.replace(started.body.job_id, '00000000-0000-0000-0000-000000000000');
    expect((await call(missing.toString())).status).toBe(403);

    expect(responses.length).toBeGreaterThan(5);
    for (const text of [...responses, ...logged]) expect(text).not.toContain(key);
  });
});
