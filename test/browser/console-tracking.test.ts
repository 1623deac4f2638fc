import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsoleHarness,
  type CreatedEnvironment,
  docsScreenshot,
  seriousViolations,
  startConsoleHarness,
} from '../support/console.ts';
import { http } from '../support/local-stack.ts';

let harness: ConsoleHarness;
let a: CreatedEnvironment;
let b: CreatedEnvironment;

const send = async (env: CreatedEnvironment, method: string, body: unknown) => {
  const response = await http(`${harness.stack.url}/${env.tracking_key}/${method}`, { body });
  expect(response.status, response.text).toBe(200);
};

/** No serious or critical axe violation on the page as it is now. */
async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
}

async function openTracking(env: CreatedEnvironment) {
  const watched = await harness.signedIn(env.api_key, { permissions: ['clipboard-read', 'clipboard-write'] });
  await watched.page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Tracking' }).click();
  await watched.page.getByRole('heading', { name: 'Tracking', level: 1 }).waitFor();
  return watched;
}

beforeAll(async () => {
  harness = await startConsoleHarness();
  a = await harness.createEnvironment('Acme production', 'pro');
  b = await harness.createEnvironment('Other tenant', 'pro');
  // B's events: none of them may ever show on A's page.
  await send(b, 'event', { event: 'B secret event', userId: 'b-orphan' });
});
afterAll(async () => {
  await harness?.close();
});

describe('the Tracking page', () => {
  it('shows the tracking key and SDK set-ups with this environment’s key and the console’s origin, each copyable', async () => {
    const watched = await openTracking(a);
    const { page } = watched;
    const main = page.getByRole('main');
    expect(await main.getByText(a.tracking_key, { exact: true }).isVisible()).toBe(true);

    await main.getByRole('button', { name: 'Copy the tracking key' }).click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()'), { timeout: 10_000 }).toBe(a.tracking_key);

    const browserSdk = main.getByRole('region', { name: 'Browser SDK (@reflag/browser-sdk)' });
    const code = await browserSdk.locator('code').innerText();
    expect(code).toContain(`publishableKey: '${a.tracking_key}'`);
    expect(code).toContain(`apiBaseUrl: '${harness.stack.url}'`);
    await browserSdk.getByRole('button', { name: /^Copy the Browser SDK/ }).click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()'), { timeout: 10_000 }).toBe(code);

    const node = await main.getByRole('region', { name: 'Node SDK (@reflag/node-sdk)' }).locator('code').innerText();
    expect(node).toContain(`apiBaseUrl: '${harness.stack.url}'`);
    expect(node).toContain("flagsSyncMode: 'polling'");
    // The API key is a secret: the snippet reads it from the environment, never shows it.
    expect(await page.locator('body').innerText()).not.toContain(a.api_key);

    // The curl snippet works as written: its event reaches the lake.
    const curl = await main.getByRole('region', { name: /^curl/ }).locator('code').innerText();
    const eventUrl = /curl -X POST '([^']+\/event)'/.exec(curl)?.[1];
    expect(eventUrl).toBe(`${harness.stack.url}/${a.tracking_key}/event`);
    const body = /-d '(\{"event"[^']+)'/.exec(curl)?.[1] as string;
    expect((await http(eventUrl as string, { body: JSON.parse(body) })).status).toBe(200);

    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });

  it('shows events as they arrive without a reload, pauses while the tab is hidden, and never another environment’s', async () => {
    const watched = await openTracking(a);
    const { page } = watched;
    const recent = page.getByRole('region', { name: 'Recent events' });
    const rows = recent.getByRole('row');
    // The curl snippet's event of the first test.
    await expect.poll(() => recent.getByRole('cell', { name: 'Started huddle' }).count(), { timeout: 15_000 }).toBe(1);
    await page.evaluate('window.notReloaded = true');

    await send(a, 'event', { event: 'Sent message', userId: 'live-user', companyId: 'acme', attributes: { n: 1 } });
    await expect.poll(() => recent.getByRole('cell', { name: 'Sent message' }).count(), { timeout: 15_000 }).toBe(1);
    // Newest first: the header row, then the new event.
    expect(await rows.nth(1).innerText()).toContain('Sent message');
    expect(await rows.nth(1).innerText()).toContain('live-user');
    expect(await page.evaluate('window.notReloaded === true')).toBe(true);

    // Hidden, the page stops asking; shown again, it asks at once.
    const asked: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/tracking/events')) asked.push(request.url());
    });
    // A hidden tab, as the browser reports it (headless pages are always visible).
    const setHidden = (hidden: boolean) =>
      page.evaluate(
        `Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} }); document.dispatchEvent(new Event('visibilitychange'))`,
      );
    await setHidden(true);
    await page.waitForTimeout(200);
    asked.length = 0;
    // Longer than the 3 s between polls.
    await page.waitForTimeout(4500);
    expect(asked).toEqual([]);
    await setHidden(false);
    await expect.poll(() => asked.length, { timeout: 5000 }).toBeGreaterThan(0);

    expect(await page.getByText('B secret event').count()).toBe(0);
    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });

  it('counts unassociated events and lists their users (seed 001), A’s only, and is accessible', async () => {
    await send(a, 'company', { companyId: 'acme', userId: 'known-user', attributes: { name: 'Acme' } });
    await send(a, 'bulk', [
      { type: 'event', event: 'Opened', userId: 'lonely-1' },
      { type: 'event', event: 'Opened', userId: 'lonely-1' },
      { type: 'event', event: 'Opened', userId: 'known-user' },
      { type: 'event', event: 'Opened', userId: 'lonely-2' },
    ]);
    const watched = await openTracking(a);
    const { page } = watched;
    const section = page.getByRole('region', { name: 'Unassociated events' });
    await section.getByText('3 unassociated events from 2 users in the last 30 days.').waitFor();
    const table = section.getByRole('table', { name: 'Users with unassociated events' });
    const cells = async () =>
      (await table.getByRole('row').all())
        .slice(1)
        .map(async (row) => (await row.getByRole('cell').allInnerTexts()).slice(0, 2));
    expect(await Promise.all(await cells())).toEqual([
      ['lonely-1', '2'],
      ['lonely-2', '1'],
    ]);
    expect(await section.getByText('b-orphan').count()).toBe(0);

    // Another orphan, then "check again": the count follows.
    await send(a, 'event', { event: 'Opened', userId: 'lonely-3' });
    await section.getByRole('button', { name: 'Check unassociated events again' }).click();
    await section.getByText('4 unassociated events from 3 users in the last 30 days.').waitFor();
    await docsScreenshot(page, 'tracking');

    await expectAccessible(page);
    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });

  it('signed in as B, shows B’s events and unassociated user only', async () => {
    const watched = await openTracking(b);
    const { page } = watched;
    const recent = page.getByRole('region', { name: 'Recent events' });
    await recent.getByRole('cell', { name: 'B secret event' }).waitFor();
    expect(await recent.getByRole('row').count()).toBe(2);
    const section = page.getByRole('region', { name: 'Unassociated events' });
    await section.getByText('1 unassociated event from 1 user in the last 30 days.').waitFor();
    expect(await section.getByRole('cell', { name: 'b-orphan' }).count()).toBe(1);
    for (const name of ['lonely-1', 'live-user', 'Sent message']) expect(await page.getByText(name).count()).toBe(0);
    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });
});
