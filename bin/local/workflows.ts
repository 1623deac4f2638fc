/**
 * The local stack's workflows: the deployed state machine documents run in process
 * by LocalWorkflowRunner, their Lambda Tasks calling the same step handlers as on
 * AWS and their Athena Tasks the DuckDB stand-in.
 */
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDbAutomaticExportStore } from '../../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import type { DynamoDbCatalogStore } from '../../lambdas/adapters/aws/dynamodb-catalog-store.ts';
import type { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import type { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import type { S3CustomerBuckets } from '../../lambdas/adapters/aws/s3-customer-buckets.ts';
import type { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import { duckDbAthenaTask } from '../../lambdas/adapters/local/duckdb-athena-task.ts';
import type { DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import type { FileKeySecretBox } from '../../lambdas/adapters/local/file-key-secret-box.ts';
import { FileLakeInputsWriter } from '../../lambdas/adapters/local/file-lake-inputs-writer.ts';
import type { FolderObjectStore } from '../../lambdas/adapters/local/folder-object-store.ts';
import { LocalWorkflowRunner, lambdaTask } from '../../lambdas/adapters/local/local-workflow-runner.ts';
import { OutboxMailer } from '../../lambdas/adapters/local/outbox-mailer.ts';
import { oneQueryAtATime } from '../../lambdas/adapters/local/serial-csv-query-runner.ts';
import { companyRollupSql } from '../../lambdas/core/company-export/rollup/index.ts';
import { eventsExportSql } from '../../lambdas/core/events-export/sql.ts';
import { makeHandler as makeExportStepsHandler } from '../../lambdas/handlers/company-export-steps.ts';
import { makeHandler as makeEventsExportStepsHandler } from '../../lambdas/handlers/events-export-steps.ts';
import { makeHandler as makeEventsExportsHandler } from '../../lambdas/handlers/events-exports.ts';
import type { Clock } from '../../lambdas/ports/clock.ts';
import type { WorkflowMonitor, WorkflowStarter } from '../../lambdas/ports/workflow-starter.ts';
import { substitute } from '../../lambdas/workflows/asl.ts';
import { COMPANY_EXPORT_STATES, companyExportDefinition } from '../../lambdas/workflows/company-export.ts';
import { EVENTS_EXPORT_STATES, eventsExportDefinition } from '../../lambdas/workflows/events-export.ts';
import { LOCAL_EXPORTS_BUCKET, LOCAL_RESULTS_BUCKET, LOCAL_STATE_TABLE } from './config.ts';

/** What the workflow documents' `${…}` placeholders become locally (the Lambda ARN is never called: every Task runs in process). */
const LOCAL_SUBSTITUTIONS = {
  ExportStepsFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:featurelake-local-export-steps',
  GlueDatabase: 'featurelake',
  AthenaWorkGroup: 'featurelake',
  ResultsBucket: LOCAL_RESULTS_BUCKET,
};

/** The stack's adapters the workflows' steps and queries run over. */
export interface LocalWorkflowParts {
  readonly home: string;
  readonly lakeDir: string;
  readonly documents: DynamoDBDocumentClient;
  readonly catalog: DynamoDbCatalogStore;
  readonly environments: DynamoDbEnvironmentStore;
  readonly companyJobs: DynamoDbCompanyExportJobs;
  readonly automaticExports: DynamoDbAutomaticExportStore;
  readonly secretBox: FileKeySecretBox;
  readonly customerBuckets: S3CustomerBuckets;
  readonly files: S3ObjectStore;
  readonly results: FolderObjectStore;
  readonly queryEngine: DuckDbQueryEngine;
  readonly scratchDir: string;
  readonly clock: Clock | undefined;
}

/** Both export workflows on one in-process runner, and the events export's jobs, API handler and link base. */
export function localWorkflows(parts: LocalWorkflowParts) {
  const { lakeDir, catalog, companyJobs, automaticExports, secretBox, customerBuckets, files, results } = parts;
  const { queryEngine, scratchDir } = parts;
  const exportSteps = makeExportStepsHandler({
    catalog,
    inputs: new FileLakeInputsWriter({ lakeDir }),
    jobs: companyJobs,
    files,
    results,
    exportsBucket: LOCAL_EXPORTS_BUCKET,
    clock: parts.clock,
    delivery: { settings: automaticExports, secrets: secretBox, buckets: customerBuckets },
  });
  const invokeExportSteps = lambdaTask('export-steps', exportSteps);
  const eventsExport = localEventsExport(parts);
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
    (workflow, name, error) => console.error(`workflow ${workflow} ${name} ended in error:`, (error as Error).message),
    parts.clock,
  );
  return { workflows, eventsExport };
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
  const substitutions = {
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
