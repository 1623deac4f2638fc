/**
 * The console on the local stack, as CloudFront serves it on AWS (lib/console.ts):
 * built at start (esbuild, well under a second) into `$FEATURELAKE_HOME/console/`,
 * its files at `/console/…` with the console's security headers, and `/` redirected
 * to `/console/`. Everything else goes on to the API's routes.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { buildConsole } from '../../console/build.ts';
import { CONSOLE_PATH, CONSOLE_SECURITY_HEADERS } from '../../lambdas/contract/console.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Answers a request when it is the console's; resolves false for anything else. */
export type FrontHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** Builds the console into `outDir` and returns the handler serving it. */
export async function consoleSite(outDir: string): Promise<FrontHandler> {
  const built = await buildConsole(outDir);
  // The build's few files, read once: the set is fixed until the next start.
  const files = new Map<string, Buffer>();
  for (const name of built.files) files.set(name, await readFile(join(built.outDir, name)));
  return async (req, res) => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return false;
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://local').pathname;
    } catch {
      return false;
    }
    if (path === '/') {
      res.writeHead(302, { location: CONSOLE_PATH, 'cache-control': 'no-store' }).end();
      return true;
    }
    if (path === '/console') {
      res.writeHead(301, { location: CONSOLE_PATH }).end();
      return true;
    }
    if (!path.startsWith(CONSOLE_PATH)) return false;
    const name = path.slice(CONSOLE_PATH.length) || 'index.html';
    const body = files.get(name);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...CONSOLE_SECURITY_HEADERS }).end('Not Found');
      return true;
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
      'content-length': body.length,
      // index.html names the hashed JS and CSS: it is never cached, they are forever.
      'cache-control': name === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
      ...CONSOLE_SECURITY_HEADERS,
    });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  };
}
