import { parse } from 'csv-parse/sync';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARS_FUNNEL_STATES } from '../../lambdas/core/insights/lake-insights.ts';
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

const api = (env: CreatedEnvironment, path: string, init: { method?: string; body?: unknown } = {}) =>
  http<any>(`${harness.stack.url}${path}`, { ...init, headers: { authorization: `Token ${env.api_key}` } });

async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
}

async function openPage(env: CreatedEnvironment, title: 'Features' | 'Segments') {
  const watched = await harness.signedIn(env.api_key);
  await watched.page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: title }).click();
  await watched.page.getByRole('heading', { name: title, level: 1 }).waitFor();
  return watched;
}

/** The message tied to a control (aria-describedby), as a screen reader reads it with the control. */
async function describedText(control: Locator): Promise<string> {
  const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
  const page = control.page();
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).innerText()));
  return texts.join(' ');
}

/** The row of a table whose header cell is `name`, as its cells' texts. */
async function rowCells(table: Locator, name: string): Promise<string[]> {
  return table
    .getByRole('row', { name: new RegExp(`^${name}\\b`) })
    .getByRole('cell')
    .allInnerTexts();
}

beforeAll(async () => {
  harness = await startConsoleHarness();
  a = await harness.createEnvironment('Acme production', 'pro');
  b = await harness.createEnvironment('Other tenant', 'pro');
  expect(
    (
      await api(b, '/api/v1/features/b-secret', {
        method: 'PUT',
        body: { name: 'B secret', type: 'event', event_names: ['x'] },
      })
    ).status,
  ).toBe(201);
  expect(
    (await api(b, '/api/v1/segments/b-seg', { method: 'PUT', body: { name: 'B segment', filters: [] } })).status,
  ).toBe(201);
});
afterAll(async () => {
  await harness?.close();
});

describe('the Features page', () => {
  it('creates, edits and deletes features through the form, and the API holds each change', async () => {
    const watched = await openPage(a, 'Features');
    const { page } = watched;
    const main = page.getByRole('main');
    await main.getByText('No features yet.').waitFor();

    // An event feature, with two event names and flag checks.
    await main.getByRole('button', { name: 'New feature' }).click();
    const form = main.getByRole('form', { name: 'New feature' });
    await form.getByLabel('ID', { exact: true }).fill('huddle');
    await form.getByLabel('Name', { exact: true }).fill('Huddles');
    await form.getByLabel('Event names').fill('Started huddle\nJoined huddle\n');
    await form.getByLabel(/flag checks/).check();
    await form.getByRole('button', { name: 'Save feature' }).click();
    const table = main.getByRole('table', { name: /^Features and their STARS funnel/ });
    await table.getByRole('row', { name: /^Huddles/ }).waitFor();
    expect((await api(a, '/api/v1/features/huddle')).body).toMatchObject({
      name: 'Huddles',
      type: 'event',
      event_names: ['Started huddle', 'Joined huddle'],
      flag_checks: true,
      adoption: { min_active_days: 5, window_days: 28 },
    });

    // An attribute feature with `in`, then edited to `gte` with other thresholds.
    await main.getByRole('button', { name: 'New feature' }).click();
    await form.getByLabel('ID', { exact: true }).fill('paid');
    await form.getByLabel('Name', { exact: true }).fill('Paid plans');
    await form.getByLabel('Type', { exact: true }).selectOption('attribute');
    await form.getByLabel('Attribute', { exact: true }).fill('plan');
    await form.getByLabel('Operator', { exact: true }).selectOption('in');
    await form.getByLabel('Value', { exact: true }).fill('["pro", "team"]');
    await form.getByRole('button', { name: 'Save feature' }).click();
    await table.getByRole('row', { name: /^Paid plans/ }).waitFor();
    expect((await api(a, '/api/v1/features/paid')).body).toMatchObject({
      type: 'attribute',
      attribute: 'plan',
      operator: 'in',
      value: ['pro', 'team'],
    });

    await main.getByRole('button', { name: 'Edit Paid plans' }).click();
    const edit = main.getByRole('form', { name: 'Edit feature “Paid plans”' });
    await edit.getByLabel('Attribute', { exact: true }).fill('seats');
    await edit.getByLabel('Operator', { exact: true }).selectOption('gte');
    await edit.getByLabel('Value', { exact: true }).fill('10');
    await edit.getByLabel('Retention: window days').fill('14');
    await edit.getByRole('button', { name: 'Save feature' }).click();
    await edit.waitFor({ state: 'detached' });
    expect((await api(a, '/api/v1/features/paid')).body).toMatchObject({
      attribute: 'seats',
      operator: 'gte',
      value: 10,
      retention: { min_active_days: 1, window_days: 14 },
    });
    expect(await rowCells(table, 'Paid plans')).toContain('Attribute: seats gte 10');

    // Delete asks first; "Cancel" keeps it, "Yes, delete" removes it.
    await main.getByRole('button', { name: 'Delete Paid plans' }).click();
    const question = main.getByRole('alertdialog', { name: 'Delete feature “Paid plans”? This cannot be undone.' });
    await question.getByRole('button', { name: 'Cancel' }).click();
    expect((await api(a, '/api/v1/features/paid')).status).toBe(200);
    await main.getByRole('button', { name: 'Delete Paid plans' }).click();
    await question.getByRole('button', { name: 'Yes, delete' }).click();
    await table.getByRole('row', { name: /^Paid plans/ }).waitFor({ state: 'detached' });
    expect((await api(a, '/api/v1/features/paid')).status).toBe(404);

    // B's catalog is not A's.
    expect(await page.getByText('B secret').count()).toBe(0);
    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });

  it('shows the API’s 400 beside the field it names', async () => {
    const watched = await openPage(a, 'Features');
    const { page } = watched;
    const main = page.getByRole('main');
    await main.getByRole('button', { name: 'New feature' }).click();
    const form = main.getByRole('form', { name: 'New feature' });
    await form.getByLabel('ID', { exact: true }).fill('bad id!');
    await form.getByLabel('Name', { exact: true }).fill('Seats');
    await form.getByLabel('Type', { exact: true }).selectOption('attribute');
    await form.getByLabel('Attribute', { exact: true }).fill('seats');
    await form.getByLabel('Operator', { exact: true }).selectOption('gt');
    await form.getByLabel('Value', { exact: true }).fill('"ten"');
    await form.getByLabel('Adoption: window days').fill('3');
    await form.getByRole('button', { name: 'Save feature' }).click();

    // The API's own words (seed 002's error body, `details` without the field's name).
    const direct = await api(a, '/api/v1/features/bad%20id!', {
      method: 'PUT',
      body: {
        name: 'Seats',
        type: 'attribute',
        attribute: 'seats',
        operator: 'gt',
        value: 'ten',
        adoption: { window_days: 3 },
      },
    });
    expect(direct.status).toBe(400);
    const said = (field: string) => {
      const details = direct.body.errors.find((e: { field: string }) => e.field === field)?.details as string;
      const text = details.slice(field.length + 2);
      return text.charAt(0).toUpperCase() + text.slice(1);
    };
    const value = form.getByLabel('Value', { exact: true });
    await expect.poll(() => value.getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true');
    expect(await describedText(value)).toContain(said('value'));
    expect(await describedText(form.getByLabel('ID', { exact: true }))).toContain(said('id'));
    expect(await describedText(form.getByLabel('Adoption: window days'))).toContain(said('adoption.window_days'));
    expect(await form.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBeNull();

    // A value that is not JSON is caught before sending, and said so beside it.
    await form.getByLabel('ID', { exact: true }).fill('seats');
    await form.getByLabel('Value', { exact: true }).fill('ten');
    await form.getByRole('button', { name: 'Save feature' }).click();
    await expect
      .poll(() => describedText(form.getByLabel('Value', { exact: true })))
      .toContain('Write the value as JSON');
    expect((await api(a, '/api/v1/features/seats')).status).toBe(404);

    // Only the refused PUT failed.
    expect(watched.problems().filter((p) => !p.includes('400'))).toEqual([]);
    await page.context().close();
  });

  it('creates a feature with the keyboard alone', async () => {
    const watched = await openPage(a, 'Features');
    const { page } = watched;
    const main = page.getByRole('main');
    const newFeature = main.getByRole('button', { name: 'New feature' });
    await newFeature.waitFor();
    const focused = (locator: Locator) =>
      locator.evaluate((element) => element === element.ownerDocument.activeElement);
    for (let i = 0; i < 60 && !(await focused(newFeature)); i++) await page.keyboard.press('Tab');
    expect(await focused(newFeature)).toBe(true);
    await page.keyboard.press('Enter');
    const form = main.getByRole('form', { name: 'New feature' });
    await form.waitFor();
    // Focus moves to the form's heading once it has rendered (an effect, so after the
    // form is visible: on a loaded machine typing could otherwise start elsewhere);
    // from there the next Tab is its first input.
    await expect.poll(() => focused(form.getByRole('heading', { name: 'New feature' }))).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.type('search');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Search');
    await page.keyboard.press('Tab'); // Type: event
    await page.keyboard.press('Tab');
    await page.keyboard.type('Searched');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space'); // flag checks
    const save = form.getByRole('button', { name: 'Save feature' });
    for (let i = 0; i < 10 && !(await focused(save)); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await main.getByRole('row', { name: /^Search\b/ }).waitFor();
    expect((await api(a, '/api/v1/features/search')).body).toMatchObject({
      name: 'Search',
      type: 'event',
      event_names: ['Searched'],
      flag_checks: true,
    });
    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });

  it('shows each feature’s STARS funnel with the counts of a today export, and is accessible', async () => {
    // The features the tests above made through the form (a PUT of the same definition changes nothing).
    await api(a, '/api/v1/features/huddle', {
      method: 'PUT',
      body: { name: 'Huddles', type: 'event', event_names: ['Started huddle', 'Joined huddle'], flag_checks: true },
    });
    await api(a, '/api/v1/features/search', {
      method: 'PUT',
      body: { name: 'Search', type: 'event', event_names: ['Searched'], flag_checks: true },
    });
    // Three companies: one uses Huddles on 6 recent days (retained), one once (tried), one never.
    const day = 86_400_000;
    const now = Date.now();
    const calls: unknown[] = [
      {
        type: 'company',
        companyId: 'c-retained',
        userId: 'u1',
        attributes: { name: 'Retained Inc' },
        timestamp: new Date(now - 20 * day).toISOString(),
      },
      {
        type: 'company',
        companyId: 'c-tried',
        userId: 'u2',
        attributes: { name: 'Tried Ltd' },
        timestamp: new Date(now - 20 * day).toISOString(),
      },
      {
        type: 'company',
        companyId: 'c-never',
        userId: 'u3',
        attributes: { name: 'Never GmbH' },
        timestamp: new Date(now - 20 * day).toISOString(),
      },
      ...[1, 2, 3, 4, 5, 6].map((d) => ({
        type: 'event',
        event: 'Started huddle',
        userId: 'u1',
        timestamp: new Date(now - d * day).toISOString(),
      })),
      {
        type: 'event',
        event: 'Joined huddle',
        userId: 'u2',
        companyId: 'c-tried',
        timestamp: new Date(now - 3 * day).toISOString(),
      },
    ];
    expect((await http(`${harness.stack.url}/${a.tracking_key}/bulk`, { body: calls })).status).toBe(200);

    const watched = await openPage(a, 'Features');
    const { page } = watched;
    const table = page.getByRole('main').getByRole('table', { name: /^Features and their STARS funnel/ });
    const counted = async () => {
      const cells = await rowCells(table, 'Huddles');
      return cells.length > 0 && !cells.includes('…');
    };
    await expect.poll(counted, { timeout: 20_000 }).toBe(true);
    // Counted again by the button, at an instant the export below repeats.
    const funnelAnswer = page.waitForResponse((response) => response.url().includes('/api/v1/stars-funnel'));
    await page.getByRole('main').getByRole('button', { name: 'Refresh the STARS funnel' }).click();
    const asOf = ((await (await funnelAnswer).json()) as { as_of: string }).as_of;
    await page.getByRole('main').getByRole('button', { name: 'Refresh the STARS funnel' }).waitFor();

    const started = await api(a, '/api/v1/company-exports', { body: { aggregation: 'today', as_of: asOf } });
    expect(started.status, started.text).toBe(202);
    await harness.stack.workflowsIdle();
    const job = await api(a, started.body.links);
    const file = await fetch(job.body.download_url);
    const [header, ...rows] = parse(await file.text()) as string[][];
    const columns = { id: header?.indexOf('Feature ID') as number, stars: header?.indexOf('STARS State') as number };
    for (const [name, id] of [
      ['Huddles', 'huddle'],
      ['Search', 'search'],
    ] as const) {
      const counts = { never: 0, tried: 0, retained: 0, churned: 0 };
      for (const row of rows) {
        const state = STARS_FUNNEL_STATES[row[columns.stars] as string];
        if (row[columns.id] === id && state) counts[state] += 1;
      }
      // After the name (the row's header): ID, Uses, then Never, Tried, Retained, Churned.
      const cells = await rowCells(table, name);
      expect(cells.slice(2, 6), name).toEqual(
        [counts.never, counts.tried, counts.retained, counts.churned].map(String),
      );
    }
    expect((await rowCells(table, 'Huddles')).slice(2, 6)).toEqual(['1', '1', '1', '0']);
    await docsScreenshot(page, 'features');

    await expectAccessible(page);
    await page.getByRole('main').getByRole('button', { name: 'New feature' }).click();
    await page.getByRole('main').getByLabel('Type', { exact: true }).selectOption('attribute');
    await expectAccessible(page);
    expect(watched.problems()).toEqual([]);
    await page.context().close();
  });
});

describe('the Segments page', () => {
  it('creates a segment with several operators, edits and deletes it; the API holds each change', async () => {
    const watched = await openPage(a, 'Segments');
    const { page } = watched;
    const main = page.getByRole('main');
    await main.getByText('No segments yet.').waitFor();
    await main.getByRole('button', { name: 'New segment' }).click();
    const form = main.getByRole('form', { name: 'New segment' });
    await form.getByLabel('ID', { exact: true }).fill('big-eu');
    await form.getByLabel('Name', { exact: true }).fill('Big EU customers');
    const filters: [string, string, string | undefined][] = [
      ['plan', 'eq', '"pro"'],
      ['seats', 'gte', '10'],
      ['tags', 'contains', '"beta"'],
      ['region', 'in', '["eu", "uk"]'],
      ['churned_at', 'is_not_set', undefined],
      ['trial', 'neq', 'true'],
    ];
    for (const [i, [attribute, operator, value]] of filters.entries()) {
      if (i > 0) await form.getByRole('button', { name: 'Add a filter' }).click();
      await form.getByLabel(`Filter ${i + 1} attribute`).fill(attribute);
      await form.getByLabel(`Filter ${i + 1} operator`).selectOption(operator);
      if (value !== undefined) await form.getByLabel(`Filter ${i + 1} value`).fill(value);
      else expect(await form.getByLabel(`Filter ${i + 1} value`).count()).toBe(0);
    }
    await docsScreenshot(page, 'segments-form');
    await form.getByRole('button', { name: 'Save segment' }).click();
    const table = main.getByRole('table', { name: 'Segments' });
    await table.getByRole('row', { name: /^Big EU customers/ }).waitFor();
    expect((await api(a, '/api/v1/segments/big-eu')).body).toMatchObject({
      name: 'Big EU customers',
      filters: [
        { attribute: 'plan', operator: 'eq', value: 'pro' },
        { attribute: 'seats', operator: 'gte', value: 10 },
        { attribute: 'tags', operator: 'contains', value: 'beta' },
        { attribute: 'region', operator: 'in', value: ['eu', 'uk'] },
        { attribute: 'churned_at', operator: 'is_not_set', value: null },
        { attribute: 'trial', operator: 'neq', value: true },
      ],
    });

    // Edit: drop the tags filter, make the seats one `lt` with a string the API refuses, then fix it.
    await main.getByRole('button', { name: 'Edit Big EU customers' }).click();
    const edit = main.getByRole('form', { name: 'Edit segment “Big EU customers”' });
    await edit.getByRole('button', { name: 'Remove filter 3' }).click();
    await edit.getByLabel('Filter 2 operator').selectOption('lt');
    await edit.getByLabel('Filter 2 value').fill('"many"');
    await edit.getByRole('button', { name: 'Save segment' }).click();
    const seats = edit.getByLabel('Filter 2 value');
    await expect.poll(() => seats.getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true');
    expect(await describedText(seats)).toMatch(/number/);
    await seats.fill('500');
    await edit.getByRole('button', { name: 'Save segment' }).click();
    await edit.waitFor({ state: 'detached' });
    const stored = (await api(a, '/api/v1/segments/big-eu')).body;
    expect(stored.filters).toHaveLength(5);
    expect(stored.filters[1]).toEqual({ attribute: 'seats', operator: 'lt', value: 500 });
    expect(stored.filters.map((f: { attribute: string }) => f.attribute)).not.toContain('tags');
    await docsScreenshot(page, 'segments');

    await expectAccessible(page);
    await main.getByRole('button', { name: 'Delete Big EU customers' }).click();
    await main.getByRole('alertdialog').getByRole('button', { name: 'Yes, delete' }).click();
    await main.getByText('No segments yet.').waitFor();
    expect((await api(a, '/api/v1/segments/big-eu')).status).toBe(404);
    expect(await page.getByText('B segment').count()).toBe(0);
    expect(watched.problems().filter((p) => !p.includes('400'))).toEqual([]);
    await page.context().close();
  });
});

describe("an environment's key", () => {
  it("never reaches another environment's catalog or lake, by the page or by the API with B's ids", async () => {
    expect((await api(a, '/api/v1/features/b-secret')).status).toBe(404);
    expect((await api(a, '/api/v1/segments/b-seg')).status).toBe(404);
    expect((await api(a, '/api/v1/features/b-secret', { method: 'DELETE' })).status).toBe(404);
    expect((await api(a, '/api/v1/segments/b-seg', { method: 'DELETE' })).status).toBe(404);
    expect((await api(b, '/api/v1/features/b-secret')).status).toBe(200);
    expect((await api(b, '/api/v1/segments/b-seg')).status).toBe(200);
    const funnel = (await api(a, '/api/v1/stars-funnel')).body;
    expect(funnel.features.map((f: { feature_id: string }) => f.feature_id)).not.toContain('b-secret');
    const theirs = (await api(b, '/api/v1/stars-funnel')).body;
    expect(theirs.features.map((f: { feature_id: string }) => f.feature_id)).toEqual(['b-secret']);
    // B sent nothing: A's events and users are not B's.
    expect((await api(b, '/api/v1/tracking/events')).body.events).toEqual([]);
    expect((await api(b, '/api/v1/tracking/unassociated')).body.unassociated_tracks).toBe(0);

    const watched = await openPage(b, 'Features');
    const table = watched.page.getByRole('main').getByRole('table', { name: /^Features and their STARS funnel/ });
    await table.getByRole('row', { name: /^B secret/ }).waitFor();
    expect(await table.getByRole('row').count()).toBe(2);
    expect(await watched.page.getByText('Huddles').count()).toBe(0);
    await watched.page.context().close();
  });
});
