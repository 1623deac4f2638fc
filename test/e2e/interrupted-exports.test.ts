import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STATE_TABLE } from '../../bin/local.ts';
import { DynamoDbAutomaticExportStore } from '../../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import type { CompanyExportJob } from '../../lambdas/core/company-export/job.ts';
import { lockExpiry, newEventsExportJob } from '../../lambdas/core/events-export/job.ts';
import { eventsExportRequest } from '../../lambdas/core/events-export/request.ts';
import { admin, dynaliteClient, http, startTestStack, tempHome } from '../support/local-stack.ts';

/**
 * What a stack killed in the middle of two exports leaves in its home (the jobs
 * still `running`, the raw-event export's lock held, an automatic run's status
 * `running`), and what the next start must make of it. The real SIGKILL is in
 * fault-injection.test.ts; this one leaves the state exactly, so it never misses.
 */
let home: string;
let stack: Awaited<ReturnType<typeof startTestStack>> | undefined;
let env: { environment_id: string; api_key: string; app_token: string };
const token = () => ({ authorization: `Token ${env.api_key}` });
const INTERRUPTED = /interrupted.*start it again/i;

/** Opens the stopped stack's DynamoDB files, as the killed process left them, and writes `items`. */
async function asTheKilledProcessLeftIt(write: (documents: DynamoDBDocumentClient) => Promise<void>): Promise<void> {
  const server = dynalite({ path: join(home, 'dynamodb'), createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = dynaliteClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    await write(DynamoDBDocumentClient.from(client));
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

beforeAll(async () => {
  home = await tempHome('featurelake-interrupted-');
  const first = await startTestStack({ home });
  env = (await admin(first).createEnvironment('cut', 'enterprise')).body as typeof env;
  await first.close();

  await asTheKilledProcessLeftIt(async (documents) => {
    const now = new Date(Date.now() - 20_000);
    const company: CompanyExportJob = {
      job_id: 'cut-company',
      environment_id: env.environment_id,
      aggregation: '30d_daily',
      as_of: now.toISOString(),
      status: 'running',
      created_at: now.toISOString(),
      completed_at: null,
      rows: null,
      csv_key: null,
      error: null,
    };
    await new DynamoDbCompanyExportJobs({ client: documents, tableName: LOCAL_STATE_TABLE }).create(company);

    const events = new DynamoDbEventsExportJobs({ client: documents, tableName: LOCAL_STATE_TABLE });
    const job = newEventsExportJob({
      jobId: 'cut-events',
      environmentId: env.environment_id,
      appToken: env.app_token,
      request: eventsExportRequest.parse({ from: '2025-11-30', to: '2025-12-02' }),
      now,
    });
    expect(await events.acquireExportLock(env.environment_id, job.job_id, lockExpiry(job), now)).toBe(true);
    await events.create(job);

    const settings = new DynamoDbAutomaticExportStore({ client: documents, tableName: LOCAL_STATE_TABLE });
    await settings.saveSettings({
      environment_id: env.environment_id,
      enabled: true,
      cadence: 'daily',
      destination: { provider: 'gcp', bucket: 'b', region: 'auto', prefix: '', endpoint: null, bucket_url: null },
      access_key_id: 'GOOG1',
      secret: {
        scheme: 'local-key-file',
        key_id: null,
        encrypted_key: null,
        iv: 'aQ==',
        tag: 'dA==',
        ciphertext: 'Yw==',
      },
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    });
    await settings.claimRun(env.environment_id, {
      date: now.toISOString().slice(0, 10),
      job_id: 'cut-automatic',
      run_at: now.toISOString(),
      snapshot_at: now.toISOString(),
    });
    await new DynamoDbCompanyExportJobs({ client: documents, tableName: LOCAL_STATE_TABLE }).create({
      ...company,
      job_id: 'cut-automatic',
      aggregation: 'today',
    });
  });
  stack = await startTestStack({ home });
});
afterAll(async () => {
  await stack?.close();
  await rm(home, { recursive: true, force: true });
});

describe('exports cut by a restart of the local stack', () => {
  it('end as failed at the next start, with a message saying to start them again', async () => {
    const company = await http(`${stack?.url}/api/v1/company-exports/jobs/cut-company`, { headers: token() });
    expect(company.body).toMatchObject({
      status: 'failed',
      download_url: null,
      error: expect.stringMatching(INTERRUPTED),
    });
    expect(company.body.completed_at).not.toBeNull();

    const events = await http(`${stack?.url}/api/v1/analytics/exports/jobs/cut-events`, { headers: token() });
    expect(events.body).toMatchObject({
      status: 'failed',
      presigned_urls: [],
      error: expect.stringMatching(INTERRUPTED),
    });
    expect(events.body.end_time).not.toBeNull();
  });

  it("an automatic run's status under the settings settles too", async () => {
    const settings = await http(`${stack?.url}/api/v1/company-exports/automatic`, { headers: token() });
    expect(settings.body.status).toMatchObject({
      last_status: 'failed',
      job_id: 'cut-automatic',
      error: expect.stringMatching(INTERRUPTED),
    });
  });

  it('the raw-event export lock is free: a new export is accepted and completes', async () => {
    const started = await http(`${stack?.url}/api/v1/analytics/exports`, {
      headers: token(),
      body: { from: '2025-11-30', to: '2025-12-02' },
    });
    expect(started.status, started.text).toBe(201);
    await stack?.workflowsIdle();
    const job = await http(`${stack?.url}${started.body.links}`, { headers: token() });
    expect(job.body).toMatchObject({ status: 'completed', error: null });
  });
});
