import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import { assembleEventsExportWeek, eventsExportUnloadPrefix } from '../../lambdas/core/events-export/assemble-week.ts';
import type { EventsExportJob } from '../../lambdas/core/events-export/job.ts';
import { EXPORTED_EVENT_FIELDS } from '../../lambdas/core/events-export/sql.ts';
import { startLocalS3 } from '../support/local-s3.ts';

/**
 * The week's file assembled on s3rver, behind the SigV4 gateway that serves
 * UploadPartCopy, from UNLOAD-shaped files: many small gzip members, some over
 * S3's 5 MiB part minimum, some empty. The result must be the week's lines, in file
 * order, readable by the real gunzip.
 */

const RESULTS = 'featurelake-results';
const EXPORTS = 'featurelake-exports';
const APP = 'app-1';
const CSV_HEADER = `${EXPORTED_EVENT_FIELDS.join(',')}\r\n`;

let s3: Awaited<ReturnType<typeof startLocalS3>>;
let folder: string;
let client: S3Client;
let store: S3ObjectStore;

beforeAll(async () => {
  s3 = await startLocalS3({ name: 'assembly', buckets: [RESULTS, EXPORTS] });
  ({ folder, client } = s3);
  store = new S3ObjectStore({ client });
});
afterAll(async () => {
  await s3?.close();
});

/** A job store holding one job, as the step reads and records it. */
function jobsOf(jobId: string) {
  const completed: string[] = [];
  return {
    completed,
    jobs: {
      get: async () => ({ job_id: jobId, completed_chunks: [...completed] }) as unknown as EventsExportJob,
      recordChunk: async (_app: string, _job: string, week: string) => {
        if (!completed.includes(week)) completed.push(week);
      },
    },
  };
}

/** Lines that do not compress much, so a member of them passes 5 MiB. */
const noisyLines = (count: number, tag: string, csv: boolean) =>
  Array.from(
    { length: count },
    (_, i) =>
      `${csv ? `${tag}-${i},"quoted, ""text""\r\nüñí"` : JSON.stringify({ event_id: `${tag}-${i}`, comment: 'ü,"' })}` +
      `${randomBytes(48).toString('base64')}${csv ? '\r' : ''}\n`,
  ).join('');

async function unloadFiles(jobId: string, week: string, members: string[]): Promise<void> {
  const prefix = eventsExportUnloadPrefix(jobId, week);
  await Promise.all(
    members.map((text, i) =>
      store.write(
        RESULTS,
        `${prefix}${String(i).padStart(6, '0')}.gz`,
        text === '' ? Buffer.alloc(0) : gzipSync(text),
        'application/gzip',
      ),
    ),
  );
}

const input = (jobId: string, week: string, format: 'json' | 'csv') => ({
  job_id: jobId,
  app_id: APP,
  partition: { week, format },
  query: { output_location: `s3://${RESULTS}/events-exports/${jobId}-${week}` },
});

describe('assembling a week file from its UNLOAD files on S3', () => {
  it('csv: the header member, then every file in key order (small ones joined in memory, large ones copied), readable by gunzip', async () => {
    const jobId = '7b0c8a2e-0000-4000-8000-000000000001';
    const week = '2025-01-06';
    const members = [
      noisyLines(3, 'a', true),
      '',
      noisyLines(150_000, 'big', true), // over 5 MiB compressed: copied, in a range after a top-up
      ...Array.from({ length: 25 }, (_, i) => noisyLines(20, `s${i}`, true)),
      '',
      noisyLines(160_000, 'big2', true),
      noisyLines(1, 'last', true),
    ];
    await unloadFiles(jobId, week, members);
    const { jobs, completed } = jobsOf(jobId);
    const written = await assembleEventsExportWeek(
      { jobs, objects: store, exportsBucket: EXPORTS },
      input(jobId, week, 'csv'),
    );
    // The two large files are copied, not held: more parts than the header and small files need.
    expect(written.parts).toBeGreaterThanOrEqual(3);
    const file = await buffer(await store.read(EXPORTS, `events-exports/${APP}/${jobId}/${week}.csv.gz`));
    const expected = CSV_HEADER + members.join('');
    expect(gunzipSync(file).toString('utf8')).toBe(expected);
    // The real gunzip reads every member of the file.
    const path = join(folder, `${week}.csv.gz`);
    await writeFile(path, file);
    expect(execFileSync('gunzip', ['-c', path], { maxBuffer: 64 * 1024 * 1024 }).toString('utf8')).toBe(expected);
    expect(completed).toEqual([week]);
    // The UNLOAD files are gone once the week is recorded.
    expect(await store.list(RESULTS, eventsExportUnloadPrefix(jobId, week))).toEqual([]);
  });

  it('json: the lines alone, with nothing before them', async () => {
    const jobId = '7b0c8a2e-0000-4000-8000-000000000002';
    const week = '2025-01-13';
    const members = [noisyLines(5, 'x', false), '', noisyLines(7, 'y', false)];
    await unloadFiles(jobId, week, members);
    await assembleEventsExportWeek(
      { ...jobsOf(jobId), objects: store, exportsBucket: EXPORTS },
      input(jobId, week, 'json'),
    );
    const file = await buffer(await store.read(EXPORTS, `events-exports/${APP}/${jobId}/${week}.json.gz`));
    expect(gunzipSync(file).toString('utf8')).toBe(members.join(''));
  });

  it('a week without rows (no files, or only empty ones) is a valid gzip file: empty for json, the header for csv', async () => {
    const jobId = '7b0c8a2e-0000-4000-8000-000000000003';
    await unloadFiles(jobId, '2025-01-20', ['', '']);
    for (const [week, format] of [
      ['2025-01-20', 'json'],
      ['2025-01-27', 'csv'],
    ] as const) {
      await assembleEventsExportWeek(
        { ...jobsOf(jobId), objects: store, exportsBucket: EXPORTS },
        input(jobId, week, format),
      );
      const path = join(folder, `${week}.${format}.gz`);
      await writeFile(
        path,
        await buffer(await store.read(EXPORTS, `events-exports/${APP}/${jobId}/${week}.${format}.gz`)),
      );
      expect(execFileSync('gunzip', ['-c', path]).toString('utf8')).toBe(format === 'csv' ? CSV_HEADER : '');
    }
  });

  it('a retry after the week was recorded does not rebuild the file from what is left of its UNLOAD files', async () => {
    const jobId = '7b0c8a2e-0000-4000-8000-000000000004';
    const week = '2025-02-03';
    await unloadFiles(jobId, week, [noisyLines(4, 'r', false), noisyLines(4, 's', false)]);
    const { jobs } = jobsOf(jobId);
    await assembleEventsExportWeek({ jobs, objects: store, exportsBucket: EXPORTS }, input(jobId, week, 'json'));
    const key = `events-exports/${APP}/${jobId}/${week}.json.gz`;
    const first = await buffer(await store.read(EXPORTS, key));
    // As if the first attempt died while deleting: one file is left.
    await unloadFiles(jobId, week, [noisyLines(1, 'left', false)]);
    await assembleEventsExportWeek({ jobs, objects: store, exportsBucket: EXPORTS }, input(jobId, week, 'json'));
    expect((await buffer(await store.read(EXPORTS, key))).equals(first)).toBe(true);
    expect(await store.list(RESULTS, eventsExportUnloadPrefix(jobId, week))).toEqual([]);
  });

  it('refuses a job id or week that is not safe to paste into the UNLOAD location', () => {
    expect(() => eventsExportUnloadPrefix("x' TO 's3://elsewhere/", '2025-01-06')).toThrow(/job id/);
    expect(() => eventsExportUnloadPrefix('job-1', "2025-01-06/'")).toThrow(/week/);
    expect(eventsExportUnloadPrefix('job-1', '2025-01-06')).toBe('events-exports/unload/job-1/2025-01-06/');
  });
});
