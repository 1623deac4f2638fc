/**
 * The local stack: `npm start`. One process runs dynalite (DynamoDB), s3rver (S3),
 * the durable event log with Parquet compaction (Firehose), DuckDB (Athena) and
 * the local API Gateway in front of the very Lambda handlers that deploy.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { DynamoDbAutomaticExportStore } from '../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import { DynamoDbCatalogStore } from '../lambdas/adapters/aws/dynamodb-catalog-store.ts';
import { DynamoDbCompanyExportJobs } from '../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import { DynamoDbEnvironmentStore } from '../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { DynamoDbEventsExportJobs } from '../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import { S3CustomerBuckets } from '../lambdas/adapters/aws/s3-customer-buckets.ts';
import { S3ObjectStore } from '../lambdas/adapters/aws/s3-object-store.ts';
import { ApiGatewayServer } from '../lambdas/adapters/local/api-gateway-server.ts';
import { duckDbAthenaTask } from '../lambdas/adapters/local/duckdb-athena-task.ts';
import { DuckDbLakeCompactor, DuckDbQueryEngine } from '../lambdas/adapters/local/duckdb-lake.ts';
import { DurableLogEventSink } from '../lambdas/adapters/local/durable-log-event-sink.ts';
import { FileAdminTokenSource } from '../lambdas/adapters/local/file-admin-token.ts';
import { FileKeySecretBox } from '../lambdas/adapters/local/file-key-secret-box.ts';
import { FileLakeInputsWriter } from '../lambdas/adapters/local/file-lake-inputs-writer.ts';
import { FolderObjectStore } from '../lambdas/adapters/local/folder-object-store.ts';
import { LocalExportScheduler } from '../lambdas/adapters/local/local-export-scheduler.ts';
import { LocalWorkflowRunner, lambdaTask } from '../lambdas/adapters/local/local-workflow-runner.ts';
import { OutboxMailer } from '../lambdas/adapters/local/outbox-mailer.ts';
import { oneQueryAtATime } from '../lambdas/adapters/local/serial-csv-query-runner.ts';
import { ensureStateTable } from '../lambdas/adapters/local/state-table.ts';
import { type DispatchReport, dispatchAutomaticExports } from '../lambdas/core/automatic-export-dispatch.ts';
import { ROUTES } from '../lambdas/core/contract.ts';
import { type CreatedEnvironment, newEnvironment } from '../lambdas/core/environments.ts';
import { eventsExportSql } from '../lambdas/core/events-export/sql.ts';
import { companyRollupSql } from '../lambdas/core/rollup/index.ts';
import {
  COMPANY_EXPORT_STATES,
  type CompanyExportSubstitutions,
  companyExportDefinition,
  substitute,
} from '../lambdas/core/workflows/company-export.ts';
import {
  EVENTS_EXPORT_STATES,
  type EventsExportSubstitutions,
  eventsExportDefinition,
} from '../lambdas/core/workflows/events-export.ts';
import { makeHandler as makeAdminHandler } from '../lambdas/handlers/admin.ts';
import { makeHandler as makeAutomaticExportsHandler } from '../lambdas/handlers/automatic-exports.ts';
import { makeHandler as makeCatalogHandler } from '../lambdas/handlers/catalog.ts';
import { makeHandler as makeCompanyExportsHandler } from '../lambdas/handlers/company-exports.ts';
import { makeHandler as makeEventsExportStepsHandler } from '../lambdas/handlers/events-export-steps.ts';
import { makeHandler as makeEventsExportsHandler } from '../lambdas/handlers/events-exports.ts';
import { makeHandler as makeExportStepsHandler } from '../lambdas/handlers/export-steps.ts';
import { makeHandler as makeHealthHandler } from '../lambdas/handlers/health.ts';
import { makeHandler as makeTrackingHandler } from '../lambdas/handlers/tracking.ts';
import { type Clock, systemClock } from '../lambdas/ports/clock.ts';
import type { WorkflowStarter } from '../lambdas/ports/workflow-starter.ts';

export const LOCAL_STATE_TABLE = 'featurelake-state';
export const LOCAL_EXPORTS_BUCKET = 'featurelake-exports';
/** Where the local Athena stand-in writes query results, as Athena writes to the workgroup's bucket. */
export const LOCAL_RESULTS_BUCKET = 'featurelake-query-results';
/** What the workflow documents' `${…}` placeholders become locally (the Lambda ARN is never called: every Task runs in process). */
const LOCAL_SUBSTITUTIONS: CompanyExportSubstitutions = {
  ExportStepsFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:featurelake-local-export-steps',
  GlueDatabase: 'featurelake',
  AthenaWorkGroup: 'featurelake',
  ResultsBucket: LOCAL_RESULTS_BUCKET,
};
/** dynalite and s3rver check nothing but that credentials are present. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const LOCAL_REGION = 'us-east-1';

export interface LocalStackOptions {
  /** Where every byte of state lives. @default $FEATURELAKE_HOME or .featurelake */
  readonly home?: string;
  /** @default $PORT or 3000; 0 picks a free port */
  readonly port?: number;
  readonly host?: string;
  readonly clock?: Clock;
  /** How often the local export schedule looks at the clock. @default 30 s */
  readonly schedulerPollMs?: number;
  /**
   * DuckDB's memory limit for queries and exports; past it they spill to
   * `$FEATURELAKE_HOME/tmp/spill` (a 6-month export of 10M events peaks near 1.4 GB
   * of RSS with 1GB, and near 9 GB without a limit). @default $FEATURELAKE_QUERY_MEMORY or 1GB
   */
  readonly queryMemoryLimit?: string;
  /** Admin SQL's time limit: past it the query is interrupted and the answer is a 400. @default 25 s */
  readonly sqlTimeoutMs?: number;
}

export interface DemoEnvironment {
  environment_id: string;
  name: string;
  plan: string;
  app_token: string;
  tracking_key: string;
}

export interface LocalStack {
  readonly url: string;
  readonly home: string;
  readonly adminToken: string;
  readonly demo: DemoEnvironment;
  /** Set only on the start that created the demo environment: its API key is shown once. */
  readonly demoApiKey: string | undefined;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  /** Resolves once no workflow execution is running (tests). */
  workflowsIdle(): Promise<void>;
  /** Fires the automatic-export schedule now if a midnight (by the stack's clock) has passed since its last fire. */
  runScheduler(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const home = resolve(options.home ?? process.env.FEATURELAKE_HOME ?? '.featurelake');
  await mkdir(home, { recursive: true });
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const adminToken = await FileAdminTokenSource.open(join(home, 'admin-token'));

    const dynamo = dynalite({ path: join(home, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const dynamoEndpoint = await listen(dynamo);
    closers.push(() => new Promise<void>((done) => dynamo.close(() => done())));
    const dynamoClient = new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    closers.push(() => dynamoClient.destroy());
    await ensureStateTable(dynamoClient, LOCAL_STATE_TABLE);
    const environments = new DynamoDbEnvironmentStore({
      client: DynamoDBDocumentClient.from(dynamoClient),
      tableName: LOCAL_STATE_TABLE,
    });

    await mkdir(join(home, 's3'), { recursive: true });
    const s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: join(home, 's3'),
      configureBuckets: [
        { name: LOCAL_EXPORTS_BUCKET, configs: [] },
        { name: LOCAL_RESULTS_BUCKET, configs: [] },
      ],
    });
    const s3Address = await s3.run();
    closers.push(() => s3.close());
    const s3Endpoint = `http://${s3Address.address}:${s3Address.port}`;
    const s3Client = new S3Client({
      endpoint: s3Endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
      // s3rver stores the SDK's streaming checksum framing inside the object otherwise.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    closers.push(() => s3Client.destroy());
    const files = new S3ObjectStore({ client: s3Client });
    // Query results stay on disk rather than pass through the in-process s3rver (see FolderObjectStore).
    const results = new FolderObjectStore({ root: join(home, 'query-results'), removeAfterRead: true });

    const lakeDir = join(home, 'lake');
    const compactor = await DuckDbLakeCompactor.open(lakeDir);
    closers.push(() => compactor.close());
    const sink = await DurableLogEventSink.open({
      logDir: join(home, 'log'),
      compact: compactor.compact,
      onError: (error) => console.error('event log compaction failed (will retry):', error),
    });
    closers.push(() => sink.close());
    const scratchDir = join(home, 'tmp', 'query-results');
    const queryEngine = await DuckDbQueryEngine.open({
      lakeDir,
      beforeQuery: () => sink.flushToLake(),
      csvOutputDir: scratchDir,
      memoryLimit: options.queryMemoryLimit ?? process.env.FEATURELAKE_QUERY_MEMORY ?? '1GB',
      spillDir: join(home, 'tmp', 'spill'),
      readTimeoutMs: options.sqlTimeoutMs,
    });
    closers.push(() => queryEngine.close());

    const documents = DynamoDBDocumentClient.from(dynamoClient);
    const catalog = new DynamoDbCatalogStore({ client: documents, tableName: LOCAL_STATE_TABLE });
    const companyJobs = new DynamoDbCompanyExportJobs({ client: documents, tableName: LOCAL_STATE_TABLE });
    const automaticExports = new DynamoDbAutomaticExportStore({ client: documents, tableName: LOCAL_STATE_TABLE });
    // Stands in for KMS: bucket secrets are sealed with a key that lives only in this file.
    const secretBox = await FileKeySecretBox.open(join(home, 'secret-box.key'));
    const customerBuckets = new S3CustomerBuckets();
    const exportSteps = makeExportStepsHandler({
      catalog,
      inputs: new FileLakeInputsWriter({ lakeDir }),
      jobs: companyJobs,
      files,
      results,
      exportsBucket: LOCAL_EXPORTS_BUCKET,
      clock: options.clock,
      delivery: { settings: automaticExports, secrets: secretBox, buckets: customerBuckets },
    });
    const invokeExportSteps = lambdaTask('export-steps', exportSteps);
    const eventsExport = localEventsExport({
      home,
      lakeDir,
      documents,
      catalog,
      environments,
      files,
      results,
      queryEngine,
      scratchDir,
      clock: options.clock,
    });
    const trinoRollup = companyRollupSql('trino');
    const workflows = new LocalWorkflowRunner(
      {
        'company-export': {
          definition: substitute(companyExportDefinition(trinoRollup), LOCAL_SUBSTITUTIONS),
          tasks: {
            [COMPANY_EXPORT_STATES.prepare]: invokeExportSteps,
            [COMPANY_EXPORT_STATES.query]: duckDbAthenaTask({
              engine: queryEngine,
              files: results,
              dialects: new Map([[trinoRollup, companyRollupSql('duckdb')]]),
              scratchDir,
            }),
            [COMPANY_EXPORT_STATES.publish]: invokeExportSteps,
            [COMPANY_EXPORT_STATES.fail]: invokeExportSteps,
            [COMPANY_EXPORT_STATES.deliver]: invokeExportSteps,
          },
        },
        'events-export': eventsExport.workflow,
      },
      (workflow, name, error) =>
        console.error(`workflow ${workflow} ${name} ended in error:`, (error as Error).message),
    );
    closers.push(() => workflows.idle());

    const dispatch = (at: Date): Promise<DispatchReport> =>
      dispatchAutomaticExports(
        { settings: automaticExports, environments, jobs: companyJobs, workflows, clock: options.clock ?? systemClock },
        at,
      );
    // The daily EventBridge schedule's stand-in: fires the same dispatcher at 00:00 UTC.
    const scheduler = new LocalExportScheduler({
      clock: options.clock ?? systemClock,
      stateFile: join(home, 'scheduler.json'),
      pollMs: options.schedulerPollMs,
      fire: async (at) => {
        const report = await dispatch(at);
        if (report.started.length + report.failed.length > 0) {
          console.log(
            `automatic exports for ${report.snapshot_date}: ${report.started.length} started, ${report.failed.length} failed`,
          );
        }
      },
      onError: (error) => console.error('automatic export schedule:', (error as Error).message),
    });

    const { demo, apiKey } = await ensureDemoEnvironment(home, environments, options.clock);

    const api = new ApiGatewayServer(ROUTES, {
      health: makeHealthHandler(),
      'events-exports': eventsExport.api(workflows),
      tracking: makeTrackingHandler({ sink, environments, clock: options.clock }),
      admin: makeAdminHandler({ environments, queryEngine, adminToken, clock: options.clock, dispatch }),
      catalog: makeCatalogHandler({ environments, catalog, clock: options.clock }),
      'company-exports': makeCompanyExportsHandler({
        environments,
        jobs: companyJobs,
        workflows,
        files,
        exportsBucket: LOCAL_EXPORTS_BUCKET,
        clock: options.clock,
      }),
      'automatic-exports': makeAutomaticExportsHandler({
        environments,
        settings: automaticExports,
        secrets: secretBox,
        buckets: customerBuckets,
        clock: options.clock,
        // The local schedule fires at 00:00 itself (it flushes the event log before querying).
        scheduleOffsetMinutes: 0,
      }),
    });
    const port = options.port ?? Number(process.env.PORT ?? 3000);
    const url = await api.listen(port, options.host ?? '127.0.0.1');
    closers.push(() => api.close());
    eventsExport.setApiUrl(url);
    await scheduler.start();
    closers.push(() => scheduler.close());

    return {
      url,
      home,
      adminToken: await adminToken.token(),
      demo,
      demoApiKey: apiKey,
      dynamoEndpoint,
      s3Endpoint,
      workflowsIdle: () => workflows.idle(),
      runScheduler: () => scheduler.runDue(),
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/**
 * The `demo` environment, made on first start. Its public parts are kept in
 * `demo-environment.json`; its API key exists only as a hash, so it is printed once.
 */
async function ensureDemoEnvironment(
  home: string,
  environments: DynamoDbEnvironmentStore,
  clock: Clock | undefined,
): Promise<{ demo: DemoEnvironment; apiKey: string | undefined }> {
  const file = join(home, 'demo-environment.json');
  try {
    const demo = JSON.parse(await readFile(file, 'utf8')) as DemoEnvironment;
    if (await environments.get(demo.environment_id)) return { demo, apiKey: undefined };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { stored, created } = newEnvironment({ name: 'demo', plan: 'enterprise' }, clock?.now() ?? new Date());
  await environments.create(stored);
  const { api_key, ...demo } = created satisfies CreatedEnvironment;
  await writeFile(file, `${JSON.stringify(demo, null, 2)}\n`);
  return { demo, apiKey: api_key };
}

/**
 * The bulk raw-event export (seed 002) in the local stack: the events-export-steps
 * Lambda, its state machine (the deployed ASL document, the DuckDB stand-in for
 * the Athena task) and the API handler, over the stack's dynalite, s3rver and DuckDB.
 * Emails land as `.eml` files in `$FEATURELAKE_HOME/outbox/`.
 */
function localEventsExport(parts: {
  readonly home: string;
  readonly lakeDir: string;
  readonly documents: DynamoDBDocumentClient;
  readonly catalog: DynamoDbCatalogStore;
  readonly environments: DynamoDbEnvironmentStore;
  readonly files: S3ObjectStore;
  readonly results: FolderObjectStore;
  readonly queryEngine: DuckDbQueryEngine;
  readonly scratchDir: string;
  readonly clock: Clock | undefined;
}) {
  const jobs = new DynamoDbEventsExportJobs({ client: parts.documents, tableName: LOCAL_STATE_TABLE });
  const { results } = parts;
  let apiUrl = 'http://127.0.0.1';
  const steps = makeEventsExportStepsHandler({
    jobs,
    catalog: parts.catalog,
    inputs: new FileLakeInputsWriter({ lakeDir: parts.lakeDir }),
    results,
    files: parts.files,
    mailer: new OutboxMailer({
      dir: join(parts.home, 'outbox'),
      from: 'featurelake <exports@featurelake.local>',
      clock: parts.clock,
    }),
    exportsBucket: LOCAL_EXPORTS_BUCKET,
    apiBaseUrl: () => apiUrl,
    clock: parts.clock,
  });
  const invokeSteps = lambdaTask('events-export-steps', steps);
  const trino = eventsExportSql('trino');
  const substitutions: EventsExportSubstitutions = {
    EventsExportStepsFunctionArn:
      'arn:aws:lambda:us-east-1:000000000000:function:featurelake-local-events-export-steps',
    GlueDatabase: LOCAL_SUBSTITUTIONS.GlueDatabase,
    AthenaWorkGroup: LOCAL_SUBSTITUTIONS.AthenaWorkGroup,
    ResultsBucket: LOCAL_RESULTS_BUCKET,
  };
  return {
    workflow: {
      definition: substitute(eventsExportDefinition(trino), substitutions),
      tasks: {
        [EVENTS_EXPORT_STATES.plan]: invokeSteps,
        [EVENTS_EXPORT_STATES.query]: duckDbAthenaTask({
          engine: oneQueryAtATime(parts.queryEngine),
          files: results,
          dialects: new Map([[trino, eventsExportSql('duckdb')]]),
          scratchDir: parts.scratchDir,
        }),
        [EVENTS_EXPORT_STATES.write]: invokeSteps,
        [EVENTS_EXPORT_STATES.complete]: invokeSteps,
        [EVENTS_EXPORT_STATES.fail]: invokeSteps,
      },
    },
    api: (workflows: WorkflowStarter) =>
      makeEventsExportsHandler({
        environments: parts.environments,
        jobs,
        catalog: parts.catalog,
        workflows,
        files: parts.files,
        exportsBucket: LOCAL_EXPORTS_BUCKET,
        clock: parts.clock,
      }),
    setApiUrl: (url: string) => {
      apiUrl = url;
    },
  };
}

async function main(): Promise<void> {
  const stack = await startLocalStack();
  const lines = [
    `featurelake local stack on ${stack.url}  (state in ${stack.home})`,
    `  admin token:   ${join(stack.home, 'admin-token')}`,
    `  demo environment ${stack.demo.environment_id} (${stack.demo.plan}), app token ${stack.demo.app_token}`,
    `  tracking key:  ${stack.demo.tracking_key}`,
    stack.demoApiKey
      ? `  api key:       ${stack.demoApiKey}   (shown once: only its hash is stored)`
      : '  api key:       shown on the first start only; make another with `npx featurelake env create`',
    `  try:  curl -s -X POST ${stack.url}/${stack.demo.tracking_key}/event -H 'Content-Type: application/json' -d '{"event":"Sent message","userId":"u1","companyId":"c1"}'`,
  ];
  console.log(lines.join('\n'));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (compacting the event log first)`);
    stack.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error('featurelake: the local stack could not start:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
