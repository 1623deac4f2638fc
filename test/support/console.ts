import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { LocalStackOptions } from '../../bin/local.ts';
import { launchChromium, type WatchedPage, watchedPage } from './browser.ts';
import { admin, startTestStack } from './local-stack.ts';

/**
 * The console in a real Chromium against the real local stack (test/support/local-stack.ts,
 * which serves the console at /console/ as `npm start` does). Tests find things by
 * role and label, as a person would.
 */

export type Plan = 'free' | 'pro' | 'enterprise';

/** An environment as `POST /admin/v1/environments` created it, its API key included. */
export interface CreatedEnvironment {
  readonly environment_id: string;
  readonly name: string;
  readonly plan: Plan;
  readonly app_token: string;
  readonly tracking_key: string;
  readonly api_key: string;
}

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;

export interface ConsoleHarness {
  readonly stack: TestStack;
  readonly browser: Browser;
  /** Creates an environment through the admin API. */
  createEnvironment(name: string, plan: Plan): Promise<CreatedEnvironment>;
  /** A fresh browser context (its own sessionStorage) on the console's sign-in page. */
  openConsole(contextOptions?: BrowserContextOptions): Promise<WatchedPage>;
  /** A fresh context signed in with `secret`, its first page shown (the environment's name in the nav). */
  signedIn(secret: string, contextOptions?: BrowserContextOptions): Promise<WatchedPage>;
  /** Stops the browser and the stack (failing on any exchange the OpenAPI document does not allow). */
  close(): Promise<void>;
}

/** Starts a test stack and Chromium. Call `close` in afterAll. */
export async function startConsoleHarness(options: LocalStackOptions = {}): Promise<ConsoleHarness> {
  const stack = await startTestStack(options);
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await stack.cleanup();
    throw error;
  }
  const harness: ConsoleHarness = {
    stack,
    browser,
    async createEnvironment(name, plan) {
      const response = await admin(stack).createEnvironment(name, plan);
      if (response.status !== 201) throw new Error(`creating ${name} failed: ${response.status} ${response.text}`);
      return response.body as CreatedEnvironment;
    },
    async openConsole(contextOptions) {
      const watched = await watchedPage(browser, contextOptions);
      await watched.page.goto(`${stack.url}/`);
      await expect.poll(() => watched.page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
      return watched;
    },
    async signedIn(secret, contextOptions) {
      const watched = await harness.openConsole(contextOptions);
      await signIn(watched.page, secret);
      await watched.page.getByRole('navigation', { name: 'Settings' }).waitFor();
      return watched;
    },
    async close() {
      try {
        await browser.close();
      } finally {
        await stack.cleanup();
      }
    },
  };
  return harness;
}

/** Fills the sign-in form as a person would and submits it. */
export async function signIn(page: Page, secret: string): Promise<void> {
  await page.getByLabel('API key or admin token').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Saves a screenshot for docs/console.md as docs/console/<name>.png, only when
 * FEATURELAKE_SCREENSHOTS=1 (so `npm test` leaves the tree clean).
 */
export async function docsScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.FEATURELAKE_SCREENSHOTS !== '1') return;
  const dir = join(import.meta.dirname, '..', '..', 'docs', 'console');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** axe-core's serious and critical violations on the page as it is now, by rule and element. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .flatMap((violation) =>
      violation.nodes.map((node) => `${violation.id}: ${violation.help} (${node.target.join(' ')})`),
    );
}

/** Presses Tab until `target` has the focus, as a keyboard user gets there. */
export async function tabTo(page: Page, target: Locator, most = 80): Promise<void> {
  for (let i = 0; i < most; i += 1) {
    if (await target.evaluate((element) => element === element.ownerDocument.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target}`);
}

/** The text of the elements that describe `field` (aria-describedby): its hint and error. */
export async function descriptionOf(page: Page, field: Locator): Promise<string> {
  const ids = (await field.getAttribute('aria-describedby')) ?? '';
  const texts = await Promise.all(
    ids
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => page.locator(`[id="${id}"]`).textContent()),
  );
  return texts.join(' ');
}
