import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CompanyExportJob, CompanyExportWorkflowInput } from '../../lambdas/core/company-export/job.ts';
import { companyExportFileUrl, readCompanyExport } from '../../lambdas/core/company-export/read.ts';
import { COMPANY_EXPORT_HEADER } from '../../lambdas/core/company-export/rollup/index.ts';
import { failCompanyExport, publishCompanyExport } from '../../lambdas/core/company-export/steps.ts';
import { NotFoundError } from '../../lambdas/core/shared/errors.ts';
import { TEST_LINK_KEY } from '../support/download-links.ts';

/**
 * The company export's use cases over in-memory stand-ins of their ports: what
 * publishing, failing and reading a job write and answer.
 */
const NOW = new Date('2025-12-01T10:00:00.000Z');
const clock = { now: () => NOW };
const job: CompanyExportWorkflowInput = {
  job_id: 'job-1',
  app_id: 'env-1',
  aggregation: 'today',
  as_of: '2025-12-01T00:00:00.000Z',
};

/** A query result as Athena writes it: every field quoted. */
function queryResult(rows: number): string {
  const line = (fields: readonly string[]) => `${fields.map((f) => `"${f}"`).join(',')}\n`;
  const row = line(COMPANY_EXPORT_HEADER.map((_, i) => `v${i}`));
  return line(COMPANY_EXPORT_HEADER) + row.repeat(rows);
}

async function text(body: Readable | Buffer | string): Promise<string> {
  if (!(body instanceof Readable)) return body.toString();
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function jobsRecorder() {
  const calls: unknown[][] = [];
  return {
    calls,
    jobs: {
      markCompleted: async (...args: unknown[]) => {
        calls.push(['completed', ...args]);
        return true;
      },
      markFailed: async (...args: unknown[]) => {
        calls.push(['failed', ...args]);
        return true;
      },
      releaseExportLock: async (...args: unknown[]) => {
        calls.push(['released', ...args]);
      },
    },
  };
}

describe('publishing the rollup result', () => {
  it('writes the export CSV from the query result, completes the job and frees its slot', async () => {
    const { jobs, calls } = jobsRecorder();
    const read: string[] = [];
    const written: Record<string, string> = {};
    const published = await publishCompanyExport(
      {
        results: {
          read: async (bucket, key) => {
            read.push(`${bucket}/${key}`);
            return Readable.from([queryResult(2)]);
          },
        },
        files: {
          write: async (bucket, key, body, contentType) => {
            written[`${bucket}/${key} ${contentType}`] = await text(body);
          },
        },
        exportsBucket: 'exports',
        jobs,
        clock,
      },
      { ...job, query: { output_location: 's3://results/company-exports/q-1.csv' } },
    );
    expect(read).toEqual(['results/company-exports/q-1.csv']);
    const csvLine = (fields: readonly string[]) => `${fields.join(',')}\r\n`;
    expect(written).toEqual({
      'exports/company-exports/env-1/job-1.csv text/csv; charset=utf-8':
        csvLine(COMPANY_EXPORT_HEADER) + csvLine(COMPANY_EXPORT_HEADER.map((_, i) => `v${i}`)).repeat(2),
    });
    expect(published).toEqual({ rows: 2, csv_key: 'company-exports/env-1/job-1.csv' });
    expect(calls).toEqual([
      [
        'completed',
        'env-1',
        'job-1',
        { rows: 2, csv_key: 'company-exports/env-1/job-1.csv', completed_at: NOW.toISOString() },
      ],
      ['released', 'env-1', 'job-1'],
    ]);
  });

  it('a failed upload fails the step, completes nothing and closes the query result', async () => {
    const { jobs, calls } = jobsRecorder();
    // Row by row, more than the streams' buffers hold: an encoder nobody reads any more would hold it open.
    const result = Readable.from(queryResult(50_000).split(/(?<=\n)/));
    const publishing = publishCompanyExport(
      {
        results: { read: async () => result },
        files: {
          write: async () => {
            throw new Error('upload refused');
          },
        },
        exportsBucket: 'exports',
        jobs,
        clock,
      },
      { ...job, query: { output_location: 's3://results/company-exports/q-1.csv' } },
    );
    await expect(publishing).rejects.toThrow('upload refused');
    await new Promise((resolve) => setImmediate(resolve));
    expect(result.destroyed).toBe(true);
    expect(calls).toEqual([]);
  });
});

describe('recording a failed run', () => {
  const failure = { Error: 'CustomerBucketRefused', Cause: 'Could not deliver company-export-2025-12-01.csv.' };

  it('a requested export: the readable failure on the job, and its slot freed', async () => {
    const { jobs, calls } = jobsRecorder();
    await failCompanyExport({ jobs, clock }, { ...job, failure: { Error: 'States.Timeout' } });
    const error =
      'The export took longer than its time limit and was stopped. Try a shorter aggregation, or try again later.';
    expect(calls).toEqual([
      ['failed', 'env-1', 'job-1', { error, completed_at: NOW.toISOString() }],
      ['released', 'env-1', 'job-1'],
    ]);
  });

  it("an automatic run: the delivery's own sentence on the job and as the run's last status", async () => {
    const { jobs, calls } = jobsRecorder();
    const recorded: unknown[] = [];
    await failCompanyExport(
      {
        jobs,
        settings: {
          recordRun: async (...args) => {
            recorded.push(args);
            return true;
          },
        },
        clock,
      },
      { ...job, failure, delivery: { environment_id: 'env-1', snapshot_date: '2025-12-01' } },
    );
    const outcome = { status: 'failed', error: failure.Cause, finished_at: NOW.toISOString() };
    expect(calls[0]).toEqual(['failed', 'env-1', 'job-1', { error: failure.Cause, completed_at: NOW.toISOString() }]);
    expect(recorded).toEqual([['env-1', 'job-1', outcome]]);
  });
});

describe('reading a job', () => {
  const stored: CompanyExportJob = {
    job_id: 'job-1',
    environment_id: 'env-1',
    aggregation: '30d_daily',
    as_of: '2025-11-30T00:00:00.000Z',
    status: 'completed',
    created_at: '2025-12-01T09:00:00.000Z',
    completed_at: '2025-12-01T09:05:00.000Z',
    rows: 12,
    csv_key: 'company-exports/env-1/job-1.csv',
    error: null,
  };

  function reader(found: CompanyExportJob | undefined) {
    const signed: unknown[] = [];
    const deps = {
      jobs: {
        get: async () => found,
        markFailed: async () => true,
        releaseExportLock: async () => undefined,
      },
      workflows: { executionState: async () => 'running' as const },
      files: {
        signedGetUrl: async (...args: unknown[]) => {
          signed.push(args);
          return 'https://signed.example/job-1.csv';
        },
      },
      exportsBucket: 'exports',
      linkKey: TEST_LINK_KEY,
      apiBaseUrl: () => 'https://api.example.com/',
      clock,
    };
    return { deps, signed };
  }

  it('is a 404 naming the job when the environment has no such job', async () => {
    const { deps } = reader(undefined);
    const reading = readCompanyExport(deps, { environmentId: 'env-1', jobId: 'nope' });
    await expect(reading).rejects.toThrow(new NotFoundError('Failed to retrieve job with id nope: job not found'));
  });

  it('a completed job comes with a link to the file route that works for an hour, under the export name', async () => {
    const { deps, signed } = reader(stored);
    const view = await readCompanyExport(deps, { environmentId: 'env-1', jobId: 'job-1' });
    const url = new URL(view.download_url ?? '');
    expect(url.origin + url.pathname).toBe(
      'https://api.example.com/api/v1/company-exports/jobs/job-1/files/company-export-30d_daily-2025-11-30.csv',
    );
    expect(url.searchParams.get('environment_id')).toBe('env-1');
    expect(Number(url.searchParams.get('expires'))).toBe(Math.floor(clock.now().getTime() / 1000) + 3600);
    // The S3 URL is presigned only when the link is followed.
    expect(signed).toEqual([]);
    expect(view).toMatchObject({ status: 'completed', rows: 12 });
  });

  it("the file route presigns the CSV for five minutes, and only the job's own file", async () => {
    const { deps, signed } = reader(stored);
    const request = { environmentId: 'env-1', jobId: 'job-1', filename: 'company-export-30d_daily-2025-11-30.csv' };
    await expect(companyExportFileUrl(deps, request)).resolves.toBe('https://signed.example/job-1.csv');
    expect(signed).toEqual([
      ['exports', 'company-exports/env-1/job-1.csv', { expiresInSeconds: 300, fileName: request.filename }],
    ]);
    await expect(companyExportFileUrl(deps, { ...request, filename: 'other.csv' })).rejects.toThrow(NotFoundError);
  });

  it('a job still running has no link', async () => {
    const { deps, signed } = reader({ ...stored, status: 'running', completed_at: null, rows: null, csv_key: null });
    const view = await readCompanyExport(deps, { environmentId: 'env-1', jobId: 'job-1' });
    expect(signed).toEqual([]);
    expect(view).toMatchObject({ status: 'running', download_url: null });
  });
});
