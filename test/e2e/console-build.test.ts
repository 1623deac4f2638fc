import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CONSOLE_API_SCHEMA, consoleApiSchema } from '../../bin/console-api.ts';
import { buildConsole, CONSOLE_JS_BUDGET_BYTES, checkConsoleBudget } from '../../console/build.ts';
import { tempHome } from '../support/local-stack.ts';

describe('the console build', () => {
  it('emits index.html loading one hashed JS and one CSS file, the JS within its gzipped budget', async () => {
    const dir = await tempHome('featurelake-console-build-');
    try {
      const built = await buildConsole(join(dir, 'out'));
      expect(built.files[0]).toBe('index.html');
      const html = await readFile(join(built.outDir, 'index.html'), 'utf8');
      const js = built.files.find((name) => /^main-\w+\.js$/.test(name));
      const css = built.files.find((name) => /^main-\w+\.css$/.test(name));
      expect(html).toContain(`<script type="module" src="./${js}"></script>`);
      expect(html).toContain(`<link rel="stylesheet" href="./${css}" />`);
      // No inline script: the CSP (script-src 'self') would refuse it.
      expect(html.match(/<script/g)).toHaveLength(1);
      const bundle = await readFile(join(built.outDir, js ?? ''));
      expect(built.jsGzipBytes).toBe(gzipSync(bundle, { level: 9 }).length);
      expect(built.jsGzipBytes).toBeLessThanOrEqual(CONSOLE_JS_BUDGET_BYTES);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails a bundle over the budget, saying by how much', () => {
    // Random bytes do not compress: 2 KB stays about 2 KB gzipped.
    const incompressible = new Uint8Array(2048).map(() => Math.floor(Math.random() * 256));
    expect(() => checkConsoleBudget(incompressible, 1024)).toThrow(/KB gzipped, over its budget of 1 KB/);
    expect(checkConsoleBudget(incompressible, 4096)).toBeGreaterThan(2000);
  });
});

describe('console/src/api/schema.d.ts', () => {
  it('is what `npm run console:api` generates from the current OpenAPI document (run it after changing a route)', async () => {
    const committed = await readFile(CONSOLE_API_SCHEMA, 'utf8');
    expect(
      committed === (await consoleApiSchema()),
      'console/src/api/schema.d.ts is stale: run `npm run console:api`',
    ).toBe(true);
  });
});
