import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, signIn, startConsoleHarness } from '../support/console.ts';

let harness: ConsoleHarness;
beforeAll(async () => {
  harness = await startConsoleHarness();
});
afterAll(async () => {
  await harness?.close();
});

describe('when the API cannot be reached or fails', () => {
  it('shows a retryable message (never a blank page), and "Try again" recovers', async () => {
    const env = await harness.createEnvironment('Flaky corp', 'pro');
    const { page } = await harness.signedIn(env.api_key);
    const main = page.getByRole('main');
    // The network drops every API call.
    await page.route('**/api/v1/environment', (route) => route.abort('connectionrefused'));
    await page.reload();
    const alert = main.getByRole('alert');
    await expect
      .poll(() => alert.textContent())
      .toContain(
        'The featurelake API could not be reached: check the connection (or that the server is running) and try again.',
      );
    // The layout is still there around the message.
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    await page.unroute('**/api/v1/environment');
    await main.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => main.getByText(env.tracking_key).isVisible()).toBe(true);

    // A 5xx reads the same way: retryable.
    await page.route('**/api/v1/environment', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({
          errors: [
            {
              error: 'Internal Server Error',
              error_code: '500',
              message: 'Something went wrong on our side; the request can be retried.',
              details: null,
            },
          ],
        }),
      }),
    );
    await page.reload();
    await expect
      .poll(() => alert.textContent())
      .toContain('Something went wrong on the server. Please try again in a moment.');
    await page.unroute('**/api/v1/environment');
    await main.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => main.getByText(env.tracking_key).isVisible()).toBe(true);
    await page.context().close();
  });

  it('on sign-in, says the API could not be reached and keeps the form', async () => {
    const { page } = await harness.openConsole();
    await page.route('**/api/v1/environment', (route) => route.abort('connectionrefused'));
    await signIn(page, 'fl_any-key');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('could not be reached');
    expect(await page.getByLabel('API key or admin token').inputValue()).toBe('fl_any-key');
    // "Try again" sends the same key again: now the API answers (an unknown key, said beside the field).
    await page.unroute('**/api/v1/environment');
    await page.getByRole('button', { name: 'Try again' }).click();
    await expect
      .poll(() => page.getByText('The API token is not valid: no environment has this key.').isVisible())
      .toBe(true);
    expect(await page.getByRole('button', { name: 'Try again' }).count()).toBe(0);
    await page.context().close();
  });
});
