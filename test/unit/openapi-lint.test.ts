import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lambdas/core/openapi/document.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const REDOCLY = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

/** `redocly lint` with the repository's redocly.yaml; no telemetry or update check (no internet here). */
async function lint(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [REDOCLY, 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'stylish'],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'featurelake-openapi-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('redocly lint (recommended rules, redocly.yaml)', () => {
  it('finds no error and no warning in the document GET /openapi.json serves', async () => {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(openApiDocument(), null, 2));
    const { code, output } = await lint(file);
    expect(code, output).toBe(0);
    expect(output).toContain('Your API description is valid');
    expect(output).not.toMatch(/You have \d+ warnings?/);
  });

  it('fails a document whose operation lost its summary and its security', async () => {
    const broken = openApiDocument() as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const operation = broken.paths['/api/v1/features']?.get ?? {};
    delete operation.summary;
    delete operation.security;
    const file = join(dir, 'broken.json');
    await writeFile(file, JSON.stringify(broken));
    const { code, output } = await lint(file);
    expect(code).not.toBe(0);
    expect(output).toMatch(/security-defined/);
  });
});
