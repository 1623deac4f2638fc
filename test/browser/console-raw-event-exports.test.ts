import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STATE_TABLE } from '../../bin/local.ts';
import { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import {
  type ConsoleHarness,
  type CreatedEnvironment,
  descriptionOf,
  docsScreenshot,
  seriousViolations,
  startConsoleHarness,
  tabTo,
} from '../support/console.ts';
import { http } from '../support/local-stack.ts';

/**
 * Seed 002's Raw-event exports page in a real Chromium over the local stack: the
 * form submitted with the keyboard alone, the job followed to "2 out of 2
 * partitions", a weekly `.json.gz` downloaded from its link and compared with the
 * API's own file and the events sent, the seed's 409 for a second export while the
 * first runs, the 400s beside their fields, and the files shown as expired once
 * their 2 days have passed (the stack's clock moved forward).
 */

const DAY = 86_400_000;
const CONFLICT = 'There is already an export job in progress, you can only have one export job in progress at a time.';

let harness: ConsoleHarness;
let env: CreatedEnvironment;
let clockOffsetMs = 0;
let jobId: string;

/** One track a day from Sunday 2025-03-02 to Monday 2025-03-17: the two weeks between, and one day either side. */
function trackingCalls() {
  const calls: Record<string, unknown>[] = [
    { type: 'company', companyId: 'c1', userId: 'u1', attributes: { name: 'Acme' }, timestamp: '2025-03-01T08:00:00Z' },
  ];
  for (let day = Date.parse('2025-03-02T10:00:00Z'); day <= Date.parse('2025-03-17T10:00:00Z'); day += DAY) {
    calls.push({ type: 'event', event: 'Opened report', userId: 'u1', timestamp: new Date(day).toISOString() });
  }
  return calls;
}

async function openRawExports() {
  const watched = await harness.signedIn(env.api_key);
  const { page } = watched;
  await page.evaluate("sessionStorage.setItem('featurelake:poll-ms', '100')");
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Raw-event exports' }).click();
  await page.getByRole('main').getByRole('heading', { name: 'Raw-event exports', level: 1 }).waitFor();
  return watched;
}

beforeAll(async () => {
  harness = await startConsoleHarness({ clock: { now: () => new Date(Date.now() + clockOffsetMs) } });
  env = await harness.createEnvironment('Acme production', 'pro');
  const sent = await http(`${harness.stack.url}/${env.tracking_key}/bulk`, { body: trackingCalls() });
  expect(sent.status, sent.text).toBe(200);
  const segment = await http(`${harness.stack.url}/api/v1/segments/gold`, {
    method: 'PUT',
    headers: { authorization: `Token ${env.api_key}` },
    body: { name: 'Gold customers', filters: [{ attribute: 'tier', operator: 'eq', value: 'gold' }] },
  });
  expect(segment.status, segment.text).toBe(201);
});
afterAll(async () => {
  await harness?.close();
});

describe('Raw-event exports (seed 002) in the console', () => {
  it("keyboard only: from the form to a downloaded weekly .json.gz of exactly those events; a second export meanwhile gets the seed's 409", async () => {
    const watched = await openRawExports();
    const { page } = watched;
    const main = page.getByRole('main');
    // The seed's fields and defaults: its event types checked, JSON, no exclusions, every user and company.
    const eventTypes = main.getByRole('group', { name: 'Event types' });
    for (const type of ['identify_user', 'identify_company', 'page_view', 'track', 'track_feature', 'interaction']) {
      expect(await eventTypes.getByRole('checkbox', { name: type, exact: true }).isChecked(), type).toBe(true);
    }
    expect(await eventTypes.getByRole('checkbox', { name: 'session_start' }).isChecked()).toBe(true);
    expect(await eventTypes.getByRole('checkbox', { name: 'feature_flag' }).isChecked()).toBe(false);
    expect(await main.getByRole('radio', { name: /JSON/ }).isChecked()).toBe(true);
    expect(await main.getByRole('checkbox', { name: /excluded users and companies/ }).isChecked()).toBe(false);
    expect(await main.getByLabel('User IDs').inputValue()).toBe('');
    expect(await main.getByLabel('Company IDs').inputValue()).toBe('');
    const segment = main.getByLabel('Segment');
    await expect
      .poll(() => segment.locator('option').allTextContents())
      .toEqual(['All companies', 'Gold customers (gold)']);
    expect(await main.getByLabel('Emails').inputValue()).toBe('');

    // The dates typed as a keyboard user types them (month, day, year in this locale), then Enter on the button.
    await tabTo(page, main.getByLabel('From'));
    await page.keyboard.type('03032025');
    await tabTo(page, main.getByLabel('To'));
    await page.keyboard.type('03162025');
    expect(await main.getByLabel('From').inputValue()).toBe('2025-03-03');
    expect(await main.getByLabel('To').inputValue()).toBe('2025-03-16');
    const start = main.getByRole('button', { name: 'Start export' });
    await tabTo(page, start);
    const first = page.waitForResponse(
      (response) => response.request().method() === 'POST' && response.url().endsWith('/api/v1/analytics/exports'),
    );
    await page.keyboard.press('Enter');
    const started = await first;
    expect(started.status()).toBe(201);
    jobId = ((await started.json()) as { job_id: string }).job_id;

    // At once a second one, while the first runs: the seed's 409, in its words.
    await start.click();
    await main.getByText(CONFLICT).waitFor();

    // The list follows the job to its end without a reload.
    const row = main.getByRole('row').filter({ hasText: jobId });
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('2 out of 2 partitions');
    await expect.poll(() => row.getByRole('cell').nth(1).textContent()).toMatch(/^completed/);
    const links = row.getByRole('link');
    expect(await links.allTextContents()).toEqual(['2025-03-03.json.gz', '2025-03-10.json.gz']);

    const downloading = page.waitForEvent('download');
    await row.getByRole('link', { name: '2025-03-03.json.gz' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('2025-03-03.json.gz');
    const saved = gunzipSync(await readFile((await download.path()) as string));

    // The API's own file of the job, fetched apart from the page.
    const detail = await http(`${harness.stack.url}/api/v1/analytics/exports/jobs/${jobId}`, {
      headers: { authorization: `Token ${env.api_key}` },
    });
    const link = detail.body.presigned_urls.find(
      (file: { filename: string }) => file.filename === '2025-03-03.json.gz',
    );
    const reference = gunzipSync(Buffer.from(await (await fetch(link.url)).arrayBuffer()));
    expect(saved.equals(reference)).toBe(true);
    const events = saved
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { event_type: string; event_name: string; timestamp: string; app_token: string },
      );
    const tracks = events.filter((event) => event.event_type === 'track');
    // Monday 3 to Sunday 9 March: seven days of that week, none of the day before the range.
    expect(tracks.map((event) => event.timestamp.slice(0, 10)).sort()).toEqual(
      ['03', '04', '05', '06', '07', '08', '09'].map((day) => `2025-03-${day}`),
    );
    expect(new Set(events.map((event) => event.app_token))).toEqual(new Set([env.app_token]));

    await docsScreenshot(page, 'raw-event-exports');
    expect(await seriousViolations(page)).toEqual([]);
    // The 409 is the one failed request of the page (Chromium reports the navigation it turned into a download as aborted).
    expect(watched.problems()).toEqual([
      expect.stringMatching(/^console error: Failed to load resource: .* 409/),
      expect.stringMatching(/^request failed: POST http:.*\/api\/v1\/analytics\/exports: 409$/),
      expect.stringMatching(/^request failed: GET http:.*\/2025-03-03\.json\.gz\?.*: net::ERR_ABORTED$/),
    ]);
    await page.context().close();
  });

  it("shows the API's 400s beside the fields they name", async () => {
    const watched = await openRawExports();
    const { page } = watched;
    const main = page.getByRole('main');
    await main.getByLabel('From').fill('2025-03-10');
    await main.getByLabel('To').fill('2025-03-03');
    await main.getByLabel('Emails').fill('ops@example.com, not-an-address');
    await main.getByRole('button', { name: 'Start export' }).click();
    const to = main.getByLabel('To');
    await expect.poll(() => to.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(page, to)).toBe('To must not be before from (2025-03-10).');
    expect(await descriptionOf(page, main.getByLabel('Emails'))).toContain('Emails (item 2) must be an email address.');
    expect(await main.getByLabel('From').getAttribute('aria-invalid')).toBeNull();
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });

  it("signed in with the admin token, shows the chosen environment's jobs and files", async () => {
    const watched = await harness.openConsole();
    const { page } = watched;
    await page.getByLabel('API key or admin token').fill(harness.stack.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('main').getByRole('link', { name: 'Acme production' }).click();
    await page.evaluate("sessionStorage.setItem('featurelake:poll-ms', '100')");
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Raw-event exports' }).click();
    const row = page.getByRole('main').getByRole('row').filter({ hasText: jobId });
    await expect
      .poll(() => row.getByRole('link').allTextContents())
      .toEqual(['2025-03-03.json.gz', '2025-03-10.json.gz']);
    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });

  it('shows the files as expired once their 2 days have passed (the job itself shows for 3), and a failed job with its error', async () => {
    expect(jobId).toBeDefined();
    clockOffsetMs = 2 * DAY + 3_600_000;
    // And a job whose run died without a word (still marked running, past its deadline), as a crash leaves it.
    const now = Date.now() + clockOffsetMs;
    const client = harness.stack.dynamoClient();
    try {
      await new DynamoDbEventsExportJobs({
        client: DynamoDBDocumentClient.from(client),
        tableName: LOCAL_STATE_TABLE,
      }).create({
        job_id: 'died-without-a-word',
        environment_id: env.environment_id,
        app_token: env.app_token,
        status: 'running',
        request: {
          from: '2025-03-03',
          to: '2025-03-09',
          emails: [],
          event_type: ['track'],
          user_id: [],
          company_id: [],
          format: 'csv',
          exclusions: false,
        },
        all_chunks: ['2025-03-03'],
        completed_chunks: [],
        created_at: new Date(now - 3_600_000).toISOString(),
        completed_at: null,
        deadline: new Date(now - 1_800_000).toISOString(),
        error: null,
      });
    } finally {
      client.destroy();
    }

    const watched = await openRawExports();
    const main = watched.page.getByRole('main');
    const row = main.getByRole('row').filter({ hasText: jobId });
    await expect.poll(() => row.textContent()).toContain('Files expired');
    expect(await row.getByRole('link').count()).toBe(0);
    const died = main.getByRole('row').filter({ hasText: 'died-without-a-word' });
    const detail = await http(`${harness.stack.url}/api/v1/analytics/exports/jobs/died-without-a-word`, {
      headers: { authorization: `Token ${env.api_key}` },
    });
    expect(detail.body).toMatchObject({ status: 'failed', progress: '0 out of 1 partitions' });
    expect(detail.body.error).toMatch(/\w/);
    await expect.poll(() => died.textContent()).toContain(detail.body.error);
    expect(await died.getByRole('cell').nth(1).textContent()).toMatch(/^failed/);
    expect(watched.problems()).toEqual([]);
    await watched.page.context().close();
  });
});
