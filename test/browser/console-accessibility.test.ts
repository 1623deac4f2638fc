import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, seriousViolations, startConsoleHarness } from '../support/console.ts';

let harness: ConsoleHarness;
beforeAll(async () => {
  harness = await startConsoleHarness();
});
afterAll(async () => {
  await harness?.close();
});

describe('accessibility (axe-core: no serious or critical violation)', () => {
  it('on the sign-in page, with and without an error', async () => {
    const { page } = await harness.openConsole();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('API key or admin token').fill('fl_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The API token is not valid').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });

  it("on the admin's environment list and on the Environment page", async () => {
    await harness.createEnvironment('Accessible corp', 'pro');
    const { page } = await harness.openConsole();
    await page.getByLabel('API key or admin token').fill(harness.stack.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Accessible corp' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Accessible corp' }).click();
    await page.getByRole('button', { name: 'Generate a new API key' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Generate a new API key' }).click();
    await page.getByRole('button', { name: 'Yes, generate a new key' }).click();
    // Exact: the status region's "A new API key was generated…" also contains the words.
    await page.getByText('New API key', { exact: true }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });
});

describe('keyboard only', () => {
  it('signs in, skips to the content and moves through the nav without a mouse', async () => {
    const env = await harness.createEnvironment('Keyboard corp', 'pro');
    const { page, problems } = await harness.openConsole();
    // The first Tab reaches the skip link, the next ones the field and the button.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe(
      await page.getByLabel('API key or admin token').getAttribute('id'),
    );
    await page.keyboard.type(env.api_key);
    await page.keyboard.press('Enter');
    const nav = page.getByRole('navigation', { name: 'Settings' });
    await nav.getByRole('heading', { name: 'Environment: Keyboard corp' }).waitFor();
    // The new page's <main> has the focus.
    await expect.poll(() => page.evaluate('document.activeElement.tagName')).toBe('MAIN');
    // Back from the content: the nav's links, last to first.
    let guard = 0;
    while ((await page.evaluate('document.activeElement.textContent')) !== 'Data export' && guard++ < 20) {
      await page.keyboard.press('Shift+Tab');
    }
    // Focus is visible: the focused link has an outline.
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.keyboard.press('Enter');
    await page.getByRole('main').getByRole('heading', { name: 'Data export', level: 1 }).waitFor();
    expect(page.url()).toContain(`#/environments/${env.environment_id}/data-export`);
    // On a fresh load, the first Tab reaches the skip link, which moves focus to the content.
    await page.reload();
    await nav.getByRole('heading', { name: 'Environment: Keyboard corp' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.tagName')).toBe('MAIN');
    expect(problems()).toEqual([]);
    await page.context().close();
  });
});
