import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STATE_TABLE } from '../../bin/local.ts';
import { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import { duckDbAthenaTask } from '../../lambdas/adapters/local/duckdb-athena-task.ts';
import {
  type LocalTaskHandler,
  LocalWorkflowRunner,
  lambdaTask,
  substitute,
} from '../../lambdas/adapters/local/local-workflow-runner.ts';
import type { CompanyExportJob } from '../../lambdas/core/company-export/job.ts';
import { makeHandler } from '../../lambdas/handlers/company-export-steps.ts';
import {
  COMPANY_EXPORT_STATES,
  companyExportDefinition,
  companyRollupTexts,
} from '../../lambdas/workflows/company-export.ts';
import { startTestStack } from '../support/local-stack.ts';

/**
 * Failure paths of the company export workflow: the deployed ASL document, run by
 * the local runner, with the real failure-recording step over dynalite. Only the
 * query task is made to fail, as Athena can (a bad query, a query that never ends).
 */
let stack: Awaited<ReturnType<typeof startTestStack>>;
let jobs: DynamoDbCompanyExportJobs;
const TEXTS = companyRollupTexts('trino');

beforeAll(async () => {
  stack = await startTestStack();
  const client = stack.dynamoClient();
  jobs = new DynamoDbCompanyExportJobs({ client: DynamoDBDocumentClient.from(client), tableName: LOCAL_STATE_TABLE });
});
afterAll(async () => {
  await stack?.cleanup();
});

interface RunOptions {
  readonly definition?: ReturnType<typeof companyExportDefinition>;
  readonly aggregation?: CompanyExportJob['aggregation'];
  /** Exports read the daily facts (here: none built yet), as FEATURELAKE_ROLLUP_FROM_FACTS=1 has them. */
  readonly fromFacts?: boolean;
  /** Each query state's handler, by state name (default: `query`). */
  readonly queryOf?: (state: string) => LocalTaskHandler;
}

async function runFailing(query: LocalTaskHandler, options: RunOptions = {}): Promise<CompanyExportJob> {
  const { definition = companyExportDefinition(TEXTS), aggregation = 'today', fromFacts = false } = options;
  const queryOf = options.queryOf ?? (() => query);
  const job: CompanyExportJob = {
    job_id: `job-${Math.random().toString(36).slice(2)}`,
    environment_id: 'env-1',
    aggregation,
    as_of: '2025-12-01T00:00:00.000Z',
    status: 'running',
    created_at: new Date().toISOString(),
    completed_at: null,
    rows: null,
    csv_key: null,
    error: null,
  };
  await jobs.create(job);
  const steps = makeHandler({
    catalog: { listFeatures: async () => [], listSegments: async () => [] },
    inputs: { writeInputs: async () => undefined },
    jobs,
    files: {
      read: async () => {
        throw new Error('publish must not run after a failed query');
      },
      write: async () => undefined,
    },
    exportsBucket: 'exports',
    ...(fromFacts ? { factsManifest: { readFactsManifest: async () => undefined } } : {}),
  });
  const invoke = lambdaTask('export-steps', steps);
  const runner = new LocalWorkflowRunner({
    'company-export': {
      definition: substitute(definition, {
        ExportStepsFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:steps',
        GlueDatabase: 'db',
        AthenaWorkGroup: 'wg',
        ResultsBucket: 'results',
      }),
      tasks: {
        [COMPANY_EXPORT_STATES.prepare]: invoke,
        [COMPANY_EXPORT_STATES.checkFacts]: invoke,
        [COMPANY_EXPORT_STATES.query]: queryOf(COMPANY_EXPORT_STATES.query),
        [COMPANY_EXPORT_STATES.queryFromFacts]: queryOf(COMPANY_EXPORT_STATES.queryFromFacts),
        [COMPANY_EXPORT_STATES.queryOneDateFromFacts]: queryOf(COMPANY_EXPORT_STATES.queryOneDateFromFacts),
        [COMPANY_EXPORT_STATES.queryWeeklyFromFacts]: queryOf(COMPANY_EXPORT_STATES.queryWeeklyFromFacts),
        [COMPANY_EXPORT_STATES.publish]: invoke,
        [COMPANY_EXPORT_STATES.fail]: invoke,
        [COMPANY_EXPORT_STATES.deliver]: invoke,
      },
    },
  });
  await runner.start('company-export', job.job_id, {
    job_id: job.job_id,
    app_id: job.environment_id,
    aggregation: job.aggregation,
    as_of: job.as_of,
  });
  await runner.idle();
  const stored = await jobs.get(job.environment_id, job.job_id);
  if (!stored) throw new Error('job vanished');
  return stored;
}

describe('company export workflow failures', () => {
  it('a query that fails ends the job as failed, with the engine’s reason', async () => {
    const query = duckDbAthenaTask({
      engine: {
        runToCsv: async () => {
          throw new Error('Binder Error: Referenced column "nope" not found\nLINE 1: ...');
        },
      },
      files: { writeFile: async () => undefined },
      sql: 'SELECT 1',
      scratchDir: `${stack.home}/tmp`,
    });
    const job = await runFailing(query);
    expect(job.status).toBe('failed');
    expect(job.error).toBe('The export failed: Binder Error: Referenced column "nope" not found');
    expect(job.completed_at).not.toBeNull();
  });

  it('a query that does not finish in time ends the job as failed, saying so', async () => {
    const definition = companyExportDefinition(TEXTS);
    // The deployed limit is 30 minutes; the same state with a 1 s limit shows the path.
    const states = definition.States as Record<string, Record<string, unknown>>;
    states[COMPANY_EXPORT_STATES.query] = { ...states[COMPANY_EXPORT_STATES.query], TimeoutSeconds: 1 };
    const job = await runFailing(() => new Promise(() => undefined), { definition });
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/took longer than its time limit/);
  });

  it('a query over the workgroup’s scan limit says what to change', async () => {
    const job = await runFailing(async () => {
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
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/scan more data than the workgroup allows.*athenaScanLimitBytes/);
  });
});

describe('company export workflow: the query state of each job', () => {
  it.each([
    [false, 'today', COMPANY_EXPORT_STATES.query],
    [false, '6m_weekly', COMPANY_EXPORT_STATES.query],
    [true, 'today', COMPANY_EXPORT_STATES.queryOneDateFromFacts],
    [true, '30d_daily', COMPANY_EXPORT_STATES.queryFromFacts],
    [true, '3m_weekly', COMPANY_EXPORT_STATES.queryWeeklyFromFacts],
    [true, '6m_weekly', COMPANY_EXPORT_STATES.queryWeeklyFromFacts],
  ] as const)('from facts %s, %s: the prepare step sends it to %s', async (fromFacts, aggregation, state) => {
    const ran: string[] = [];
    const job = await runFailing(async () => null, {
      aggregation,
      fromFacts,
      queryOf: (name) => async () => {
        ran.push(name);
        throw new Error('stop after the query state');
      },
    });
    expect(ran).toEqual([state]);
    expect(job.status).toBe('failed');
  });
});
