import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack } from '../support/local-stack.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let workdir: string;
let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  // The README runs from the folder where `npm start` keeps `.featurelake/`.
  workdir = await mkdtemp(join(tmpdir(), 'featurelake-readme-'));
  stack = await startTestStack({ home: join(workdir, '.featurelake') });
});
afterAll(async () => {
  await stack?.close();
  await rm(workdir, { recursive: true, force: true });
});

describe('the README walkthrough', () => {
  it('runs as written against the local stack', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Walkthrough'));
    const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
    expect(script).toBeDefined();
    // Only the port differs (the test stack takes a free one) and `npx featurelake` resolves to this checkout.
    const runnable = (script as string)
      .replace(/^BASE=.*$/m, `BASE=${stack.url}`)
      .replaceAll('npx featurelake', `node ${join(ROOT, 'bin', 'featurelake.mjs')}`);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', runnable], {
      cwd: workdir,
      env: { ...process.env, FEATURELAKE_URL: stack.url },
    });
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('{"status":"ok"}');
    expect(lines.filter((l) => l === '{"success":true}')).toHaveLength(4);
    expect(lines).toContain('{"success":true,"accepted":2}');
    const rejected = JSON.parse(lines.find((l) => l.startsWith('{"errors"')) ?? '{}');
    expect(rejected.errors.map((e: { field: string }) => e.field)).toEqual(['userId', 'score']);
    const queried = JSON.parse(lines.find((l) => l.startsWith('{"rows"')) ?? '{}');
    expect(queried.rows.map((r: { event_type: string }) => r.event_type)).toEqual([
      'identify_user',
      'identify_company',
      'track',
      'feedback',
    ]);
    expect(stdout).toMatch(/"event_type": "track",\s+"n": 2/);
    expect(stdout).toMatch(/"name": "production",\s+"plan": "pro"/);
  });
});
