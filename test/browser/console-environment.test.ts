import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, docsScreenshot, startConsoleHarness } from '../support/console.ts';
import { http } from '../support/local-stack.ts';

let harness: ConsoleHarness;
beforeAll(async () => {
  harness = await startConsoleHarness();
});
afterAll(async () => {
  await harness?.close();
});

const CLIPBOARD = { permissions: ['clipboard-read', 'clipboard-write'] };
const readClipboard = (page: import('playwright-core').Page) => page.evaluate<string>('navigator.clipboard.readText()');

describe('the Environment page', () => {
  it('shows name, plan and public keys, and copies each key to the clipboard', async () => {
    const env = await harness.createEnvironment('Copy corp', 'enterprise');
    const { page, problems } = await harness.signedIn(env.api_key, CLIPBOARD);
    const main = page.getByRole('main');
    await expect.poll(() => main.getByText('Enterprise', { exact: true }).isVisible()).toBe(true);
    expect(await main.getByText(env.app_token).isVisible()).toBe(true);
    await docsScreenshot(page, 'environment');
    await main.getByRole('button', { name: 'Copy tracking key' }).click();
    await expect.poll(() => readClipboard(page)).toBe(env.tracking_key);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Copied the tracking key.');
    await main.getByRole('button', { name: 'Copy app token' }).click();
    await expect.poll(() => readClipboard(page)).toBe(env.app_token);
    expect(problems()).toEqual([]);
    await page.context().close();
  });

  it('generates a new API key after a confirmation: shown once, the console goes on with it, the old key is refused', async () => {
    const env = await harness.createEnvironment('Rotate corp', 'pro');
    const { page, problems } = await harness.signedIn(env.api_key, CLIPBOARD);
    const main = page.getByRole('main');
    await main.getByRole('button', { name: 'Generate a new API key' }).click();
    // Cancel leaves the key alone.
    await main.getByRole('button', { name: 'Cancel' }).click();
    expect(
      (await http(`${harness.stack.url}/api/v1/environment`, { headers: { authorization: `Token ${env.api_key}` } }))
        .status,
    ).toBe(200);
    await main.getByRole('button', { name: 'Generate a new API key' }).click();
    await main.getByRole('button', { name: 'Yes, generate a new key' }).click();
    const shown = main.locator('.secret code');
    await expect.poll(() => shown.count()).toBe(1);
    const newKey = (await shown.textContent()) ?? '';
    expect(newKey).toMatch(/^fl_/);
    await main.getByRole('button', { name: 'Copy new API key' }).click();
    await expect.poll(() => readClipboard(page)).toBe(newKey);
    // The API refuses the old key and takes the new one; the console's session holds the new one.
    const old = await http(`${harness.stack.url}/api/v1/environment`, {
      headers: { authorization: `Token ${env.api_key}` },
    });
    expect(old.status).toBe(401);
    expect(
      (await http(`${harness.stack.url}/api/v1/environment`, { headers: { authorization: `Token ${newKey}` } })).status,
    ).toBe(200);
    expect(await page.evaluate('sessionStorage.getItem("featurelake.credentials")')).toContain(newKey);
    await page.reload();
    await expect
      .poll(() =>
        page
          .getByRole('navigation', { name: 'Settings' })
          .getByRole('heading', { name: 'Environment: Rotate corp' })
          .isVisible(),
      )
      .toBe(true);
    // The new key is not shown again.
    expect(await page.getByText(newKey).count()).toBe(0);
    expect(problems()).toEqual([]);
    await page.context().close();
  });
});

describe('the admin', () => {
  it('signs in with the admin token, creates an environment (its key shown once) and opens its pages', async () => {
    const existing = await harness.createEnvironment('Listed corp', 'free');
    const { page, problems } = await harness.openConsole(CLIPBOARD);
    await page.getByLabel('API key or admin token').fill(harness.stack.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const main = page.getByRole('main');
    await expect.poll(() => main.getByRole('heading', { name: 'Environments', level: 1 }).isVisible()).toBe(true);
    await expect.poll(() => main.getByRole('link', { name: 'Listed corp' }).isVisible()).toBe(true);
    expect(await main.getByRole('link', { name: 'demo' }).count()).toBe(1);

    // The API's 400 shows beside the field it names.
    await main.getByRole('button', { name: 'Create environment' }).click();
    await expect.poll(() => main.getByText('Must not be empty').isVisible()).toBe(true);
    expect(await main.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');

    await main.getByLabel('Name').fill('Brand new');
    await main.getByLabel('Plan').selectOption('enterprise');
    await main.getByRole('button', { name: 'Create environment' }).click();
    await expect.poll(() => main.getByText('was created. Its API key is shown this once').isVisible()).toBe(true);
    const apiKey = (await main.locator('.secret code').textContent()) ?? '';
    const own = await http(`${harness.stack.url}/api/v1/environment`, {
      headers: { authorization: `Token ${apiKey}` },
    });
    expect(own.body).toMatchObject({ name: 'Brand new', plan: 'enterprise' });
    await expect.poll(() => main.getByRole('link', { name: 'Brand new', exact: true }).isVisible()).toBe(true);
    await docsScreenshot(page, 'environments');

    // Choosing an environment opens its pages, acting in it with the admin token.
    await main.getByRole('link', { name: 'Listed corp' }).click();
    const nav = page.getByRole('navigation', { name: 'Settings' });
    await expect.poll(() => nav.getByRole('heading', { name: 'Environment: Listed corp' }).isVisible()).toBe(true);
    expect(await main.getByText(existing.tracking_key).isVisible()).toBe(true);
    await nav.getByRole('link', { name: 'All environments' }).click();
    await expect.poll(() => main.getByRole('heading', { name: 'Environments', level: 1 }).isVisible()).toBe(true);
    // The creation's 400 is the one failed request.
    expect(problems().filter((p) => !/POST .*\/admin\/v1\/environments: 400|status of 400/.test(p))).toEqual([]);
    await page.context().close();
  });
});
