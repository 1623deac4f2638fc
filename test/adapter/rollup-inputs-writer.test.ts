import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3LakeInputsWriter } from '../../lambdas/adapters/aws/s3-lake-inputs-writer.ts';
import { FileLakeInputsWriter } from '../../lambdas/adapters/local/file-lake-inputs-writer.ts';
import { EXPORT_INPUTS_RETENTION_DAYS } from '../../lambdas/contract/export-inputs.ts';
import { exportInputRows, exportInputsJsonLines } from '../../lambdas/core/company-export/rollup/inputs.ts';
import { aggregationWindows } from '../../lambdas/core/company-export/rollup/windows.ts';
import type { LakeInputsWriter } from '../../lambdas/ports/lake-inputs.ts';
import { startCustomerS3 } from '../support/customer-s3.ts';
import { tempHome } from '../support/local-stack.ts';

/** One contract, every adapter: the bytes of the inputs file, where the lake table reads them. */
const windows = aggregationWindows('today', new Date('2025-01-01T10:00:00Z'));
const rowsNamed = (name: string) =>
  exportInputRows(
    'job-1',
    { features: [{ id: 'f', name, type: 'event', event_names: ['é "quoted"\n'] }], segments: [] },
    windows,
  );

interface Subject {
  writer: LakeInputsWriter;
  read(key: string): Promise<string>;
  keys(): Promise<string[]>;
}

let s3: Awaited<ReturnType<typeof startCustomerS3>>;
let home: string;
const subjects: Record<string, () => Subject> = {
  'file (local lake)': () => ({
    writer: new FileLakeInputsWriter({ lakeDir: join(home, 'lake') }),
    read: (key) => readFile(join(home, 'lake', key), 'utf8'),
    keys: async () => {
      const { readdir } = await import('node:fs/promises');
      const entries = await readdir(join(home, 'lake'), { recursive: true, withFileTypes: true }).catch(() => []);
      return entries
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(join(home, 'lake').length + 1))
        .sort();
    },
  }),
  'S3 (s3rver)': () => ({
    writer: new S3LakeInputsWriter({ client: s3.client, bucket: 'lake' }),
    read: (key) => s3.text('lake', key),
    keys: () => s3.keys('lake'),
  }),
};

beforeAll(async () => {
  s3 = await startCustomerS3(['lake']);
  home = await tempHome('featurelake-rollup-inputs-');
});
afterAll(async () => {
  await s3.close();
  await rm(home, { recursive: true, force: true });
});

describe.each(Object.keys(subjects))('LakeInputsWriter: %s', (name) => {
  it('writes the JSON lines, byte for byte, at export_inputs/<id>.json', async () => {
    const subject = (subjects[name] as () => Subject)();
    const rows = rowsNamed('First');
    await subject.writer.writeInputs('job-1', rows);
    expect(await subject.read('export_inputs/job-1.json')).toBe(exportInputsJsonLines('job-1', rows));
  });

  it('replaces the file when a step is retried, and leaves nothing else behind', async () => {
    const subject = (subjects[name] as () => Subject)();
    const rows = rowsNamed('Second');
    await subject.writer.writeInputs('job-1', rows);
    expect(await subject.read('export_inputs/job-1.json')).toBe(exportInputsJsonLines('job-1', rows));
    expect(await subject.keys()).toEqual(['export_inputs/job-1.json']);
  });

  it('refuses a job id that could leave its partition', async () => {
    const subject = (subjects[name] as () => Subject)();
    await expect(subject.writer.writeInputs('../events', rowsNamed('x'))).rejects.toThrow(/job id/);
    await expect(subject.writer.writeInputs('a/b', rowsNamed('x'))).rejects.toThrow(/job id/);
    expect(await subject.keys()).toEqual(['export_inputs/job-1.json']);
  });
});

describe('S3LakeInputsWriter options', () => {
  it('puts the table under a prefix when the lake does not sit at the bucket root', async () => {
    await new S3LakeInputsWriter({ client: s3.client, bucket: 'lake', prefix: 'lake-root/' }).writeInputs(
      'job-2',
      rowsNamed('P'),
    );
    expect(await s3.keys('lake')).toContain('lake-root/export_inputs/job-2.json');
  });

  it('says what is wrong with its options', () => {
    expect(() => new S3LakeInputsWriter({ client: s3.client, bucket: '' })).toThrow(/bucket/);
    expect(() => new S3LakeInputsWriter({ client: s3.client, bucket: 'b', prefix: 'no-slash' })).toThrow(/prefix/);
  });
});

describe('FileLakeInputsWriter: the local lifecycle rule', () => {
  it("removes inputs files and crashed writes older than the AWS rule's retention, and keeps the rest", async () => {
    const { mkdir, readdir, utimes, writeFile } = await import('node:fs/promises');
    const lakeDir = join(home, 'swept-lake');
    const folder = join(lakeDir, 'export_inputs');
    await mkdir(folder, { recursive: true });
    const now = new Date('2026-03-10T12:00:00Z');
    const aged = async (file: string, days: number) => {
      await writeFile(join(folder, file), '{}\n');
      const at = new Date(now.getTime() - days * 86_400_000);
      await utimes(join(folder, file), at, at);
    };
    await aged('old-job.json', EXPORT_INPUTS_RETENTION_DAYS + 1);
    await aged('old-job.json.0badf00d.tmp', EXPORT_INPUTS_RETENTION_DAYS + 3);
    await aged('recent-job.json', EXPORT_INPUTS_RETENTION_DAYS - 1);
    const writer = new FileLakeInputsWriter({ lakeDir, clock: { now: () => now } });
    await writer.writeInputs('new-job', rowsNamed('N'));
    expect((await readdir(folder)).sort()).toEqual(['new-job.json', 'recent-job.json']);
    // The job being written is never swept, whatever the clock says.
    await new FileLakeInputsWriter({ lakeDir, clock: { now: () => new Date('2030-01-01T00:00:00Z') } }).writeInputs(
      'late-job',
      rowsNamed('L'),
    );
    expect(await readdir(folder)).toEqual(['late-job.json']);
  });
});
