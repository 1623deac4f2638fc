/**
 * The local stack: `npm start`. One process runs dynalite (DynamoDB), s3rver (S3),
 * the durable event log with Parquet compaction (Firehose), DuckDB (Athena) and
 * the local API Gateway in front of the very Lambda handlers that deploy.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import {
  type OwnEndpoint,
  type PrivateEndpoints,
  privateEndpointsSetting,
} from '../lambdas/adapters/aws/customer-endpoint-http.ts';
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
import {
  type LocalStorageCredentials,
  openLocalStorageCredentials,
} from '../lambdas/adapters/local/file-storage-credentials.ts';
import { FolderObjectStore } from '../lambdas/adapters/local/folder-object-store.ts';
import { LocalExportScheduler } from '../lambdas/adapters/local/local-export-scheduler.ts';
import { LocalWorkflowRunner, lambdaTask } from '../lambdas/adapters/local/local-workflow-runner.ts';
import { OutboxMailer } from '../lambdas/adapters/local/outbox-mailer.ts';
import { oneQueryAtATime } from '../lambdas/adapters/local/serial-csv-query-runner.ts';
import { SigV4S3Gateway } from '../lambdas/adapters/local/sigv4-s3-gateway.ts';
import { ensureStateTable } from '../lambdas/adapters/local/state-table.ts';
import { unixSocketAgent } from '../lambdas/adapters/local/unix-socket-agent.ts';
import { ROUTES } from '../lambdas/contract/routes.ts';
import { type DispatchReport, dispatchAutomaticExports } from '../lambdas/core/automatic-export/dispatch.ts';
import { companyRollupSql } from '../lambdas/core/company-export/rollup/index.ts';
import {
  COMPANY_EXPORT_STATES,
  type CompanyExportSubstitutions,
  companyExportDefinition,
  substitute,
} from '../lambdas/core/company-export/workflow.ts';
import { type CreatedEnvironment, newEnvironment } from '../lambdas/core/environments/environments.ts';
import { eventsExportSql } from '../lambdas/core/events-export/sql.ts';
import {
  EVENTS_EXPORT_STATES,
  type EventsExportSubstitutions,
  eventsExportDefinition,
} from '../lambdas/core/events-export/workflow.ts';
import { systemClock } from '../lambdas/core/shared/clock.ts';
import { settleExportsCutByRestart } from '../lambdas/core/shared/export-settlement.ts';
import { makeHandler as makeAdminHandler } from '../lambdas/handlers/admin.ts';
import { makeHandler as makeAutomaticExportsHandler } from '../lambdas/handlers/automatic-exports.ts';
import { makeHandler as makeCatalogHandler } from '../lambdas/handlers/catalog.ts';
import { makeHandler as makeExportStepsHandler } from '../lambdas/handlers/company-export-steps.ts';
import { makeHandler as makeCompanyExportsHandler } from '../lambdas/handlers/company-exports.ts';
import { makeHandler as makeEventsExportStepsHandler } from '../lambdas/handlers/events-export-steps.ts';
import { makeHandler as makeEventsExportsHandler } from '../lambdas/handlers/events-exports.ts';
import { makeHandler as makeHealthHandler } from '../lambdas/handlers/health.ts';
import { makeHandler as makeTrackingHandler } from '../lambdas/handlers/tracking.ts';
import type { Clock } from '../lambdas/ports/clock.ts';
import type { WorkflowMonitor, WorkflowStarter } from '../lambdas/ports/workflow-starter.ts';

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
const LOCAL_REGION = 'us-east-1';
/**
 * The host in the DynamoDB client's endpoint: never resolved (its agent connects to
 * dynalite's Unix socket), and `.invalid` so that a client built without that agent
 * fails at once instead of reaching something else.
 */
const LOCAL_DYNAMODB_ENDPOINT = 'http://dynamodb.featurelake.invalid';

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
  /**
   * Whether automatic exports may go to loopback and private-network endpoints (a
   * developer's local S3 server). The stack's own listeners are refused either way.
   * @default $FEATURELAKE_PRIVATE_ENDPOINTS or allow
   */
  readonly privateEndpoints?: PrivateEndpoints;
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
  /**
   * The stack's S3 as clients and download links reach it: the signature-checking
   * gateway in front of s3rver (which listens only on a private Unix socket).
   */
  readonly s3Endpoint: string;
  /**
   * The TCP ports on which this process serves its own storage (today only the S3
   * gateway's; dynalite and s3rver listen on Unix sockets). A customer's delivery
   * endpoint must never be one of these.
   */
  readonly storagePorts: readonly number[];
  /** A client of the stack's own S3 (through the gateway, with the home's credentials). Destroy it after use. */
  s3Client(): S3Client;
  /** A client of the stack's own DynamoDB (dynalite, over its Unix socket). Destroy it after use. */
  dynamoClient(): DynamoDBClient;
  /** Resolves once no workflow execution is running (tests). */
  workflowsIdle(): Promise<void>;
  /** Fires the automatic-export schedule now if a midnight (by the stack's clock) has passed since its last fire. */
  runScheduler(): Promise<void>;
  close(): Promise<void>;
}

function hostAndPort(url: string): { host: string; port: number } {
  const { hostname, port, protocol } = new URL(url);
  return { host: hostname, port: Number(port || (protocol === 'https:' ? 443 : 80)) };
}

/** How the stack's own storage is reached: dynalite's socket, the S3 gateway, the home's credentials. */
interface LocalStorage {
  readonly credentials: LocalStorageCredentials;
  readonly dynamoSocket: string;
  readonly s3Endpoint: string;
}

function localDynamoClient(storage: LocalStorage): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: LOCAL_DYNAMODB_ENDPOINT,
    region: LOCAL_REGION,
    credentials: storage.credentials,
    requestHandler: new NodeHttpHandler({ httpAgent: unixSocketAgent(storage.dynamoSocket) }),
  });
}

function localS3Client(storage: LocalStorage): S3Client {
  return new S3Client({
    endpoint: storage.s3Endpoint,
    region: LOCAL_REGION,
    credentials: storage.credentials,
    forcePathStyle: true,
    // s3rver stores the SDK's streaming checksum framing inside the object otherwise.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function listenOnSocket(
  server: {
    listen(path: string, done: () => void): unknown;
    once(event: 'error', listener: (error: Error) => void): unknown;
  },
  path: string,
): Promise<void> {
  return new Promise((done, reject) => {
    server.once('error', reject);
    server.listen(path, done);
  });
}

/**
 * A fresh 0700 folder for the storage sockets. Its path is noted in the home, so
 * that the start after a `kill -9` removes the folder the killed stack left behind.
 */
async function privateSocketFolder(home: string): Promise<string> {
  const note = join(home, 'sockets-folder');
  const prefix = join(tmpdir(), 'featurelake-sockets-');
  const left = (await readFile(note, 'utf8').catch(() => '')).trim();
  // Only ever a folder this function made (mkdtemp's suffix), never another path.
  if (left.startsWith(prefix) && /^[A-Za-z0-9]{6}$/.test(left.slice(prefix.length))) {
    await rm(left, { recursive: true, force: true });
  }
  const folder = await mkdtemp(prefix);
  await writeFile(note, `${folder}\n`, { mode: 0o600 });
  return folder;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const home = resolve(options.home ?? process.env.FEATURELAKE_HOME ?? '.featurelake');
  const privateEndpoints =
    options.privateEndpoints ?? privateEndpointsSetting(process.env.FEATURELAKE_PRIVATE_ENDPOINTS);
  await mkdir(home, { recursive: true });
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const adminToken = await FileAdminTokenSource.open(join(home, 'admin-token'));
    const credentials = await openLocalStorageCredentials(join(home, 'local-storage-credentials.json'));
    // dynalite and s3rver listen on Unix sockets in a folder only this user can enter
    // (mkdtemp makes it 0700), never on a TCP port another process could reach. Under
    // the system's temp folder: a socket path must stay under ~107 bytes.
    const sockets = await privateSocketFolder(home);
    closers.push(() => rm(sockets, { recursive: true, force: true }));

    const dynamo = dynalite({ path: join(home, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const dynamoSocket = join(sockets, 'dynamodb.sock');
    await listenOnSocket(dynamo, dynamoSocket);
    closers.push(() => new Promise<void>((done) => dynamo.close(() => done())));

    await mkdir(join(home, 's3'), { recursive: true });
    const s3Socket = join(sockets, 's3.sock');
    const s3 = new S3rver({
      // A pipe path in place of a port: s3rver passes it to server.listen as it is.
      port: s3Socket as unknown as number,
      silent: true,
      directory: join(home, 's3'),
      configureBuckets: [
        { name: LOCAL_EXPORTS_BUCKET, configs: [] },
        { name: LOCAL_RESULTS_BUCKET, configs: [] },
      ],
    });
    await s3.run();
    closers.push(() => s3.close());
    // s3rver checks no signature: every S3 request passes the gateway's check first.
    const gateway = new SigV4S3Gateway({ credentials, region: LOCAL_REGION, upstreamSocket: s3Socket });
    const s3Endpoint = await gateway.listen(0, '127.0.0.1');
    closers.push(() => gateway.close());
    /** The stack's own storage on TCP: never a customer's delivery endpoint. */
    const storagePorts: readonly number[] = [gateway.port];
    const storage: LocalStorage = { credentials, dynamoSocket, s3Endpoint };

    const dynamoClient = localDynamoClient(storage);
    closers.push(() => dynamoClient.destroy());
    await ensureStateTable(dynamoClient, LOCAL_STATE_TABLE);
    const environments = new DynamoDbEnvironmentStore({
      client: DynamoDBDocumentClient.from(dynamoClient),
      tableName: LOCAL_STATE_TABLE,
    });
    const s3Client = localS3Client(storage);
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
    // The stack's own TCP listeners, never a customer's automatic-export endpoint (a listener on a
    // local address is refused on every local address with its port). dynalite and s3rver sit on
    // Unix sockets, so the S3 gateway and the API are all there is; the API's port is known after listen.
    let apiUrl: string | undefined;
    const ownEndpoints = (): OwnEndpoint[] => [
      ...storagePorts.map((port) => ({ host: '127.0.0.1', port, name: 'storage' })),
      ...(apiUrl ? [{ ...hostAndPort(apiUrl), name: 'API' }] : []),
    ];
    const customerBuckets = new S3CustomerBuckets({ addresses: { privateAddresses: privateEndpoints, ownEndpoints } });
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
      options.clock,
    );
    closers.push(() => workflows.idle());
    // Nothing the last process ran runs any more: its exports end as failed, saying to
    // start them again, and free their locks, before the API answers anyone.
    const clock = options.clock ?? systemClock;
    const interrupted = await settleExportsCutByRestart({
      company: { jobs: companyJobs, workflows, settings: automaticExports, clock },
      events: { jobs: eventsExport.jobs, workflows, clock },
    });
    if (interrupted > 0) {
      console.log(`${interrupted} export(s) cut by the last stop were marked failed (start them again)`);
    }

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
        settings: automaticExports,
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
    apiUrl = url;
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
      s3Endpoint,
      storagePorts,
      s3Client: () => localS3Client(storage),
      dynamoClient: () => localDynamoClient(storage),
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
    jobs,
    api: (workflows: WorkflowStarter & WorkflowMonitor) =>
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
