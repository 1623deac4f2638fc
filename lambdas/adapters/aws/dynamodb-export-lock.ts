import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contract/state-table.ts';
import type { ExportLock, ExportLockHolder } from '../../ports/export-lock.ts';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * An environment's export lock as one item of the state table, `ENV#<id>` / `sortKey`.
 * It carries the table's TTL attribute so DynamoDB deletes it in the end; since TTL
 * deletes late (and dynalite never), taking it checks the time itself. The job stores
 * extend it: each kind of export has its own lock item.
 */
export class DynamoDbExportLock implements ExportLock {
  constructor(
    private readonly lockTable: {
      readonly client: DynamoDBDocumentClient;
      readonly tableName: string;
      /** The lock item's sort key: not under any job prefix, so listing jobs never meets it. */
      readonly sortKey: string;
    },
  ) {}

  private key(environmentId: string) {
    return { [PK]: `ENV#${environmentId}`, [SK]: this.lockTable.sortKey };
  }

  async acquireExportLock(environmentId: string, jobId: string, until: Date, now: Date): Promise<boolean> {
    try {
      await this.lockTable.client.send(
        new PutCommand({
          TableName: this.lockTable.tableName,
          Item: {
            ...this.key(environmentId),
            job_id: jobId,
            acquired_at: now.toISOString(),
            [TTL]: epochSeconds(until),
          },
          // Free, or held by a run whose time is up (it died without releasing).
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#pk': PK, '#ttl': TTL },
          ExpressionAttributeValues: { ':now': epochSeconds(now) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async releaseExportLock(environmentId: string, jobId: string): Promise<void> {
    try {
      await this.lockTable.client.send(
        new DeleteCommand({
          TableName: this.lockTable.tableName,
          Key: this.key(environmentId),
          ConditionExpression: 'job_id = :job',
          ExpressionAttributeValues: { ':job': jobId },
        }),
      );
    } catch (error) {
      // Not ours (any more): a later job took it after ours expired, or it is gone.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async exportLockHolder(environmentId: string): Promise<ExportLockHolder | undefined> {
    const { Item } = await this.lockTable.client.send(
      new GetCommand({ TableName: this.lockTable.tableName, Key: this.key(environmentId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      job_id: String(Item.job_id),
      acquired_at: typeof Item.acquired_at === 'string' ? Item.acquired_at : undefined,
    };
  }
}
