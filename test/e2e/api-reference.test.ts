import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_REFERENCE_PAGE, buildApiReference } from '../../bin/api-reference.ts';
import { ROUTES } from '../../lambdas/contract/routes.ts';
import { OPERATIONS, openApiDocument } from '../../lambdas/core/openapi/document.ts';
import { http, startTestStack, tempHome } from '../support/local-stack.ts';

/**
 * The API reference the README links (docs/api-reference.html): rendered by Redocly
 * from the document GET /openapi.json serves, kept in step with it, and readable in
 * a real browser with every network request refused (no CDN, no internet).
 */

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
});

describe('GET /openapi.json', () => {
  it('serves the document, which the reference page renders', async () => {
    const stack = await startTestStack();
    try {
      const response = await http(`${stack.url}/openapi.json`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(openApiDocument());
      expect(stack.exchanges.checked).toBe(1);
    } finally {
      await stack.cleanup();
    }
  });
});

describe('docs/api-reference.html', () => {
  it('is what `npm run docs:api` renders from the current document (run it after changing a route)', async () => {
    const dir = await tempHome('featurelake-api-reference-test-');
    try {
      const fresh = join(dir, 'api-reference.html');
      await buildApiReference(fresh);
      const [built, committed] = await Promise.all([readFile(fresh, 'utf8'), readFile(API_REFERENCE_PAGE, 'utf8')]);
      expect(built === committed, 'docs/api-reference.html is stale: run `npm run docs:api`').toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders every route in a browser that refuses every network request', async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      refused.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(API_REFERENCE_PAGE).href);

    // The overview lists each tag's operations, a long list behind "Show N more..." (which
    // works once Redoc has hydrated its prerendered page: clicked, and the page scrolled,
    // until nothing is left to show).
    await page.getByText('Operations').first().waitFor();
    // Redoc renders sections as they scroll into view and drops those far above, so a
    // long document never shows every route at once: count each route once it was shown.
    const seen = new Set<string>();
    const unlisted = async () => {
      const more = page.getByText(/^Show \d+ more/);
      if ((await more.count()) > 0)
        await more
          .first()
          .click({ timeout: 1000 })
          .catch(() => undefined);
      // The last sections render as they scroll into view.
      await page.mouse.wheel(0, 4000);
      const overview = await page.locator('body').innerText();
      for (const route of ROUTES) {
        const entry = `${route.method}\n${route.path}`;
        if (overview.includes(entry)) seen.add(entry);
      }
      return ROUTES.map((route) => `${route.method}\n${route.path}`).filter((entry) => !seen.has(entry));
    };
    await expect.poll(unlisted, { timeout: 20_000, interval: 250 }).toEqual([]);

    // An operation opens with its summary.
    await page.getByText('/api/v1/exclusions', { exact: true }).last().click();
    await page
      .getByText(OPERATIONS['PUT /api/v1/exclusions']?.summary ?? 'no summary')
      .first()
      .waitFor();

    expect(errors).toEqual([]);
    // Only the "API docs by Redocly" logo is fetched from Redocly's CDN; refused, it hides itself.
    expect(refused.filter((url) => !url.startsWith('https://cdn.redoc.ly/redoc/logo-mini'))).toEqual([]);
    await page.close();
  });
});
