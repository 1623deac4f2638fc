import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STATE_TABLE } from '../../bin/local.ts';
import { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import type { LakeEvent } from '../../lambdas/contract/lake.ts';
import type { CompanyExportJob } from '../../lambdas/core/company-export/job.ts';
import {
  aggregationWindows,
  COMPANY_EXPORT_HEADER,
  type RollupAggregation,
} from '../../lambdas/core/company-export/rollup/index.ts';
import { admin, http, startTestStack } from '../support/local-stack.ts';
import { randomRollupDataset } from '../support/rollup-data.ts';
import { oracleRollup } from '../support/rollup-oracle.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const AGGREGATIONS: RollupAggregation[] = ['today', '30d_daily', '3m_weekly', '6m_weekly'];

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
interface Env {
  environment_id: string;
  tracking_key: string;
  api_key: string;
}
let a: Env;
let b: Env;
const dataset = randomRollupDataset(11);

const token = (env: Env) => ({ authorization: `Token ${env.api_key}` });

async function sendDataset(env: Env, calls: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < calls.length; i += 500) {
    const response = await http(`${stack.url}/${env.tracking_key}/bulk`, { body: calls.slice(i, i + 500) });
    expect(response.status, response.text).toBe(200);
  }
}

async function runExport(env: Env, aggregation: string, asOf: string): Promise<{ job: any; csv: string }> {
  const started = await http(`${stack.url}/api/v1/company-exports`, {
    headers: token(env),
    body: { aggregation, as_of: asOf },
  });
  expect(started.status, started.text).toBe(202);
  expect(started.body).toMatchObject({
    status: 'running',
    links: `/api/v1/company-exports/jobs/${started.body.job_id}`,
  });
  await stack.workflowsIdle();
  const job = await http(`${stack.url}${started.body.links}`, { headers: token(env) });
  expect(job.status).toBe(200);
  expect(job.body.status, JSON.stringify(job.body)).toBe('completed');
  // The link is the API's file route (no key needed); it redirects to a five-minute URL of the stack's S3.
  const link = new URL(job.body.download_url);
  expect(link.origin + link.pathname).toBe(
    `${stack.url}/api/v1/company-exports/jobs/${job.body.job_id}/files/company-export-${aggregation}-${job.body.as_of.slice(0, 10)}.csv`,
  );
  const redirect = await fetch(link, { redirect: 'manual' });
  expect(redirect.status, await redirect.clone().text()).toBe(302);
  const location = new URL(redirect.headers.get('location') as string);
  expect(location.origin).toBe(stack.s3Endpoint);
  expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
  const download = await fetch(location);
  expect(download.status).toBe(200);
  return { job: job.body, csv: await download.text() };
}

/** What the lake holds for an environment, as the oracle reads events. */
async function lakeEvents(env: Env): Promise<LakeEvent[]> {
  return admin(stack).sql<LakeEvent>('SELECT * FROM events WHERE app_id = ?', [env.environment_id]);
}

beforeAll(async () => {
  stack = await startTestStack();
  const create = async (name: string, plan: 'pro' | 'free' | 'enterprise') =>
    (await admin(stack).createEnvironment(name, plan)).body as Env;
  a = await create('tenant-a', 'pro');
  b = await create('tenant-b', 'enterprise');
  for (const feature of dataset.catalog.features) {
    const { id, ...body } = feature;
    const put = await http(`${stack.url}/api/v1/features/${encodeURIComponent(id)}`, {
      method: 'PUT',
      headers: token(a),
      body,
    });
    expect(put.status, put.text).toBeLessThan(300);
  }
  for (const segment of dataset.catalog.segments) {
    const { id, ...body } = segment;
    const put = await http(`${stack.url}/api/v1/segments/${encodeURIComponent(id)}`, {
      method: 'PUT',
      headers: token(a),
      body,
    });
    expect(put.status, put.text).toBeLessThan(300);
  }
  const calls = dataset.batches.flatMap((batch) => batch.calls);
  await sendDataset(a, calls);
  // B sends the same company ids with other names and more use: none of it may reach A's export.
  await sendDataset(
    b,
    calls.map((call) =>
      call.type === 'company' ? { ...call, attributes: { name: 'TENANT-B-ONLY', seats: 999 } } : call,
    ),
  );
});
afterAll(async () => {
  await stack?.cleanup();
});

describe('company export over the local stack (seed 000, manual export)', () => {
  for (const aggregation of AGGREGATIONS) {
    it(`${aggregation}: the CSV equals the oracle cell for cell, with DESIGN's header`, async () => {
      const { job, csv } = await runExport(a, aggregation, dataset.asOf.toISOString());
      const cells = parse(csv) as string[][];
      expect(cells[0]).toEqual([...COMPANY_EXPORT_HEADER]);
      expect(csv).not.toContain('TENANT-B-ONLY');
      const windows = aggregationWindows(aggregation, dataset.asOf);
      const expected = oracleRollup(await lakeEvents(a), a.environment_id, dataset.catalog, windows);
      // A comparison of two empty files would prove nothing.
      expect(expected.length).toBeGreaterThan(aggregation === 'today' ? 5 : 20);
      expect(new Set(expected.slice(1).map((row) => row[9])).size).toBeGreaterThan(1);
      expect(cells).toEqual(expected);
      expect(job.rows).toBe(expected.length - 1);
      expect(job).toMatchObject({ aggregation, as_of: dataset.asOf.toISOString(), error: null });
    });
  }

  it('runs exports in bounded memory (1 GB by default), spilling under the stack home', async () => {
    const [settings] = await admin(stack).sql<{ memory: string; spill: string }>(
      "SELECT current_setting('memory_limit') AS memory, current_setting('temp_directory') AS spill",
      [],
    );
    // DuckDB reports 1GB (10^9 bytes) in MiB.
    expect(settings?.memory).toMatch(/^953\.\d+ MiB$/);
    expect(settings?.spill).toBe(join(stack.home, 'tmp', 'spill'));
  });

  it('a run that never reports back (the stack restarted under it) reads as failed, saying what to do', async () => {
    const client = stack.dynamoClient();
    const jobs = new DynamoDbCompanyExportJobs({
      client: DynamoDBDocumentClient.from(client),
      tableName: LOCAL_STATE_TABLE,
    });
    const stuck = (jobId: string, minutesAgo: number): CompanyExportJob => ({
      job_id: jobId,
      environment_id: a.environment_id,
      aggregation: '30d_daily',
      as_of: '2025-12-01T00:00:00.000Z',
      status: 'running',
      created_at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
      completed_at: null,
      rows: null,
      csv_key: null,
      error: null,
    });
    // Items as a run leaves them when no step records its end.
    await jobs.create(stuck('stuck-2h', 120));
    await jobs.create(stuck('running-10m', 10));
    // Neither has an execution in this stack (they were asked for before it started): both ended.
    for (const id of ['stuck-2h', 'running-10m']) {
      const read = await http(`${stack.url}/api/v1/company-exports/jobs/${id}`, { headers: token(a) });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        status: 'failed',
        download_url: null,
        error: expect.stringMatching(/interrupted.*Start it again/),
      });
    }
  });

  it('the CLI starts the job, follows it and downloads the same file', async () => {
    const out = join(stack.home, 'cli-export.csv');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'bin', 'featurelake.mjs'),
        'export',
        'company',
        '--aggregation',
        '30d_daily',
        '--as-of',
        dataset.asOf.toISOString(),
        '--out',
        out,
        '--poll-ms',
        '100',
      ],
      { env: { ...process.env, FEATURELAKE_URL: stack.url, FEATURELAKE_API_KEY: a.api_key } },
    );
    const summary = JSON.parse(stdout);
    const fromCli = await readFile(out, 'utf8');
    const { csv } = await runExport(a, '30d_daily', dataset.asOf.toISOString());
    expect(fromCli).toBe(csv);
    expect(summary.rows).toBe((parse(csv) as string[][]).length - 1);
  });

  it("refuses a free plan with seed 002's 401, and keeps each environment's jobs to itself", async () => {
    const free = (await admin(stack).createEnvironment('free-tenant', 'free')).body as Env;
    const refused = await http(`${stack.url}/api/v1/company-exports`, {
      headers: token(free),
      body: { aggregation: 'today' },
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      errors: [
        {
          details: `Your current plan for application ${(free as unknown as { app_token: string }).app_token} does not support the feature you are trying to access.`,
          error: 'Unauthorized',
          error_code: '401',
          message: 'You are not authorized to perform the requested action.',
        },
      ],
    });

    const started = await http(`${stack.url}/api/v1/company-exports`, {
      headers: token(b),
      body: { aggregation: 'today' },
    });
    expect(started.status).toBe(202);
    const stolen = await http(`${stack.url}${started.body.links}`, { headers: token(a) });
    expect(stolen.status).toBe(404);
    expect(stolen.body.errors[0]).toMatchObject({
      error: 'Resource not found',
      error_code: '404',
      message: `Failed to retrieve job with id ${started.body.job_id}: job not found`,
    });
    await stack.workflowsIdle();

    // The file route, with an API key: the owner is redirected, another environment gets the same 404.
    const { download_url } = (await http(`${stack.url}${started.body.links}`, { headers: token(b) })).body;
    const fileRoute = new URL(download_url);
    fileRoute.search = '';
    const own = await fetch(fileRoute, { headers: token(b), redirect: 'manual' });
    expect(own.status).toBe(302);
    const other = await http(fileRoute.toString(), { headers: token(a) });
    expect(other.status).toBe(404);
    // B's link with A's environment id is refused before any job is looked up.
    const swapped = new URL(download_url);
    swapped.searchParams.set('environment_id', a.environment_id);
    const forged = await http(swapped.toString());
    expect(forged.status).toBe(403);
    expect(forged.body.errors[0]).toMatchObject({ error_code: '403', field: 'signature' });
  });

  it("runs one requested export per environment at a time: the others get seed 002's 409, worded for company exports", async () => {
    await stack.workflowsIdle();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        http(`${stack.url}/api/v1/company-exports`, { headers: token(a), body: { aggregation: '30d_daily' } }),
      ),
    );
    const accepted = answers.filter((answer) => answer.status === 202);
    const refused = answers.filter((answer) => answer.status === 409);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(19);
    expect(refused[0]?.body).toEqual({
      errors: [
        {
          details:
            'There is already a company export in progress, you can only have one company export in progress at a time.',
          error: 'Conflict',
          error_code: '409',
          message:
            'The request could not be completed due to a conflict with the current state of the target resource.',
        },
      ],
    });
    // Another environment is not held up by it.
    const other = await http(`${stack.url}/api/v1/company-exports`, {
      headers: token(b),
      body: { aggregation: 'today' },
    });
    expect(other.status, other.text).toBe(202);

    // Once it ends (completed here; failed would free it the same way), the next one starts.
    await stack.workflowsIdle();
    const done = await http(`${stack.url}${accepted[0]?.body.links}`, { headers: token(a) });
    expect(done.body.status).toBe('completed');
    await runExport(a, 'today', dataset.asOf.toISOString());
  });

  it('names the field of a bad request', async () => {
    const response = await http(`${stack.url}/api/v1/company-exports`, {
      headers: token(a),
      body: { aggregation: 'yearly', as_of: 'yesterday' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual(['aggregation', 'as_of']);
  });
});
