import { gzipSync } from 'node:zlib';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import aslValidator from 'asl-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_EXPORTS_BUCKET, LOCAL_RESULTS_BUCKET, LOCAL_STATE_TABLE } from '../../bin/local.ts';
import { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import { localLambdaContext } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { duckDbAthenaTask, streamedResultFiles } from '../../lambdas/adapters/local/duckdb-athena-task.ts';
import {
  collectTaskStates,
  type LocalTaskHandler,
  LocalWorkflowRunner,
  lambdaTask,
  substitute,
} from '../../lambdas/adapters/local/local-workflow-runner.ts';
import type { EventsExportJob } from '../../lambdas/core/events-export/job.ts';
import { eventsExportSql } from '../../lambdas/core/events-export/sql.ts';
import { makeHandler as makeSteps } from '../../lambdas/handlers/events-export-steps.ts';
import { makeHandler as makeApi } from '../../lambdas/handlers/events-exports.ts';
import { companyExportDefinition } from '../../lambdas/workflows/company-export.ts';
import {
  EVENTS_EXPORT_MAX_CONCURRENCY,
  EVENTS_EXPORT_STATES,
  eventsExportDefinition,
  eventsExportWorkflow,
  unloadQueryString,
} from '../../lambdas/workflows/events-export.ts';
import { TEST_LINK_KEY } from '../support/download-links.ts';
import { startTestStack } from '../support/local-stack.ts';

/** The placeholders its document names, as the deployed substitutions must fill them. */
const EVENTS_EXPORT_SUBSTITUTIONS = Object.values(eventsExportWorkflow().placeholders);

/**
 * The events export state machine (the deployed ASL document) in the local runner,
 * with the real steps Lambda over dynalite and s3rver. Only the query task is made
 * to fail, as Athena can; then the API must let the same environment start again.
 */

const trino = eventsExportSql('trino');
const S = EVENTS_EXPORT_STATES;
const SUBSTITUTIONS = {
  EventsExportStepsFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:events-export-steps',
  GlueDatabase: 'featurelake',
  AthenaWorkGroup: 'featurelake-events-exports',
  ResultsBucket: LOCAL_RESULTS_BUCKET,
};

describe('the events export ASL document', () => {
  const definition = eventsExportDefinition(trino);
  const states = definition.States as Record<string, Record<string, any>>;

  it('is valid ASL once its placeholders are filled, and names exactly the placeholders it declares', () => {
    const result = aslValidator(structuredClone(substitute(definition, SUBSTITUTIONS)), {
      checkArn: true,
      checkPaths: true,
    });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
    const placeholders = new Set([...JSON.stringify(definition).matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual([...EVENTS_EXPORT_SUBSTITUTIONS].sort());
  });

  it('plans, maps over the weeks (query, then file) with bounded concurrency, then completes', () => {
    expect(definition.StartAt).toBe(S.plan);
    expect(states[S.plan]).toMatchObject({ Type: 'Task', ResultPath: '$.plan', Next: S.weeks });
    const map = states[S.weeks];
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.partitions',
      MaxConcurrency: EVENTS_EXPORT_MAX_CONCURRENCY,
      ResultPath: null,
      Next: S.complete,
    });
    expect(map?.ItemSelector).toEqual({
      'job_id.$': '$.job_id',
      'app_id.$': '$.app_id',
      'partition.$': '$$.Map.Item.Value',
    });
    const inner = map?.ItemProcessor as { StartAt: string; States: Record<string, Record<string, any>> };
    expect(inner.StartAt).toBe(S.query);
    expect(inner.States[S.query]).toMatchObject({
      Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
      Parameters: { 'QueryString.$': unloadQueryString(trino), 'ExecutionParameters.$': '$.partition.athena_params' },
      Next: S.assemble,
    });
    expect(inner.States[S.assemble]).toMatchObject({ Type: 'Task', End: true });
    expect(states[S.complete]).toMatchObject({ Type: 'Task', End: true });
  });

  it('catches every failure outside the Map, and the Map’s, into the step that fails the job and frees the lock', () => {
    for (const name of [S.plan, S.weeks, S.complete]) {
      expect(states[name]?.Catch, name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: S.fail },
      ]);
    }
    expect(states[S.fail]).toMatchObject({ Type: 'Task', Next: S.failed });
    expect(states[S.failed]).toMatchObject({ Type: 'Fail' });
    // An iteration's failure fails the Map (its Catch then runs): no Catch inside that would swallow it.
    const inner = states[S.weeks]?.ItemProcessor.States as Record<string, Record<string, unknown>>;
    for (const state of Object.values(inner)) expect(state.Catch).toBeUndefined();
  });

  it('uses JSONPath only, and Task names no other workflow uses (they key the local handlers)', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/"QueryLanguage"|JSONata|"Assign"|\{%/);
    const ours = collectTaskStates(definition);
    expect(new Set(ours).size).toBe(ours.length);
    const company = collectTaskStates(
      companyExportDefinition({
        full: 'SELECT 1',
        fromFacts: 'SELECT 2',
        oneDateFromFacts: 'SELECT 3',
        weeklyFromFacts: 'SELECT 4',
      }),
    );
    expect(ours.filter((name) => company.includes(name))).toEqual([]);
  });
});

describe('events export workflow failures', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let jobs: DynamoDbEventsExportJobs;
  let files: S3ObjectStore;

  beforeAll(async () => {
    stack = await startTestStack();
    const client = stack.dynamoClient();
    jobs = new DynamoDbEventsExportJobs({ client: DynamoDBDocumentClient.from(client), tableName: LOCAL_STATE_TABLE });
    files = new S3ObjectStore({ client: stack.s3Client() });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  function runner(query: LocalTaskHandler, definition = eventsExportDefinition(trino)) {
    const steps = makeSteps({
      jobs,
      catalog: { getSegment: async () => undefined, getExclusions: async () => undefined },
      inputs: { writeInputs: async () => undefined },
      objects: files,
      mailer: { send: async () => undefined },
      exportsBucket: LOCAL_EXPORTS_BUCKET,
      apiBaseUrl: () => stack.url,
      linkKey: TEST_LINK_KEY,
      log: () => undefined,
    });
    const invoke = lambdaTask('events-export-steps', steps);
    return new LocalWorkflowRunner({
      'events-export': {
        definition: substitute(definition, SUBSTITUTIONS),
        tasks: { [S.plan]: invoke, [S.query]: query, [S.assemble]: invoke, [S.complete]: invoke, [S.fail]: invoke },
      },
    });
  }

  /** Starts a job through the API handler (lock and all) with `workflows`, and waits for its run. */
  async function startThroughApi(
    workflows: LocalWorkflowRunner,
    environmentId: string,
  ): Promise<{ status: number; job?: EventsExportJob }> {
    const api = makeApi({
      environments: {
        findByApiKeyHash: async () => ({
          environment_id: environmentId,
          name: 'production',
          plan: 'enterprise',
          app_token: 'FL-1',
          tracking_key: 't',
          api_key_hash: 'h',
          created_at: '2025-01-01T00:00:00.000Z',
        }),
      },
      jobs,
      catalog: { getSegment: async () => undefined },
      workflows,
      files,
      exportsBucket: LOCAL_EXPORTS_BUCKET,
      linkKey: TEST_LINK_KEY,
      apiBaseUrl: () => stack.url,
    });
    const response = await api(
      {
        routeKey: 'POST /api/v1/analytics/exports',
        headers: { authorization: 'Token k' },
        body: JSON.stringify({ from: '2025-11-30', to: '2025-12-02' }),
        isBase64Encoded: false,
      } as never,
      localLambdaContext('events-exports'),
    );
    await workflows.idle();
    if (response.statusCode !== 201) return { status: response.statusCode ?? 0 };
    const jobId = JSON.parse(response.body as string).job_id as string;
    return { status: 201, job: await jobs.get(environmentId, jobId) };
  }

  it('a failing partition query ends the job failed with the engine’s reason, frees the lock, and a new job can start', async () => {
    const failing = runner(
      duckDbAthenaTask({
        engine: { runToCsv: async () => ({ rows: 0 }) },
        files: streamedResultFiles(files),
        sql: 'SELECT 1',
        scratchDir: `${stack.home}/tmp`,
        unload: {
          engine: {
            unloadToTextFiles: async () => {
              throw new Error('Binder Error: Referenced column "nope" not found\nLINE 1: ...');
            },
          },
          store: files,
          fileSizeBytes: 1024,
        },
      }),
    );
    const first = await startThroughApi(failing, 'env-fail');
    expect(first.job).toMatchObject({
      status: 'failed',
      error: 'The export failed: Binder Error: Referenced column "nope" not found',
      completed_chunks: [],
    });
    expect(first.job?.completed_at).not.toBeNull();

    // The lock is free: the next job starts, and with a working query completes.
    const working = runner(async (input) => {
      const request = input as { QueryString: string; ResultConfiguration: { OutputLocation: string } };
      const to = /TO 's3:\/\/[^/]+\/([^']+)'/.exec(request.QueryString)?.[1];
      await files.write(LOCAL_RESULTS_BUCKET, `${to}000000.gz`, gzipSync('{"a":1}\n'), 'application/gzip');
      return {
        QueryExecution: { ResultConfiguration: { OutputLocation: request.ResultConfiguration.OutputLocation } },
      };
    });
    const second = await startThroughApi(working, 'env-fail');
    expect(second.status).toBe(201);
    expect(second.job).toMatchObject({ status: 'completed', completed_chunks: ['2025-11-24', '2025-12-01'] });
    const third = await startThroughApi(working, 'env-fail');
    expect(third.status).toBe(201);
  });

  it('a week that does not finish in time ends the job failed, saying so, and frees the lock', async () => {
    const definition = eventsExportDefinition(trino);
    // The deployed limit is 30 minutes per query; the same state with a 1 s limit shows the path.
    const weeks = (definition.States as Record<string, any>)[S.weeks];
    weeks.ItemProcessor.States[S.query].TimeoutSeconds = 1;
    const hanging = runner(() => new Promise(() => undefined), definition);
    const first = await startThroughApi(hanging, 'env-timeout');
    expect(first.job?.status).toBe('failed');
    expect(first.job?.error).toMatch(/took longer than its time limit/);
    expect(await jobs.acquireExportLock('env-timeout', 'probe', new Date(Date.now() + 1000), new Date())).toBe(true);
  });

  it('a query over the workgroup’s scan limit says what to change', async () => {
    const overLimit = runner(async () => {
      const error = new Error(
        JSON.stringify({
          QueryExecution: {
            Status: {
              State: 'FAILED',
              StateChangeReason: 'Query exhausted resources: Bytes scanned limit was exceeded',
            },
          },
        }),
      );
      error.name = 'States.TaskFailed';
      throw error;
    });
    const first = await startThroughApi(overLimit, 'env-scan');
    expect(first.job?.error).toMatch(/scan more data than the workgroup allows/);
  });
});
