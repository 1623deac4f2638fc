import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalWorkflowRunner, lambdaTask, substitute } from '../../lambdas/adapters/local/local-workflow-runner.ts';
import type { StoredAutomaticExport } from '../../lambdas/core/automatic-export/automatic-export.ts';
import {
  type BucketFailureFacts,
  bucketTarget,
  customerBucketError,
} from '../../lambdas/core/automatic-export/customer-bucket.ts';
import { makeHandler } from '../../lambdas/handlers/company-export-steps.ts';
import {
  COMPANY_EXPORT_STATES,
  companyExportDefinition,
  companyRollupTexts,
} from '../../lambdas/workflows/company-export.ts';

/**
 * The delivery part of the deployed ASL document, run by the local runner with the
 * real export-steps Lambda: which customer-bucket failures the state machine
 * retries, which it does not, and what the run's status says afterwards. The
 * rollup states before it are stand-ins (company-export-workflow.test.ts and the
 * e2e tests run them for real).
 */
const destination = {
  provider: 'custom' as const,
  bucket: 'acme',
  region: 'auto',
  prefix: 'fl/',
  endpoint: 'https://r2.example.com',
  bucket_url: null,
};
const settings = {
  environment_id: 'env-1',
  destination,
  access_key_id: 'KEY',
  secret: { scheme: 'local-key-file' },
} as unknown as StoredAutomaticExport;

async function run(uploadFailures: BucketFailureFacts[], delivery = true) {
  const uploads: string[] = [];
  const recorded: unknown[] = [];
  const jobs: Record<string, unknown> = {};
  const steps = makeHandler({
    catalog: { listFeatures: async () => [], listSegments: async () => [] },
    inputs: { writeInputs: async () => undefined },
    jobs: {
      markCompleted: async (_env, _job, result) => {
        jobs.completed = result;
        return true;
      },
      markFailed: async (_env, _job, result) => {
        jobs.failed = result.error;
        return true;
      },
      releaseExportLock: async () => undefined,
    },
    files: { read: async () => Readable.from(['csv']), write: async () => undefined },
    exportsBucket: 'exports',
    delivery: {
      settings: {
        get: async () => settings,
        recordRun: async (_env, jobId, outcome) => {
          recorded.push({ jobId, status: outcome.status, error: outcome.error });
          return true;
        },
      },
      secrets: { open: async () => 'secret' },
      buckets: {
        upload: async (_target, _credentials, key) => {
          uploads.push(key);
          const facts = uploadFailures.shift();
          if (facts) throw customerBucketError(facts, { target: bucketTarget(destination), accessKeyId: 'KEY' });
        },
      },
    },
  });
  const invoke = lambdaTask('export-steps', steps);
  const S = COMPANY_EXPORT_STATES;
  const runner = new LocalWorkflowRunner({
    'company-export': {
      definition: substitute(companyExportDefinition(companyRollupTexts('trino')), {
        ExportStepsFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:steps',
        GlueDatabase: 'db',
        AthenaWorkGroup: 'wg',
        ResultsBucket: 'results',
      }),
      tasks: {
        [S.prepare]: async () => ({ athena_params: [], dates: [] }),
        [S.checkFacts]: invoke,
        [S.query]: async () => ({
          QueryExecution: { ResultConfiguration: { OutputLocation: 's3://results/company-exports/q.csv' } },
        }),
        [S.queryFromFacts]: async () => {
          throw new Error('the prepare step asked for the full recompute');
        },
        [S.queryOneDateFromFacts]: async () => {
          throw new Error('the prepare step asked for the full recompute');
        },
        [S.queryWeeklyFromFacts]: async () => {
          throw new Error('the prepare step asked for the full recompute');
        },
        [S.publish]: async () => ({ rows: 1, csv_key: 'company-exports/env-1/job-1.csv' }),
        [S.deliver]: invoke,
        [S.fail]: invoke,
      },
      // The deployed waits are 30 s and more; the number of attempts is what is tested.
      retryIntervalOverrides: { [S.deliver]: 0 },
    },
  });
  await runner.start('company-export', `run-${Math.random()}`, {
    job_id: 'job-1',
    app_id: 'env-1',
    aggregation: 'today',
    as_of: '2025-12-01T00:00:00.000Z',
    ...(delivery ? { delivery: { environment_id: 'env-1', snapshot_date: '2025-12-01' } } : {}),
  });
  await runner.idle();
  return { uploads, recorded, jobs };
}

describe('delivering an automatic export to the customer bucket', () => {
  it('retries throttling and 5xx, and records success once an attempt gets through', async () => {
    const { uploads, recorded, jobs } = await run([
      { code: 'SlowDown', httpStatus: 503 },
      { code: 'InternalError', httpStatus: 500 },
    ]);
    expect(uploads).toEqual(Array(3).fill('fl/company-export-2025-12-01.csv'));
    expect(recorded).toEqual([{ jobId: 'job-1', status: 'successful', error: null }]);
    expect(jobs.failed).toBeUndefined();
  });

  it('never retries a refusal (here: no such bucket); the run and the job fail with the readable reason', async () => {
    const { uploads, recorded, jobs } = await run([{ code: 'NoSuchBucket', httpStatus: 404 }]);
    const reason =
      'Could not deliver company-export-2025-12-01.csv to s3://acme/fl/: There is no bucket "acme" at https://r2.example.com.';
    expect(uploads).toHaveLength(1);
    expect(recorded).toEqual([{ jobId: 'job-1', status: 'failed', error: reason }]);
    expect(jobs.failed).toBe(reason);
  });

  it.each([
    [{ code: 'SignatureDoesNotMatch', httpStatus: 403 }],
    [{ code: 'InvalidAccessKeyId', httpStatus: 403 }],
    [{ code: 'AccessDenied', httpStatus: 403 }],
  ])('does not retry %o', async (facts) => {
    const { uploads, recorded } = await run([facts]);
    expect(uploads).toHaveLength(1);
    expect(recorded).toEqual([expect.objectContaining({ status: 'failed' })]);
  });

  it('gives up after three retries of an endpoint that stays out of reach', async () => {
    const { uploads, recorded } = await run(Array(5).fill({ networkCode: 'ECONNREFUSED' }));
    expect(uploads).toHaveLength(4);
    expect(recorded).toEqual([
      {
        jobId: 'job-1',
        status: 'failed',
        error: expect.stringMatching(
          /^Could not deliver company-export-2025-12-01\.csv to s3:\/\/acme\/fl\/: Could not reach https:\/\/r2\.example\.com \(ECONNREFUSED\)/,
        ),
      },
    ]);
  });

  it('a manual export (no delivery in its input) never reaches the customer bucket', async () => {
    const { uploads, recorded, jobs } = await run([], false);
    expect(uploads).toEqual([]);
    expect(recorded).toEqual([]);
    expect(jobs.failed).toBeUndefined();
  });
});
