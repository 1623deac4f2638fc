import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, docsScreenshot, signIn, startConsoleHarness } from '../support/console.ts';
import { http } from '../support/local-stack.ts';

let harness: ConsoleHarness;
beforeAll(async () => {
  harness = await startConsoleHarness();
});
afterAll(async () => {
  await harness?.close();
});

describe('the console on the local stack', () => {
  it('is served at /console/ with its security headers, and / redirects there', async () => {
    const root = await fetch(`${harness.stack.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const index = await http(`${harness.stack.url}/console/`);
    expect(index.status).toBe(200);
    const script = /<script type="module" src="\.\/(main-[\w]+\.js)"><\/script>/.exec(index.text)?.[1];
    expect(script, index.text).toBeDefined();
    const page = await fetch(`${harness.stack.url}/console/`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const js = await fetch(`${harness.stack.url}/console/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  });
});

describe('sign-in', () => {
  it("with an environment's API key shows that environment's name under Settings", async () => {
    const env = await harness.createEnvironment('Acme production', 'pro');
    const watched = await harness.openConsole();
    const { page } = watched;
    await docsScreenshot(page, 'sign-in');
    await signIn(page, env.api_key);
    const nav = page.getByRole('navigation', { name: 'Settings' });
    await expect.poll(() => nav.getByRole('heading', { name: 'Environment: Acme production' }).isVisible()).toBe(true);
    for (const title of ['Environment', 'Data export', 'Tracking', 'Features', 'Segments', 'Raw-event exports']) {
      expect(await nav.getByRole('link', { name: title, exact: true }).count(), title).toBe(1);
    }
    expect(page.url()).toContain(`#/environments/${env.environment_id}/environment`);
    const main = page.getByRole('main');
    expect(await main.getByRole('heading', { name: 'Environment', level: 1 }).isVisible()).toBe(true);
    expect(await main.getByText(env.tracking_key).isVisible()).toBe(true);
    // The key lives in this tab's sessionStorage only.
    expect(await page.evaluate('JSON.stringify(localStorage)')).toBe('{}');
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
    // A page of the nav opens by its link.
    await nav.getByRole('link', { name: 'Data export' }).click();
    await expect.poll(() => main.getByRole('heading', { name: 'Data export', level: 1 }).isVisible()).toBe(true);
    expect(page.url()).toContain(`#/environments/${env.environment_id}/data-export`);
    // A reload keeps the session (same tab); signing out forgets it.
    await page.reload();
    await expect.poll(() => nav.getByRole('heading', { name: 'Environment: Acme production' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });

  it('with a wrong key says so in words beside the field, and stays signed out', async () => {
    const watched = await harness.openConsole();
    const { page } = watched;
    await signIn(page, 'fl_this-key-does-not-exist');
    const field = page.getByLabel('API key or admin token');
    await expect
      .poll(() => page.getByText('The API token is not valid: no environment has this key.').isVisible())
      .toBe(true);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    const description = await field.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${description}"]`).textContent()).toBe(
      'The API token is not valid: no environment has this key.',
    );
    expect(await page.getByRole('navigation', { name: 'Settings' }).count()).toBe(0);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    // The one failure is the refused key's 401 itself.
    expect(watched.failedRequests).toEqual([expect.stringMatching(/^GET http:.*\/api\/v1\/environment: 401$/)]);
    await page.context().close();
  });
});
