/**
 * `npm run docs:api`: renders the OpenAPI document (the one `GET /openapi.json`
 * serves) as docs/api-reference.html with `redocly build-docs --inlineBundle`: one
 * self-contained page, Redoc's script inside, so it opens from disk with no CDN or
 * internet. test/e2e/api-reference.test.ts fails when the committed page is stale.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { openApiDocument } from '../lambdas/core/openapi/document.ts';

const ROOT = join(import.meta.dirname, '..');
export const API_REFERENCE_PAGE = join(ROOT, 'docs', 'api-reference.html');

/** Writes the rendered reference page to `output`. */
export async function buildApiReference(output: string = API_REFERENCE_PAGE): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'featurelake-api-reference-'));
  try {
    const document = join(dir, 'openapi.json');
    await writeFile(document, JSON.stringify(openApiDocument(), null, 2));
    await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'),
        'build-docs',
        document,
        '--config',
        join(ROOT, 'redocly.yaml'),
        '--inlineBundle',
        '--title',
        'featurelake API reference',
        '--output',
        output,
      ],
      // No telemetry or update check: the page builds offline.
      { cwd: ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  buildApiReference().then(
    () => console.log(`wrote ${API_REFERENCE_PAGE}`),
    (error) => {
      console.error('the API reference could not be built:', error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
