import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contract/state-table.ts';
import { type EventsExportJob, jobExpiry } from '../../core/events-export/job.ts';
import type { EventsExportJobs } from '../../ports/events-export-jobs.ts';
import { DynamoDbExportLock } from './dynamodb-export-lock.ts';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
const JOB_PREFIX = 'EVENTS_EXPORT#';
/** Not under JOB_PREFIX, so listing jobs never meets it. */
const LOCK_SORT_KEY = 'EVENTS_EXPORT_LOCK';

const partition = (environmentId: string) => `ENV#${environmentId}`;
const jobKey = (environmentId: string, jobId: string) => ({
  [PK]: partition(environmentId),
  [SK]: `${JOB_PREFIX}${jobId}`,
});
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Events export jobs in the state table: one item per job, and one lock item per
 * environment. Both carry the table's TTL attribute so DynamoDB deletes them in
 * the end; since TTL deletes late (and dynalite never), callers judge expiry.
 */
export class DynamoDbEventsExportJobs extends DynamoDbExportLock implements EventsExportJobs {
  constructor(private readonly options: { readonly client: DynamoDBDocumentClient; readonly tableName: string }) {
    super({ ...options, sortKey: LOCK_SORT_KEY });
  }

  async create(job: EventsExportJob): Promise<void> {
    const { completed_chunks: _none, ...item } = job;
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.tableName,
        // A JSON round trip drops undefined fields (an absent segment_id), which DynamoDB refuses.
        Item: {
          ...jobKey(job.environment_id, job.job_id),
          ...JSON.parse(JSON.stringify(item)),
          [TTL]: epochSeconds(jobExpiry(job)),
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      }),
    );
  }

  async get(environmentId: string, jobId: string): Promise<EventsExportJob | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: jobKey(environmentId, jobId), ConsistentRead: true }),
    );
    return Item ? toJob(Item) : undefined;
  }

  async list(environmentId: string): Promise<EventsExportJob[]> {
    const jobs: EventsExportJob[] = [];
    const pages = paginateQuery(
      { client: this.options.client },
      {
        TableName: this.options.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': partition(environmentId), ':prefix': JOB_PREFIX },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) jobs.push(toJob(item));
    return jobs;
  }

  async listRunning(): Promise<EventsExportJob[]> {
    const jobs: EventsExportJob[] = [];
    const pages = paginateScan(
      { client: this.options.client },
      {
        TableName: this.options.tableName,
        FilterExpression: 'begins_with(#sk, :prefix) AND #status = :running',
        ExpressionAttributeNames: { '#sk': SK, '#status': 'status' },
        ExpressionAttributeValues: { ':prefix': JOB_PREFIX, ':running': 'running' },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) jobs.push(toJob(item));
    return jobs;
  }

  async recordChunk(environmentId: string, jobId: string, week: string): Promise<void> {
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: jobKey(environmentId, jobId),
        // A string set: adding a week twice leaves one, so a retried step is harmless.
        UpdateExpression: 'ADD completed_chunks :week',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':week': new Set([week]) },
      }),
    );
  }

  markCompleted(environmentId: string, jobId: string, completedAt: string): Promise<boolean> {
    return this.finish(environmentId, jobId, { status: 'completed', completed_at: completedAt, error: null });
  }

  markFailed(environmentId: string, jobId: string, result: { error: string; completed_at: string }): Promise<boolean> {
    return this.finish(environmentId, jobId, { status: 'failed', ...result });
  }

  private async finish(environmentId: string, jobId: string, fields: Record<string, unknown>): Promise<boolean> {
    const names = Object.keys(fields);
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: jobKey(environmentId, jobId),
          UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: {
            '#status': 'status',
            ...Object.fromEntries(names.map((n, i) => [`#f${i}`, n])),
          },
          ExpressionAttributeValues: {
            ':running': 'running',
            ...Object.fromEntries(names.map((n, i) => [`:v${i}`, fields[n]])),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function toJob(item: Record<string, unknown>): EventsExportJob {
  const { [PK]: _pk, [SK]: _sk, [TTL]: _ttl, completed_chunks: chunks, ...job } = item;
  const completed = chunks instanceof Set ? [...(chunks as Set<string>)].sort() : [];
  return { ...(job as Omit<EventsExportJob, 'completed_chunks'>), completed_chunks: completed };
}
