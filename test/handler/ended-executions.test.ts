import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type ExecutionStatus,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAutomaticExportStore } from '../../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import { SfnWorkflowStarter } from '../../lambdas/adapters/aws/sfn-workflow-starter.ts';
import { localLambdaContext } from '../../lambdas/adapters/local/api-gateway-server.ts';
import type { AutomaticExportSettings } from '../../lambdas/core/automatic-export/automatic-export.ts';
import { dispatchAutomaticExports } from '../../lambdas/core/automatic-export/dispatch.ts';
import type { Environment } from '../../lambdas/core/environments/environments.ts';
import { makeHandler as makeCompanyExports } from '../../lambdas/handlers/company-exports.ts';
import { makeHandler as makeEventsExports } from '../../lambdas/handlers/events-exports.ts';
import { TEST_LINK_KEY } from '../support/download-links.ts';
import { type InMemoryStateTable, inMemoryStateTable } from '../support/local-stack.ts';

/**
 * On AWS a run can end without its Catch recording it: the state machine's
 * TimeoutSeconds, a StopExecution, a failure of the step that records the failure.
 * The API Lambdas then read the job as still running, and (before this was fixed)
 * the environment's export lock stayed held for hours. Real handlers over dynalite,
 * with the Step Functions client mocked (DescribeExecution has no local stand-in).
 */
const TABLE = 'ended-executions-test';
const COMPANY_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:CompanyExport';
const EVENTS_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:EventsExport';

let state: InMemoryStateTable;
let sfn: AwsClientStub<SFNClient>;
let companyJobs: DynamoDbCompanyExportJobs;
let eventsJobs: DynamoDbEventsExportJobs;
let settings: DynamoDbAutomaticExportStore;
/** Each execution's status as DescribeExecution reports it, by execution name. */
const executions = new Map<string, ExecutionStatus>();

const environment = (id: string): Environment => ({
  environment_id: id,
  name: 'production',
  plan: 'enterprise',
  app_token: `FL-${id}`,
  tracking_key: `t-${id}`,
  api_key_hash: `h-${id}`,
  created_at: '2025-01-01T00:00:00.000Z',
});

function apis(environmentId: string) {
  const workflows = new SfnWorkflowStarter({
    client: new SFNClient({ region: 'eu-west-1' }),
    stateMachineArns: { 'company-export': COMPANY_MACHINE, 'events-export': EVENTS_MACHINE },
  });
  const common = {
    environments: { findByApiKeyHash: async () => environment(environmentId) },
    workflows,
    files: { signedGetUrl: async () => 'https://exports.example/signed' },
    exportsBucket: 'exports',
    linkKey: TEST_LINK_KEY,
    apiBaseUrl: () => 'https://api.example',
  };
  const events = makeEventsExports({
    ...common,
    jobs: eventsJobs,
    catalog: { getSegment: async () => undefined },
  });
  const company = makeCompanyExports({ ...common, jobs: companyJobs, settings });
  const call = async (handler: typeof events, routeKey: string, body?: unknown, job_id?: string) => {
    const response = await handler(
      {
        routeKey,
        headers: { authorization: 'Token k' },
        body: body === undefined ? undefined : JSON.stringify(body),
        isBase64Encoded: false,
        pathParameters: job_id ? { job_id } : undefined,
      } as never,
      localLambdaContext('api'),
    );
    return { status: response.statusCode, body: JSON.parse((response.body as string) || 'null') };
  };
  return {
    startEvents: () => call(events, 'POST /api/v1/analytics/exports', { from: '2025-11-30', to: '2025-12-02' }),
    eventsJob: (id: string) => call(events, 'GET /api/v1/analytics/exports/jobs/{job_id}', undefined, id),
    eventsJobs: () => call(events, 'GET /api/v1/analytics/exports/jobs'),
    startCompany: () => call(company, 'POST /api/v1/company-exports', { aggregation: 'today' }),
    companyJob: (id: string) => call(company, 'GET /api/v1/company-exports/jobs/{job_id}', undefined, id),
  };
}

beforeAll(async () => {
  state = await inMemoryStateTable(TABLE);
  companyJobs = new DynamoDbCompanyExportJobs({ client: state.documents, tableName: TABLE });
  eventsJobs = new DynamoDbEventsExportJobs({ client: state.documents, tableName: TABLE });
  settings = new DynamoDbAutomaticExportStore({ client: state.documents, tableName: TABLE });
  sfn = mockClient(SFNClient);
});
afterAll(async () => {
  sfn.restore();
  await state?.close();
});
beforeEach(() => {
  sfn.reset();
  sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => {
    executions.set(input.name, 'RUNNING');
    return { executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` };
  });
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const name = input.executionArn.split(':').at(-1) ?? '';
    const status = executions.get(name);
    if (!status)
      throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: {} });
    return { executionArn: input.executionArn, status, stateMachineArn: '', startDate: new Date() };
  });
});

const INTERRUPTED = /interrupted.*start it again/i;

describe('a raw-event export whose execution ended without recording it', () => {
  it.each([
    ['ABORTED', INTERRUPTED],
    ['FAILED', INTERRUPTED],
    ['TIMED_OUT', /time limit/],
  ] as const)(
    '%s: reading the job settles it as failed with a message, and a new export is accepted',
    async (status, message) => {
      const api = apis(`events-${status}`);
      const first = await api.startEvents();
      expect(first.status).toBe(201);
      // While the execution runs, the lock holds: seed 002's 409.
      expect((await api.startEvents()).status).toBe(409);

      executions.set(first.body.job_id, status);
      const read = await api.eventsJob(first.body.job_id);
      expect(read.body).toMatchObject({ status: 'failed', error: expect.stringMatching(message) });
      expect(read.body.end_time).not.toBeNull();
      // Settled in the table, not only in the answer: the list shows it failed too.
      const listed = await api.eventsJobs();
      expect(listed.body.find((j: { job_id: string }) => j.job_id === first.body.job_id)?.status).toBe('failed');

      const next = await api.startEvents();
      expect(next.status, JSON.stringify(next.body)).toBe(201);
    },
  );

  it('a new request that meets the lock of an ended execution settles the holder and takes the lock', async () => {
    const api = apis('events-takeover');
    const first = await api.startEvents();
    expect(first.status).toBe(201);
    executions.set(first.body.job_id, 'ABORTED');

    const second = await api.startEvents();
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect((await api.eventsJob(first.body.job_id)).body).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(INTERRUPTED),
    });
    // The new holder runs: the next one is refused again.
    expect((await api.startEvents()).status).toBe(409);
  });

  it('a lock left by a run that completed (the step died between its two writes) is taken by the next request', async () => {
    const api = apis('events-completed');
    const first = await api.startEvents();
    await eventsJobs.markCompleted('events-completed', first.body.job_id, new Date().toISOString());
    executions.set(first.body.job_id, 'FAILED');
    expect((await api.startEvents()).status).toBe(201);
    expect((await api.eventsJob(first.body.job_id)).body.status).toBe('completed');
  });
});

describe('a company export whose execution ended without recording it', () => {
  it('reading the job settles it as failed, and frees the one requested export of the environment', async () => {
    const api = apis('company-aborted');
    const first = await api.startCompany();
    expect(first.status).toBe(202);
    const refused = await api.startCompany();
    expect(refused.status).toBe(409);

    executions.set(first.body.job_id, 'TIMED_OUT');
    const read = await api.companyJob(first.body.job_id);
    expect(read.body).toMatchObject({
      status: 'failed',
      download_url: null,
      error: expect.stringMatching(/time limit/),
    });
    expect((await api.startCompany()).status).toBe(202);
  });

  it("an automatic run's job settles, and so does the status shown under the automatic settings", async () => {
    const environmentId = 'company-automatic';
    const saved: AutomaticExportSettings = {
      environment_id: environmentId,
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
      created_at: '2025-11-01T00:00:00.000Z',
      updated_at: '2025-11-01T00:00:00.000Z',
    };
    await settings.saveSettings(saved);
    const workflows = new SfnWorkflowStarter({
      client: new SFNClient({ region: 'eu-west-1' }),
      stateMachineArns: { 'company-export': COMPANY_MACHINE },
    });
    const report = await dispatchAutomaticExports(
      {
        settings,
        environments: { get: async () => environment(environmentId) },
        jobs: companyJobs,
        workflows,
        clock: { now: () => new Date() },
      },
      new Date(),
    );
    const [run] = report.started;
    expect(run).toBeDefined();
    executions.set(run?.execution_name ?? '', 'ABORTED');

    const read = await apis(environmentId).companyJob(run?.job_id ?? '');
    expect(read.body).toMatchObject({ status: 'failed', error: expect.stringMatching(INTERRUPTED) });
    expect(await settings.get(environmentId)).toMatchObject({
      last_status: 'failed',
      last_error: expect.stringMatching(INTERRUPTED),
      last_job_id: run?.job_id,
    });
  });
});

describe('when Step Functions cannot answer', () => {
  it('a read shows the job as stored (no 500), and the lock stays with it', async () => {
    const api = apis('events-throttled');
    const first = await api.startEvents();
    executions.set(first.body.job_id, 'ABORTED');
    sfn.on(DescribeExecutionCommand).rejects(new Error('Rate exceeded'));
    const read = await api.eventsJob(first.body.job_id);
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('running');
    expect((await api.startEvents()).status).toBe(409);
  });
});
