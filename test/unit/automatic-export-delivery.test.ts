import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { StoredAutomaticExport } from '../../lambdas/core/automatic-export/automatic-export.ts';
import { DELIVERY_ERRORS } from '../../lambdas/core/automatic-export/customer-bucket.ts';
import {
  type DeliverAutomaticExportDeps,
  deliverAutomaticExport,
} from '../../lambdas/core/automatic-export/deliver.ts';

/**
 * Delivering a published CSV to the customer's bucket, over in-memory stand-ins:
 * the keys as saved now, the file's fixed name, and settings removed meanwhile.
 * (automatic-export-workflow.test.ts runs the step in the state machine with its retries.)
 */
const NOW = new Date('2025-12-01T00:20:00.000Z');
const settings = {
  environment_id: 'env-1',
  destination: { provider: 'aws', bucket: 'acme', region: 'eu-west-1', prefix: 'fl/', endpoint: null, bucket_url: '' },
  access_key_id: 'KEY',
  secret: { scheme: 'local-key-file' },
} as unknown as StoredAutomaticExport;
const job = {
  job_id: 'job-1',
  app_id: 'env-1',
  aggregation: 'today' as const,
  as_of: '2025-12-01T00:00:00.000Z',
  delivery: { snapshot_date: '2025-12-01' },
  published: { csv_key: 'company-exports/env-1/job-1.csv' },
};

function world(saved: StoredAutomaticExport | undefined) {
  const uploads: unknown[] = [];
  const recorded: unknown[] = [];
  const deps: DeliverAutomaticExportDeps = {
    settings: {
      get: async () => saved,
      recordRun: async (...args) => {
        recorded.push(args);
        return true;
      },
    },
    secrets: { open: async (_sealed, context) => `secret-for-${context.environment_id}` },
    buckets: {
      upload: async (target, credentials, key, body, contentType) => {
        uploads.push({ bucket: target.bucket, credentials, key, body: (await body.toArray()).join(''), contentType });
      },
    },
    files: { read: async (bucket, key) => Readable.from([`${bucket}/${key}`]) },
    exportsBucket: 'exports',
    clock: { now: () => NOW },
  };
  return { deps, uploads, recorded };
}

describe('delivering an automatic export', () => {
  it('uploads the published CSV under the fixed name for its date with the saved keys, and records success', async () => {
    const { deps, uploads, recorded } = world(settings);
    expect(await deliverAutomaticExport(deps, job)).toEqual({
      bucket: 'acme',
      key: 'fl/company-export-2025-12-01.csv',
    });
    expect(uploads).toEqual([
      {
        bucket: 'acme',
        credentials: { accessKeyId: 'KEY', secretAccessKey: 'secret-for-env-1' },
        key: 'fl/company-export-2025-12-01.csv',
        body: 'exports/company-exports/env-1/job-1.csv',
        contentType: 'text/csv; charset=utf-8',
      },
    ]);
    expect(recorded).toEqual([
      ['env-1', 'job-1', { status: 'successful', error: null, finished_at: NOW.toISOString() }],
    ]);
  });

  it('settings removed since the run started are a refusal, which the state machine never retries', async () => {
    const { deps, uploads, recorded } = world(undefined);
    const refused = await deliverAutomaticExport(deps, job).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      name: DELIVERY_ERRORS.refused,
      message: 'The automatic export settings were removed before the file could be delivered.',
    });
    expect(uploads).toEqual([]);
    expect(recorded).toEqual([]);
  });
});
