/**
 * The local stack: `npm start`. One process runs dynalite (DynamoDB), s3rver (S3),
 * the durable event log with Parquet compaction (Firehose), DuckDB (Athena) and
 * the local API Gateway in front of the very Lambda handlers that deploy. This file
 * composes: settings in `local/config.ts`, adapters in `local/deps.ts`, workflows in
 * `local/workflows.ts`, the demo environment in `local/demo-environment.ts`.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApiGatewayServer } from '../lambdas/adapters/local/api-gateway-server.ts';
import { FileLakeInputsWriter } from '../lambdas/adapters/local/file-lake-inputs-writer.ts';
import { LocalExportScheduler } from '../lambdas/adapters/local/local-export-scheduler.ts';
import { ROUTES } from '../lambdas/contract/routes.ts';
import { type DispatchReport, dispatchAutomaticExports } from '../lambdas/core/automatic-export/dispatch.ts';
import { settleExportsCutByRestart } from '../lambdas/core/shared/export-settlement.ts';
import { makeHandler as makeAdminHandler } from '../lambdas/handlers/admin.ts';
import { makeHandler as makeAutomaticExportsHandler } from '../lambdas/handlers/automatic-exports.ts';
import { makeHandler as makeCatalogHandler } from '../lambdas/handlers/catalog.ts';
import { makeHandler as makeCompanyExportsHandler } from '../lambdas/handlers/company-exports.ts';
import { makeHandler as makeEventsExportsHandler } from '../lambdas/handlers/events-exports.ts';
import { makeHandler as makeHealthHandler } from '../lambdas/handlers/health.ts';
import { makeHandler as makeLakeInsightsHandler } from '../lambdas/handlers/lake-insights.ts';
import { makeHandler as makeOpenApiHandler } from '../lambdas/handlers/openapi.ts';
import { makeHandler as makeTrackingHandler } from '../lambdas/handlers/tracking.ts';
import { LOCAL_EXPORTS_BUCKET, type LocalStackOptions, localConfig } from './local/config.ts';
import { consoleSite } from './local/console-site.ts';
import { type DemoEnvironment, ensureDemoEnvironment } from './local/demo-environment.ts';
import { openLocalDeps } from './local/deps.ts';
import { localWorkflows } from './local/workflows.ts';

export {
  LOCAL_EXPORTS_BUCKET,
  LOCAL_RESULTS_BUCKET,
  LOCAL_STATE_TABLE,
  type LocalStackOptions,
} from './local/config.ts';

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

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const config = localConfig(options);
  const { home, clock } = config;
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  let apiUrl: string | undefined;
  try {
    const deps = await openLocalDeps(config, { apiUrl: () => apiUrl, closeLater: (closer) => closers.push(closer) });
    const { environments, catalog, companyJobs, eventsJobs, automaticExports, files, secretBox, customerBuckets } =
      deps;
    // The API's URL is known once it listens; links are made only by requests and workflows that come after.
    const links = { linkKey: deps.downloadLinkKey, apiBaseUrl: () => apiUrl ?? 'http://127.0.0.1' };
    const workflows = localWorkflows({ ...deps, ...links, home, clock, rollupFromFacts: config.rollupFromFacts });
    closers.push(() => workflows.idle());
    // Nothing the last process ran runs any more: its exports end as failed, saying to
    // start them again, and free their locks, before the API answers anyone.
    const interrupted = await settleExportsCutByRestart({
      company: { jobs: companyJobs, workflows, settings: automaticExports, clock },
      events: { jobs: eventsJobs, workflows, clock },
    });
    if (interrupted > 0) {
      console.log(`${interrupted} export(s) cut by the last stop were marked failed (start them again)`);
    }

    const dispatch = (at: Date): Promise<DispatchReport> =>
      dispatchAutomaticExports({ settings: automaticExports, environments, jobs: companyJobs, workflows, clock }, at);
    // The daily EventBridge schedule's stand-in: fires the same dispatcher at 00:00 UTC.
    const scheduler = new LocalExportScheduler({
      clock,
      stateFile: join(home, 'scheduler.json'),
      pollMs: config.schedulerPollMs,
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

    const { demo, apiKey } = await ensureDemoEnvironment(home, environments, clock);

    // The same makeHandler(deps) as on AWS, over the local adapters.
    const api = new ApiGatewayServer(ROUTES, {
      health: makeHealthHandler(),
      openapi: makeOpenApiHandler(),
      'events-exports': makeEventsExportsHandler({
        adminToken: deps.adminToken,
        environments,
        jobs: eventsJobs,
        catalog,
        workflows,
        files,
        exportsBucket: LOCAL_EXPORTS_BUCKET,
        ...links,
        clock,
      }),
      tracking: makeTrackingHandler({ sink: deps.sink, environments, clock }),
      admin: makeAdminHandler({
        environments,
        queryEngine: deps.queryEngine,
        adminToken: deps.adminToken,
        clock,
        dispatch,
        facts: workflows,
      }),
      catalog: makeCatalogHandler({ environments, adminToken: deps.adminToken, catalog, clock }),
      'lake-insights': makeLakeInsightsHandler({
        environments,
        adminToken: deps.adminToken,
        queryEngine: deps.queryEngine,
        dialect: 'duckdb',
        catalog,
        inputs: new FileLakeInputsWriter({ lakeDir: deps.lakeDir }),
        // FEATURELAKE_ROLLUP_FROM_FACTS=0: the funnel, as the exports, recomputes from raw events.
        ...(config.rollupFromFacts ? { factsManifest: deps.factsManifest } : {}),
        clock,
      }),
      'company-exports': makeCompanyExportsHandler({
        adminToken: deps.adminToken,
        environments,
        jobs: companyJobs,
        settings: automaticExports,
        workflows,
        files,
        exportsBucket: LOCAL_EXPORTS_BUCKET,
        ...links,
        clock,
      }),
      'automatic-exports': makeAutomaticExportsHandler({
        adminToken: deps.adminToken,
        environments,
        settings: automaticExports,
        secrets: secretBox,
        buckets: customerBuckets,
        clock,
        // The local schedule fires at 00:00 itself (it flushes the event log before querying).
        scheduleOffsetMinutes: 0,
      }),
    });
    if (options.observeExchanges) api.observeExchanges(options.observeExchanges);
    // The web console at /console/ (and / redirecting there), built now from console/src.
    api.serveBefore(await consoleSite(join(home, 'console')));
    const url = await api.listen(config.port, config.host);
    apiUrl = url;
    closers.push(() => api.close());
    await scheduler.start();
    closers.push(() => scheduler.close());

    return {
      url,
      home,
      adminToken: await deps.adminToken.value(),
      demo,
      demoApiKey: apiKey,
      s3Endpoint: deps.s3Endpoint,
      storagePorts: deps.storagePorts,
      s3Client: deps.newS3Client,
      dynamoClient: deps.newDynamoClient,
      workflowsIdle: () => workflows.idle(),
      runScheduler: () => scheduler.runDue(),
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

async function main(): Promise<void> {
  const stack = await startLocalStack();
  const lines = [
    `featurelake local stack on ${stack.url}  (state in ${stack.home})`,
    `  console:       ${stack.url}/console/  (sign in with the demo API key below, or the admin token)`,
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
