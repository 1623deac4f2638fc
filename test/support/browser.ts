import { access, constants } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContextOptions, type ConsoleMessage, chromium, type Page } from 'playwright-core';

/**
 * Real Chromium for the tests that need a browser (the vendors' browser SDKs, the
 * console): Debian's `chromium` package, driven by playwright-core, headless.
 * Playwright's own browser download needs the internet; the distribution's
 * package does not.
 */

/** Where Debian's `chromium` package puts the browser; `FEATURELAKE_CHROMIUM` points elsewhere. */
export const CHROMIUM_PATH = process.env.FEATURELAKE_CHROMIUM || '/usr/bin/chromium';

/**
 * Chromium, headless. A missing browser fails the test with how to install it:
 * a browser test that skipped itself would pass without proving anything.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the browser tests drive a real Chromium. ` +
        'Install it with `sudo apt-get install -y chromium` (Debian; .ci/run does this when it is missing), ' +
        'or set FEATURELAKE_CHROMIUM to a Chromium or Chrome binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      // Chromium refuses to start its sandbox as root (CI runs as root in a container).
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      // Containers often give /dev/shm 64 MB, which a renderer can exhaust.
      '--disable-dev-shm-usage',
    ],
  });
}

/** A page that records what a developer would see in its console. */
export interface WatchedPage {
  readonly page: Page;
  /** Console messages, in order, as `type: text`. */
  readonly console: string[];
  /** Uncaught exceptions and unhandled rejections of the page. */
  readonly pageErrors: string[];
  /** Requests that got no answer at all (refused, blocked by CORS, aborted), and answers of 400 or more. */
  readonly failedRequests: string[];
  /** The console's errors and warnings, uncaught exceptions and failed requests: what a test expects to be empty. */
  problems(): string[];
}

export async function watchedPage(browser: Browser, contextOptions: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const messages: ConsoleMessage[] = [];
  const pageErrors: string[] = [];
  const failedRequests: string[] = [];
  page.on('console', (message) => messages.push(message));
  page.on('pageerror', (error) => pageErrors.push(error.stack ?? String(error)));
  page.on('requestfailed', (request) =>
    failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText ?? 'failed'}`),
  );
  // The console's "Failed to load resource" names no URL: these do.
  page.on('response', (response) => {
    if (response.status() >= 400) {
      failedRequests.push(`${response.request().method()} ${response.url()}: ${response.status()}`);
    }
  });
  return {
    page,
    get console() {
      return messages.map((message) => `${message.type()}: ${message.text()}`);
    },
    pageErrors,
    failedRequests,
    problems() {
      return [
        ...messages
          .filter((message) => message.type() === 'error' || message.type() === 'warning')
          .map((message) => `console ${message.type()}: ${message.text()}`),
        ...pageErrors.map((error) => `uncaught: ${error}`),
        ...failedRequests.map((request) => `request failed: ${request}`),
      ];
    },
  };
}

export interface StaticFile {
  readonly contentType: string;
  readonly body: string | Buffer;
}

/**
 * A web server for test pages, on its own port: a page it serves has another
 * origin than the stack's API, so every API call the page makes is cross-origin,
 * preflights included, as on a customer's site. Unknown paths are 404.
 */
export async function servePages(
  files: Readonly<Record<string, StaticFile>>,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(`http://pages${req.url ?? '/'}`).pathname;
    const file = files[path];
    if (!file || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
