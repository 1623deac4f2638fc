/**
 * The local stack's workflows: the specs the CDK app deploys (exportWorkflowSpecs),
 * their documents run in process by LocalWorkflowRunner, their steps Tasks calling
 * the same step handlers as on AWS and their Athena Tasks the DuckDB stand-in with
 * each query's DuckDB text from the spec. Export emails land as `.eml` files in
 * `$FEATURELAKE_HOME/outbox/`.
 */
import { join } from 'node:path';
import type { DynamoDbAutomaticExportStore } from '../../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import type { DynamoDbCatalogStore } from '../../lambdas/adapters/aws/dynamodb-catalog-store.ts';
import type { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import type { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import type { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import type { S3CustomerBuckets } from '../../lambdas/adapters/aws/s3-customer-buckets.ts';
import type { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import {
  type CsvQueryRunner,
  duckDbAthenaTask,
  type TextFileUnloader,
} from '../../lambdas/adapters/local/duckdb-athena-task.ts';
import type { DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { factsBuildTask } from '../../lambdas/adapters/local/facts-build-task.ts';
import type { FileKeySecretBox } from '../../lambdas/adapters/local/file-key-secret-box.ts';
import { FileLakeInputsWriter } from '../../lambdas/adapters/local/file-lake-inputs-writer.ts';
import type { FolderObjectStore } from '../../lambdas/adapters/local/folder-object-store.ts';
import {
  type LocalTaskHandler,
  LocalWorkflowRunner,
  lambdaTask,
  localWorkflow,
} from '../../lambdas/adapters/local/local-workflow-runner.ts';
import { OutboxMailer } from '../../lambdas/adapters/local/outbox-mailer.ts';
import { oneQueryAtATime } from '../../lambdas/adapters/local/serial-csv-query-runner.ts';
import type { LambdaName } from '../../lambdas/contract/lambdas.ts';
import type { ExportWorkflowSpec } from '../../lambdas/contract/workflow-spec.ts';
import { makeHandler as makeExportStepsHandler } from '../../lambdas/handlers/company-export-steps.ts';
import { makeHandler as makeEventsExportStepsHandler } from '../../lambdas/handlers/events-export-steps.ts';
import { makeHandler as makeFactsStepsHandler } from '../../lambdas/handlers/facts-steps.ts';
import type { Clock } from '../../lambdas/ports/clock.ts';
import type { FactsBuildFiles, FactsBuildWriter, FactsManifestStore } from '../../lambdas/ports/company-facts.ts';
import type { SecretSource } from '../../lambdas/ports/secret-source.ts';
import type { WorkflowMonitor, WorkflowName } from '../../lambdas/ports/workflow-starter.ts';
import { exportWorkflowSpecs } from '../../lambdas/workflows/specs.ts';
import { LOCAL_EXPORTS_BUCKET, LOCAL_RESULTS_BUCKET } from './config.ts';

/** The lake bucket's name in the facts UNLOAD's destination, locally (the lake is a folder). */
const LOCAL_LAKE_BUCKET = 'featurelake-lake';

/**
 * About how large the local UNLOAD's gzip files grow (DuckDB's FILE_SIZE_BYTES counts
 * before compression): a week of the benchmark's lake gives files either side of S3's
 * 5 MiB part minimum, so both ways of assembling run locally.
 */
const LOCAL_UNLOAD_FILE_BYTES = 48 * 1024 * 1024;

/**
 * Wait states pause this long locally instead of their Seconds: an automatic export
 * polls its fire's facts build every 30 s on AWS, where each poll is a billed state
 * transition; locally the build of a small lake ends within a second or two.
 */
const LOCAL_WAIT_MS = { WaitForDailyFacts: 250 };

/** The stack's adapters the workflows' steps and queries run over. */
export interface LocalWorkflowParts {
  readonly home: string;
  readonly lakeDir: string;
  readonly catalog: DynamoDbCatalogStore;
  readonly environments: DynamoDbEnvironmentStore;
  readonly companyJobs: DynamoDbCompanyExportJobs;
  readonly eventsJobs: DynamoDbEventsExportJobs;
  readonly automaticExports: DynamoDbAutomaticExportStore;
  readonly secretBox: FileKeySecretBox;
  readonly customerBuckets: S3CustomerBuckets;
  readonly files: S3ObjectStore;
  readonly results: FolderObjectStore;
  readonly queryEngine: DuckDbQueryEngine;
  readonly scratchDir: string;
  readonly clock: Clock | undefined;
  /** The API's base URL for the links in export emails (known once the API listens). */
  readonly apiBaseUrl: () => string;
  /** Signs the links in export emails. */
  readonly linkKey: SecretSource;
  /** The daily facts: each environment's manifest (state table), its build folders and the local build writer. */
  readonly factsManifest: FactsManifestStore;
  readonly factsFiles: FactsBuildFiles;
  readonly factsWriter: FactsBuildWriter;
  /** Whether company exports read the facts (FEATURELAKE_ROLLUP_FROM_FACTS, default 1). */
  readonly rollupFromFacts: boolean;
}

/**
 * Every export workflow's spec on one in-process runner, each Task state wired by
 * the spec: its steps Lambda in process, its queries on DuckDB.
 */
export function localWorkflows(parts: LocalWorkflowParts) {
  const { lakeDir, catalog, companyJobs, automaticExports, secretBox, customerBuckets, files, results } = parts;
  const { queryEngine, scratchDir } = parts;
  // Both workflows write their per-job inputs to the lake's export_inputs table.
  const inputs = new FileLakeInputsWriter({ lakeDir });
  // The runner is made from the steps below; an automatic export's CheckDailyFacts asks it.
  let runner: LocalWorkflowRunner | undefined;
  const factsMonitor: WorkflowMonitor = {
    executionState: (workflow, name, requestedAt) =>
      (runner as LocalWorkflowRunner).executionState(workflow, name, requestedAt),
  };
  const exportSteps = makeExportStepsHandler({
    catalog,
    inputs,
    jobs: companyJobs,
    files,
    results,
    exportsBucket: LOCAL_EXPORTS_BUCKET,
    clock: parts.clock,
    delivery: { settings: automaticExports, secrets: secretBox, buckets: customerBuckets },
    factsBuilds: factsMonitor,
    // FEATURELAKE_ROLLUP_FROM_FACTS=0: the full recompute (the reference, and the fallback).
    ...(parts.rollupFromFacts ? { factsManifest: parts.factsManifest } : {}),
  });
  const eventsExportSteps = makeEventsExportStepsHandler({
    jobs: parts.eventsJobs,
    catalog,
    inputs,
    // The UNLOAD files and the export files are both on s3rver: assembly copies between them there.
    objects: files,
    mailer: new OutboxMailer({
      dir: join(parts.home, 'outbox'),
      from: 'featurelake <exports@featurelake.local>',
      clock: parts.clock,
    }),
    exportsBucket: LOCAL_EXPORTS_BUCKET,
    apiBaseUrl: parts.apiBaseUrl,
    linkKey: parts.linkKey,
    clock: parts.clock,
  });
  const factsSteps = makeFactsStepsHandler({
    environments: parts.environments,
    manifest: parts.factsManifest,
    // The plan query is small (one row per stale day); DuckDB runs it like Athena would.
    query: parts.queryEngine,
    inputs,
    files: parts.factsFiles,
    clock: parts.clock,
  });
  const steps: Partial<Record<LambdaName, LocalTaskHandler>> = {
    'export-steps': lambdaTask('export-steps', exportSteps),
    'events-export-steps': lambdaTask('events-export-steps', eventsExportSteps),
    'facts-steps': lambdaTask('facts-steps', factsSteps),
  };
  // The events export's Map starts several weekly queries at once; DuckDB runs
  // them one at a time (serial-csv-query-runner.ts says why). A company export
  // runs one query.
  const engines: Record<Exclude<WorkflowName, 'daily-facts'>, CsvQueryRunner & TextFileUnloader> = {
    'company-export': queryEngine,
    'events-export': oneQueryAtATime(queryEngine),
  };
  const specs = Object.entries(exportWorkflowSpecs()) as Array<[WorkflowName, ExportWorkflowSpec]>;
  const workflows = new LocalWorkflowRunner(
    Object.fromEntries(
      specs.map(([name, spec]) => {
        const stepsHandler = steps[spec.stepsLambda];
        if (!stepsHandler) throw new Error(`workflow ${name}: no local ${spec.stepsLambda} Lambda`);
        const workflow = localWorkflow(spec, {
          values: {
            // Never called: every Task runs in process.
            stepsFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:featurelake-local-${spec.stepsLambda}`,
            glueDatabase: 'featurelake',
            athenaWorkGroup: 'featurelake',
            resultsBucket: LOCAL_RESULTS_BUCKET,
            // Never read: the facts build's UNLOAD stand-in writes into the local lake folder.
            lakeBucket: LOCAL_LAKE_BUCKET,
          },
          steps: stepsHandler,
          query: (sql) =>
            name === 'daily-facts'
              ? factsBuildTask({ writer: parts.factsWriter, sql })
              : duckDbAthenaTask({
                  engine: engines[name],
                  files: results,
                  sql,
                  scratchDir,
                  unload: { engine: engines[name], store: files, fileSizeBytes: LOCAL_UNLOAD_FILE_BYTES },
                }),
        });
        return [name, { ...workflow, waitTimeOverrides: LOCAL_WAIT_MS }];
      }),
    ),
    (workflow, name, error) => console.error(`workflow ${workflow} ${name} ended in error:`, (error as Error).message),
    parts.clock,
  );
  runner = workflows;
  return workflows;
}
