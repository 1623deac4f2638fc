import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { COMPANY_EXPORT_RETENTION_DAYS } from '../../contract/exports.ts';
import { STATE_TABLE } from '../../contract/state-table.ts';
import type { CompanyExportJob } from '../../core/company-export/job.ts';
import type { CompanyExportJobs } from '../../ports/company-export-jobs.ts';
import { DynamoDbExportLock } from './dynamodb-export-lock.ts';

const JOB_PREFIX = 'COMPANY_EXPORT#';
/** Not under JOB_PREFIX. */
const LOCK_SORT_KEY = 'COMPANY_EXPORT_LOCK';

const key = (environmentId: string, jobId: string) => ({
  [STATE_TABLE.partitionKey]: `ENV#${environmentId}`,
  [STATE_TABLE.sortKey]: `${JOB_PREFIX}${jobId}`,
});

/** Jobs in the state table, one item each; state changes are single-item conditional writes (dynalite has no transactions). */
export class DynamoDbCompanyExportJobs extends DynamoDbExportLock implements CompanyExportJobs {
  constructor(private readonly options: { readonly client: DynamoDBDocumentClient; readonly tableName: string }) {
    super({ ...options, sortKey: LOCK_SORT_KEY });
  }

  async create(job: CompanyExportJob): Promise<void> {
    const expires = Math.floor(Date.parse(job.created_at) / 1000) + COMPANY_EXPORT_RETENTION_DAYS * 86_400;
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: { ...key(job.environment_id, job.job_id), ...job, [STATE_TABLE.ttlAttribute]: expires },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      }),
    );
  }

  async get(environmentId: string, jobId: string): Promise<CompanyExportJob | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: key(environmentId, jobId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    // DynamoDB's TTL deletes late (dynalite never does): expiry is checked on read.
    const expires = Item[STATE_TABLE.ttlAttribute];
    if (typeof expires === 'number' && expires * 1000 <= Date.now()) return undefined;
    return toJob(Item);
  }

  async listRunning(): Promise<CompanyExportJob[]> {
    const jobs: CompanyExportJob[] = [];
    const pages = paginateScan(
      { client: this.options.client },
      {
        TableName: this.options.tableName,
        FilterExpression: 'begins_with(#sk, :prefix) AND #status = :running',
        ExpressionAttributeNames: { '#sk': STATE_TABLE.sortKey, '#status': 'status' },
        ExpressionAttributeValues: { ':prefix': JOB_PREFIX, ':running': 'running' },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) jobs.push(toJob(item));
    return jobs;
  }

  markCompleted(environmentId: string, jobId: string, result: { rows: number; csv_key: string; completed_at: string }) {
    return this.finish(environmentId, jobId, {
      status: 'completed',
      rows: result.rows,
      csv_key: result.csv_key,
      completed_at: result.completed_at,
      error: null,
    });
  }

  markFailed(
    environmentId: string,
    jobId: string,
    result: { error: string; completed_at: string },
    options: { onlyWhileRunning?: boolean } = {},
  ) {
    return this.finish(
      environmentId,
      jobId,
      { status: 'failed', error: result.error, completed_at: result.completed_at },
      options.onlyWhileRunning ?? false,
    );
  }

  /**
   * A job is completed only while running (one settled as failed, its run dead, stays
   * failed); it is failed from any state by its own run, only while running from outside.
   */
  private async finish(
    environmentId: string,
    jobId: string,
    fields: Record<string, unknown>,
    onlyWhileRunning = true,
  ): Promise<boolean> {
    const names = Object.keys(fields);
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: key(environmentId, jobId),
          UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
          ConditionExpression: onlyWhileRunning ? '#status = :running' : 'attribute_exists(#status)',
          ExpressionAttributeNames: {
            '#status': 'status',
            ...Object.fromEntries(names.map((n, i) => [`#f${i}`, n])),
          },
          ExpressionAttributeValues: {
            ...(onlyWhileRunning ? { ':running': 'running' } : {}),
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

function toJob(item: Record<string, unknown>): CompanyExportJob {
  const {
    [STATE_TABLE.partitionKey]: _pk,
    [STATE_TABLE.sortKey]: _sk,
    [STATE_TABLE.ttlAttribute]: _ttl,
    ...job
  } = item;
  return job as unknown as CompanyExportJob;
}
