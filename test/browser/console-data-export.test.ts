import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPANY_EXPORT_HEADER } from '../../lambdas/core/company-export/rollup/index.ts';
import {
  type ConsoleHarness,
  type CreatedEnvironment,
  descriptionOf,
  docsScreenshot,
  seriousViolations,
  startConsoleHarness,
  tabTo,
} from '../support/console.ts';
import { CUSTOMER_ACCESS_KEY_ID, startSigningCustomerS3 } from '../support/customer-s3.ts';
import { http } from '../support/local-stack.ts';

/**
 * Seed 000's Data export screen in a real Chromium over the local stack: the manual
 * export chosen and downloaded with the keyboard alone (the file byte for byte the
 * API's CSV of the same instant), the automatic export set up against a customer's
 * S3-compatible service that checks signatures (a wrong secret refused beside its
 * field, nothing saved; the right one saved, "never ran before", the next run; the
 * schedule fired and "successful"), and the plan gating of free and pro.
 */

const SECRET = 'customer-secret-7f3a9c2e-never-shown';
const BUCKET = 'acme-exports';
const DAY = 86_400_000;

let harness: ConsoleHarness;
let customer: Awaited<ReturnType<typeof startSigningCustomerS3>>;
let enterprise: CreatedEnvironment;

const token = (env: CreatedEnvironment) => ({ authorization: `Token ${env.api_key}` });
const api = (path: string, env: CreatedEnvironment, init: { method?: string; body?: unknown } = {}) =>
  http(`${harness.stack.url}${path}`, { ...init, headers: token(env) });

/** Two companies using one feature over the last few weeks (seed 001 calls through the bulk route). */
function trackingCalls() {
  const today = Math.floor(Date.now() / DAY) * DAY;
  const at = (daysAgo: number, hour = 9) => new Date(today - daysAgo * DAY + hour * 3_600_000).toISOString();
  return [
    { type: 'company', companyId: 'c1', userId: 'u1', attributes: { name: 'Acme, Inc.' }, timestamp: at(40) },
    { type: 'company', companyId: 'c2', userId: 'u2', attributes: { name: 'Beta "Ltd"' }, timestamp: at(35) },
    ...[28, 21, 14, 9, 8, 7, 3, 2].map((daysAgo) => ({
      type: 'event',
      event: 'Sent message',
      userId: 'u1',
      timestamp: at(daysAgo),
    })),
    { type: 'event', event: 'Sent message', userId: 'u2', timestamp: at(12) },
    { type: 'feedback', featureId: 'messages', userId: 'u1', score: 4, timestamp: at(5) },
  ];
}

async function openDataExport(env: CreatedEnvironment) {
  const watched = await harness.signedIn(env.api_key);
  const { page } = watched;
  // The page looks at running jobs every 100 ms here instead of every 2 s.
  await page.evaluate("sessionStorage.setItem('featurelake:poll-ms', '100')");
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Data export' }).click();
  await page.getByRole('main').getByRole('heading', { name: 'Data export', level: 1 }).waitFor();
  return watched;
}

beforeAll(async () => {
  harness = await startConsoleHarness();
  customer = await startSigningCustomerS3([BUCKET], SECRET);
  enterprise = await harness.createEnvironment('Acme production', 'enterprise');
  const sent = await http(`${harness.stack.url}/${enterprise.tracking_key}/bulk`, { body: trackingCalls() });
  expect(sent.status, sent.text).toBe(200);
  const feature = await api('/api/v1/features/messages', enterprise, {
    method: 'PUT',
    body: { name: 'Messages', type: 'event', event_names: ['Sent message'] },
  });
  expect(feature.status, feature.text).toBe(201);
});
afterAll(async () => {
  await customer?.close();
  await harness?.close();
});

describe('Data export (seed 000) in the console', () => {
  it('keyboard only: "30 days, daily granularity", Download export, and the saved file is the API\'s CSV byte for byte', async () => {
    const watched = await openDataExport(enterprise);
    const { page } = watched;
    const main = page.getByRole('main');
    expect(await main.getByRole('heading', { name: 'Manual export' }).isVisible()).toBe(true);
    for (const label of [
      "Just today's snapshot",
      '30 days, daily granularity',
      '3 months, weekly granularity',
      '6 months, weekly granularity',
    ]) {
      expect(await main.getByRole('radio', { name: label }).count(), label).toBe(1);
    }

    // Tab into the radio group (it lands on the checked option), arrow to the next one, Tab to the button.
    await tabTo(page, main.getByRole('radio', { name: "Just today's snapshot" }));
    await page.keyboard.press('ArrowDown');
    expect(await main.getByRole('radio', { name: '30 days, daily granularity' }).isChecked()).toBe(true);
    await tabTo(page, main.getByRole('button', { name: 'Download export' }));
    const started = page.waitForResponse(
      (response) => response.request().method() === 'POST' && response.url().endsWith('/api/v1/company-exports'),
    );
    const downloading = page.waitForEvent('download');
    await page.keyboard.press('Enter');
    const { job_id } = (await (await started).json()) as { job_id: string };
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^company-export-30d_daily-\d{4}-\d{2}-\d{2}\.csv$/);
    const saved = await readFile((await download.path()) as string);
    await expect.poll(() => main.getByRole('status').textContent()).toMatch(/Export ready \(\d+ rows\)/);

    // The API's own export of the same aggregation as of the same instant, started apart from the console's.
    const job = await api(`/api/v1/company-exports/jobs/${job_id}`, enterprise);
    expect(job.body).toMatchObject({ status: 'completed', aggregation: '30d_daily' });
    const mine = await api('/api/v1/company-exports', enterprise, {
      body: { aggregation: '30d_daily', as_of: job.body.as_of },
    });
    expect(mine.status, mine.text).toBe(202);
    await harness.stack.workflowsIdle();
    const reference = await api(mine.body.links, enterprise);
    const csv = Buffer.from(await (await fetch(reference.body.download_url)).arrayBuffer());
    expect(saved.equals(csv)).toBe(true);
    const lines = saved.toString('utf8').trimEnd().split(/\r?\n/);
    expect(lines[0]).toBe(COMPANY_EXPORT_HEADER.join(','));
    // 30 days × 2 companies × 1 feature.
    expect(lines).toHaveLength(1 + 60);
    expect(saved.toString('utf8')).toContain('"Acme, Inc."');
    await docsScreenshot(page, 'data-export');
    expect(await seriousViolations(page)).toEqual([]);
    // Chromium reports the navigation it turned into a download as aborted; nothing else failed.
    expect(watched.problems()).toEqual([
      expect.stringMatching(/^request failed: GET http:.*response-content-disposition=attachment.*: net::ERR_ABORTED$/),
    ]);
    await page.context().close();
  });

  it('automatic export: a wrong secret is refused beside its field and nothing is saved; the right one runs on schedule', async () => {
    const watched = await openDataExport(enterprise);
    const { page } = watched;
    const main = page.getByRole('main');
    const toggle = main.getByRole('switch', { name: 'Enable automatic export' });
    const status = main.getByRole('region', { name: 'Automatic export status' });
    await status.waitFor();
    expect(await status.textContent()).toContain('never ran before');
    expect(await toggle.isChecked()).toBe(false);

    await toggle.check();
    await main.getByLabel('Periodic schedule').selectOption({ label: 'Daily' });
    await main.getByLabel('S3 Provider').selectOption({ label: 'Custom' });
    expect(await main.getByLabel('S3 bucket URL').count()).toBe(0);
    await main.getByLabel('Bucket', { exact: true }).fill(BUCKET);
    await main.getByLabel('Region', { exact: true }).fill('auto');
    await main.getByLabel('Key', { exact: true }).fill('featurelake/daily');
    await main.getByLabel('Endpoint', { exact: true }).fill(customer.endpoint);
    await main.getByLabel('Access key', { exact: true }).fill(CUSTOMER_ACCESS_KEY_ID);
    const secretField = main.getByLabel('Secret access key', { exact: true });
    await secretField.fill('not-the-secret');
    await main.getByRole('button', { name: 'Save' }).click();

    await expect.poll(() => secretField.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(page, secretField)).toBe(
      `The secret access key is not the one of access key id "${CUSTOMER_ACCESS_KEY_ID}": ${customer.endpoint} rejected the request signature.`,
    );
    expect(await main.getByLabel('Access key', { exact: true }).getAttribute('aria-invalid')).toBeNull();
    expect(await seriousViolations(page)).toEqual([]);
    const nothing = await api('/api/v1/company-exports/automatic', enterprise);
    expect(nothing.body).toMatchObject({ enabled: false, provider: null, access_key_id: null });
    expect(nothing.body.secret_access_key_set).toBe(false);

    // Below the toggle once saved: never ran, and the next run at the coming 00:00 UTC (the local schedule's time).
    // (The midnight before the save and the one after: the same unless the save crosses 00:00 UTC.)
    const midnightAfterNow = () => new Date((Math.floor(Date.now() / DAY) + 1) * DAY).toISOString();
    const midnightBefore = midnightAfterNow();
    await secretField.fill(SECRET);
    await main.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => status.textContent()).toMatch(/\d{4}-\d\d-\d\d 00:00 UTC/);
    const saved = await api('/api/v1/company-exports/automatic', enterprise);
    const nextMidnight: string = saved.body.status.next_run_at;
    expect([midnightBefore, midnightAfterNow()]).toContain(nextMidnight);
    expect(saved.body).toMatchObject({
      enabled: true,
      cadence: 'daily',
      provider: 'custom',
      bucket: BUCKET,
      key: 'featurelake/daily',
      endpoint: customer.endpoint,
      access_key_id: CUSTOMER_ACCESS_KEY_ID,
      secret_access_key_set: true,
    });
    const shown = (await status.textContent()) ?? '';
    expect(shown).toContain('never ran before');
    expect(shown).toContain(`${nextMidnight.slice(0, 10)} 00:00 UTC`);
    // The secret is never shown back: the field is empty and says one is stored.
    expect(await secretField.inputValue()).toBe('');
    expect(await descriptionOf(page, secretField)).toContain('A secret is stored');
    expect(await page.content()).not.toContain(SECRET);
    await docsScreenshot(page, 'data-export-automatic');

    // The schedule fires (as EventBridge would, after 00:00 UTC of today), the run delivers, and a reload shows it.
    const today = new Date(Math.floor(Date.now() / DAY) * DAY);
    const tick = await http(`${harness.stack.url}/admin/v1/scheduler/tick`, {
      headers: { authorization: `Bearer ${harness.stack.adminToken}` },
      body: { at: new Date(today.getTime() + 5 * 60_000).toISOString() },
    });
    expect(tick.status, tick.text).toBe(200);
    expect(tick.body.started).toHaveLength(1);
    await harness.stack.workflowsIdle();
    await page.reload();
    await expect.poll(async () => (await status.count()) && status.textContent()).toContain('successful');
    const ran = await api('/api/v1/company-exports/automatic', enterprise);
    expect(ran.body.status.last_status).toBe('successful');
    expect(await status.textContent()).toContain(
      `${ran.body.status.last_run_at.slice(0, 10)} ${ran.body.status.last_run_at.slice(11, 16)} UTC`,
    );
    const fileKey = `featurelake/daily/company-export-${today.toISOString().slice(0, 10)}.csv`;
    expect(await customer.keys(BUCKET)).toEqual([fileKey]);
    expect((await customer.text(BUCKET, fileKey)).split(/\r?\n/)[0]).toBe(COMPANY_EXPORT_HEADER.join(','));

    // Turning the toggle off and saving disables it; the settings stay (and the secret with them).
    await toggle.uncheck();
    await main.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => status.textContent()).toContain('none scheduled');
    const off = await api('/api/v1/company-exports/automatic', enterprise);
    expect(off.body).toMatchObject({ enabled: false, provider: 'custom', secret_access_key_set: true });
    expect(off.body.status.next_run_at).toBeNull();

    // The refused save's 400 is the one failed request of the page.
    expect(watched.problems()).toEqual([
      expect.stringMatching(/^console error: Failed to load resource: .* 400/),
      expect.stringMatching(/^request failed: PUT http:.*\/api\/v1\/company-exports\/automatic: 400$/),
    ]);
    await page.context().close();
  });

  it('on free, exports are offered with the plan they need; on pro, the automatic part likewise (and a dropped request is retryable)', async () => {
    const free = await harness.createEnvironment('Free tier', 'free');
    const pro = await harness.createEnvironment('Pro tier', 'pro');

    const freeWatched = await openDataExport(free);
    let main = freeWatched.page.getByRole('main');
    await main.getByText('Data export needs the Pro plan.').waitFor();
    expect(await main.getByText('Automatic export needs the Enterprise plan.').isVisible()).toBe(true);
    expect(await main.getByRole('button', { name: 'Download export' }).isDisabled()).toBe(true);
    expect(await main.getByRole('radio', { name: '30 days, daily granularity' }).isDisabled()).toBe(true);
    expect(await main.getByRole('switch', { name: 'Enable automatic export' }).isDisabled()).toBe(true);
    expect(await main.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    expect(await seriousViolations(freeWatched.page)).toEqual([]);
    // The page asks nothing the plan would refuse.
    expect(freeWatched.problems()).toEqual([]);
    await freeWatched.page.context().close();

    const proWatched = await openDataExport(pro);
    main = proWatched.page.getByRole('main');
    await main.getByText('Automatic export needs the Enterprise plan.').waitFor();
    expect(await main.getByText('Data export needs the Pro plan.').count()).toBe(0);
    expect(await main.getByRole('button', { name: 'Download export' }).isEnabled()).toBe(true);
    expect(await main.getByRole('switch', { name: 'Enable automatic export' }).isDisabled()).toBe(true);

    // On pro the manual export runs; a look at the job that gets no answer (the network dropped it) is a
    // retryable message, and "Try again" follows the same job to its file.
    const page = proWatched.page;
    let dropped = 0;
    await page.route('**/api/v1/company-exports/jobs/*', async (route) => {
      if (dropped++ === 0) await route.abort('internetdisconnected');
      else await route.fallback();
    });
    await main.getByRole('button', { name: 'Download export' }).click();
    const alert = main.getByRole('alert');
    await alert.getByText(/could not be reached/).waitFor();
    const downloading = page.waitForEvent('download');
    await alert.getByRole('button', { name: 'Try again' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^company-export-today-\d{4}-\d{2}-\d{2}\.csv$/);
    expect((await readFile((await download.path()) as string, 'utf8')).split(/\r?\n/)[0]).toBe(
      COMPANY_EXPORT_HEADER.join(','),
    );
    expect(proWatched.problems()).toEqual([
      'console error: Failed to load resource: net::ERR_INTERNET_DISCONNECTED',
      expect.stringMatching(
        /^request failed: GET http:.*\/api\/v1\/company-exports\/jobs\/.*: net::ERR_INTERNET_DISCONNECTED$/,
      ),
      expect.stringMatching(/^request failed: GET http:.*response-content-disposition=attachment.*: net::ERR_ABORTED$/),
    ]);
    await proWatched.page.context().close();
  });
});
