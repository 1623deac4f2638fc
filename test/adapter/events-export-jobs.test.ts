import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import { SesMailer, type SesV2Like } from '../../lambdas/adapters/aws/ses-mailer.ts';
import { OutboxMailer } from '../../lambdas/adapters/local/outbox-mailer.ts';
import { STATE_TABLE } from '../../lambdas/contract/state-table.ts';
import { newEventsExportJob } from '../../lambdas/core/events-export/job.ts';
import { eventsExportRequest } from '../../lambdas/core/events-export/request.ts';
import { type InMemoryStateTable, inMemoryStateTable } from '../support/local-stack.ts';

let state: InMemoryStateTable;
let jobs: DynamoDbEventsExportJobs;
let documents: DynamoDBDocumentClient;
const TABLE = 'state';

beforeAll(async () => {
  state = await inMemoryStateTable(TABLE);
  documents = state.documents;
  jobs = new DynamoDbEventsExportJobs({ client: documents, tableName: TABLE });
});
afterAll(async () => {
  await state?.close();
});

const at = (iso: string) => new Date(iso);
const newJob = (jobId: string, environmentId: string, body: Record<string, unknown> = {}) =>
  newEventsExportJob({
    jobId,
    environmentId,
    appToken: 'FL-1',
    request: eventsExportRequest.parse({ from: '2025-11-30', to: '2025-12-02', ...body }),
    now: at('2025-12-10T10:00:00Z'),
  });

describe('DynamoDbEventsExportJobs (dynalite)', () => {
  it('a lock taken over after its run died is stored under the new holder, expiring (TTL) at its time', async () => {
    await jobs.acquireExportLock('env-dead', 'dead', at('2025-12-10T16:05:00Z'), at('2025-12-10T10:00:00Z'));
    await jobs.acquireExportLock('env-dead', 'next', at('2025-12-11T16:05:00Z'), at('2025-12-10T16:05:00Z'));
    await jobs.releaseExportLock('env-dead', 'dead');
    const { Item } = await documents.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'ENV#env-dead', sk: 'EVENTS_EXPORT_LOCK' } }),
    );
    expect(Item).toMatchObject({
      job_id: 'next',
      [STATE_TABLE.ttlAttribute]: Date.parse('2025-12-11T16:05:00Z') / 1000,
    });
  });

  it('stores a job with a TTL 3 days after creation, records chunks once each, and finishes it once', async () => {
    const job = newJob('job-a', 'env-jobs', { user_id: ["' OR 1=1 --"], segment_id: undefined });
    await jobs.create(job);
    await expect(jobs.create(job)).rejects.toThrow();
    const { Item } = await documents.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'ENV#env-jobs', sk: 'EVENTS_EXPORT#job-a' } }),
    );
    expect(Item?.[STATE_TABLE.ttlAttribute]).toBe(Date.parse('2025-12-13T10:00:00Z') / 1000);
    expect(await jobs.get('env-jobs', 'job-a')).toEqual(job);
    expect(await jobs.get('env-other', 'job-a')).toBeUndefined();

    await jobs.recordChunk('env-jobs', 'job-a', '2025-12-01');
    await jobs.recordChunk('env-jobs', 'job-a', '2025-11-24');
    await jobs.recordChunk('env-jobs', 'job-a', '2025-12-01');
    expect((await jobs.get('env-jobs', 'job-a'))?.completed_chunks).toEqual(['2025-11-24', '2025-12-01']);
    await expect(jobs.recordChunk('env-jobs', 'missing', '2025-12-01')).rejects.toThrow();

    expect(await jobs.markCompleted('env-jobs', 'job-a', '2025-12-10T10:01:00.000Z')).toBe(true);
    // A completed job is not turned failed by a late failure path, nor completed twice.
    expect(
      await jobs.markFailed('env-jobs', 'job-a', { error: 'late', completed_at: '2025-12-10T10:02:00.000Z' }),
    ).toBe(false);
    expect(await jobs.markCompleted('env-jobs', 'job-a', '2025-12-10T10:03:00.000Z')).toBe(false);
    expect(await jobs.get('env-jobs', 'job-a')).toMatchObject({
      status: 'completed',
      completed_at: '2025-12-10T10:01:00.000Z',
      error: null,
    });
  });

  it('lists every job of the environment and only those, past one page', async () => {
    const many = Array.from({ length: 30 }, (_, i) => newJob(`list-${String(i).padStart(2, '0')}`, 'env-list', {}));
    // Large enough items that dynalite pages the query (1 MB pages).
    for (const job of many) await jobs.create({ ...job, all_chunks: Array.from({ length: 4000 }, () => '2025-11-24') });
    await jobs.create(newJob('elsewhere', 'env-list-2'));
    const listed = await jobs.list('env-list');
    expect(listed.map((j) => j.job_id).sort()).toEqual(many.map((j) => j.job_id));
  });
});

describe('mailers', () => {
  const message = {
    to: ['a@example.com', 'b@example.com'],
    subject: 'Your featurelake export 2025-11-30 to 2025-12-02 is ready',
    text: 'line one\nline two',
  };

  it('the outbox writes one .eml per message, readable by a mail client', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'featurelake-outbox-'));
    try {
      await new OutboxMailer({
        dir,
        from: 'featurelake <exports@featurelake.local>',
        clock: { now: () => at('2025-12-10T10:00:00Z') },
      }).send(message);
      const files = await readdir(dir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^2025-12-10T10-00-00-000Z-.*\.eml$/);
      const eml = await readFile(join(dir, files[0] as string), 'utf8');
      expect(eml).toContain('From: featurelake <exports@featurelake.local>\r\n');
      expect(eml).toContain('To: a@example.com, b@example.com\r\n');
      expect(eml).toContain(`Subject: ${message.subject}\r\n`);
      expect(eml).toContain('Date: Wed, 10 Dec 2025 10:00:00 +0000\r\n');
      expect(eml.endsWith('\r\n\r\nline one\r\nline two\r\n')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('SES gets one SendEmail with every recipient, from the verified identity', async () => {
    const sent: unknown[] = [];
    const ses: SesV2Like = {
      sendEmail: async (input) => {
        sent.push(input);
        return { MessageId: 'm-1' };
      },
    };
    await new SesMailer({ client: ses, from: 'exports@example.com' }).send(message);
    expect(sent).toEqual([
      {
        FromEmailAddress: 'exports@example.com',
        Destination: { ToAddresses: ['a@example.com', 'b@example.com'] },
        Content: {
          Simple: {
            Subject: { Data: message.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
          },
        },
      },
    ]);
  });
});
