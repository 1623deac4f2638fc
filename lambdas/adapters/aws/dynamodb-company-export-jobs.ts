import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { COMPANY_EXPORT_RETENTION_DAYS, type CompanyExportJob } from '../../core/company-export-job.ts';
import { STATE_TABLE } from '../../core/contract.ts';
import type { CompanyExportJobs } from '../../ports/company-export-jobs.ts';

const key = (environmentId: string, jobId: string) => ({
  [STATE_TABLE.partitionKey]: `ENV#${environmentId}`,
  [STATE_TABLE.sortKey]: `COMPANY_EXPORT#${jobId}`,
});

/** Jobs in the state table, one item each; state changes are single-item conditional writes (dynalite has no transactions). */
export class DynamoDbCompanyExportJobs implements CompanyExportJobs {
  constructor(private readonly options: { readonly client: DynamoDBDocumentClient; readonly tableName: string }) {}

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
      new GetCommand({ TableName: this.options.tableName, Key: key(environmentId, jobId) }),
    );
    if (!Item) return undefined;
    // DynamoDB's TTL deletes late (dynalite never does): expiry is checked on read.
    const expires = Item[STATE_TABLE.ttlAttribute];
    if (typeof expires === 'number' && expires * 1000 <= Date.now()) return undefined;
    const {
      [STATE_TABLE.partitionKey]: _pk,
      [STATE_TABLE.sortKey]: _sk,
      [STATE_TABLE.ttlAttribute]: _ttl,
      ...job
    } = Item;
    return job as CompanyExportJob;
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

  markFailed(environmentId: string, jobId: string, result: { error: string; completed_at: string }) {
    return this.finish(environmentId, jobId, {
      status: 'failed',
      error: result.error,
      completed_at: result.completed_at,
    });
  }

  private async finish(environmentId: string, jobId: string, fields: Record<string, unknown>): Promise<void> {
    const names = Object.keys(fields);
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: key(environmentId, jobId),
        UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: {
          '#pk': STATE_TABLE.partitionKey,
          ...Object.fromEntries(names.map((n, i) => [`#f${i}`, n])),
        },
        ExpressionAttributeValues: Object.fromEntries(names.map((n, i) => [`:v${i}`, fields[n]])),
      }),
    );
  }
}
