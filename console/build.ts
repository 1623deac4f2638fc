/**
 * `npm run console:build [outDir]`: bundles the console (Preact, esbuild's JS API)
 * into `outDir`: `index.html`, one hashed JS file and one hashed CSS file, so that
 * the page loads its script with `<script type=module src>` (the CSP allows no
 * inline script) and a deployed file can be cached for as long as its name lives.
 * `npm start` and the CDK app call `buildConsole` themselves; no output is committed.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const CONSOLE_DIR = import.meta.dirname;

/** The console's JavaScript may weigh at most this much gzipped (issue 13's budget). */
export const CONSOLE_JS_BUDGET_BYTES = 150 * 1024;

export interface ConsoleBuild {
  readonly outDir: string;
  /** File names inside outDir: index.html first. */
  readonly files: readonly string[];
  /** The JS bundle's size, gzipped (level 9, as a CDN would compress it at best). */
  readonly jsGzipBytes: number;
}

/** Throws when a bundle's gzipped size is over the budget, saying by how much. */
export function checkConsoleBudget(js: Uint8Array, budgetBytes: number = CONSOLE_JS_BUDGET_BYTES): number {
  const gzipped = gzipSync(js, { level: 9 }).length;
  if (gzipped > budgetBytes) {
    throw new Error(
      `The console's JavaScript is ${(gzipped / 1024).toFixed(1)} KB gzipped, over its budget of ` +
        `${(budgetBytes / 1024).toFixed(0)} KB: drop a dependency or split the bundle.`,
    );
  }
  return gzipped;
}

/** Builds the console into `outDir` (emptied first). Fails when the JS is over its budget. */
export async function buildConsole(outDir: string): Promise<ConsoleBuild> {
  const out = resolve(outDir);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const result = await build({
    entryPoints: [join(CONSOLE_DIR, 'src', 'main.tsx')],
    outdir: out,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const js = result.outputFiles.find((file) => file.path.endsWith('.js'));
  const css = result.outputFiles.find((file) => file.path.endsWith('.css'));
  if (!js || !css) throw new Error('console build: esbuild emitted no JS or no CSS file');
  const jsGzipBytes = checkConsoleBudget(js.contents);
  const template = await readFile(join(CONSOLE_DIR, 'index.html'), 'utf8');
  const html = template.replace('%JS%', basename(js.path)).replace('%CSS%', basename(css.path));
  await Promise.all([
    writeFile(join(out, 'index.html'), html),
    writeFile(js.path, js.contents),
    writeFile(css.path, css.contents),
  ]);
  return { outDir: out, files: ['index.html', basename(js.path), basename(css.path)], jsGzipBytes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = process.argv[2] ?? join(CONSOLE_DIR, 'dist');
  buildConsole(outDir).then(
    (built) =>
      console.log(`built the console into ${built.outDir} (JS ${(built.jsGzipBytes / 1024).toFixed(1)} KB gzipped)`),
    (error) => {
      console.error('the console could not be built:', error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
