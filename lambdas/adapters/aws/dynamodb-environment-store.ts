import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, paginateScan, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contract/state-table.ts';
import type { Environment } from '../../core/environments/environments.ts';
import type { EnvironmentStore } from '../../ports/environment-store.ts';

const ENV_SK = 'ENVIRONMENT';

/**
 * DynamoDB refuses a key value outside 1 to 2,048 bytes (Developer Guide,
 * "Constraints": partition key length) with a ValidationException, which would be a
 * 500 for a client's oversized key (a `Bearer` header may hold 10 KB). No stored key
 * is that long, so such a value is simply in no index.
 */
const MAX_PARTITION_KEY_BYTES = 2048;
const pk = (environmentId: string) => `ENV#${environmentId}`;

/** Environments in the state table (DynamoDB on AWS, dynalite locally: same adapter). */
export class DynamoDbEnvironmentStore implements EnvironmentStore {
  constructor(private readonly options: { readonly client: DynamoDBDocumentClient; readonly tableName: string }) {}

  async create(environment: Environment): Promise<void> {
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            [STATE_TABLE.partitionKey]: pk(environment.environment_id),
            [STATE_TABLE.sortKey]: ENV_SK,
            ...environment,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new Error(`environment ${environment.environment_id} already exists`);
      }
      throw error;
    }
  }

  async get(environmentId: string): Promise<Environment | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: { [STATE_TABLE.partitionKey]: pk(environmentId), [STATE_TABLE.sortKey]: ENV_SK },
      }),
    );
    return Item ? toEnvironment(Item) : undefined;
  }

  findByTrackingKey(trackingKey: string): Promise<Environment | undefined> {
    return this.findOne(STATE_TABLE.byTrackingKey, trackingKey);
  }

  findByApiKeyHash(apiKeyHash: string): Promise<Environment | undefined> {
    return this.findOne(STATE_TABLE.byApiKeyHash, apiKeyHash);
  }

  /**
   * A Scan of the tracking-key index, which holds exactly the environments (it is
   * sparse: no other item has a tracking key), reading their ids only.
   */
  async listIds(): Promise<string[]> {
    const ids: string[] = [];
    const pages = paginateScan(
      { client: this.options.client },
      {
        TableName: this.options.tableName,
        IndexName: STATE_TABLE.byTrackingKey.indexName,
        ProjectionExpression: '#id',
        ExpressionAttributeNames: { '#id': 'environment_id' },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) if (typeof item.environment_id === 'string') ids.push(item.environment_id);
    }
    return ids.sort();
  }

  private async findOne(
    index: { readonly indexName: string; readonly partitionKey: string },
    value: string,
  ): Promise<Environment | undefined> {
    if (value === '' || Buffer.byteLength(value, 'utf8') > MAX_PARTITION_KEY_BYTES) return undefined;
    const { Items } = await this.options.client.send(
      new QueryCommand({
        TableName: this.options.tableName,
        IndexName: index.indexName,
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeNames: { '#k': index.partitionKey },
        ExpressionAttributeValues: { ':v': value },
        Limit: 1,
      }),
    );
    const item = Items?.[0];
    return item ? toEnvironment(item) : undefined;
  }
}

function toEnvironment(item: Record<string, unknown>): Environment {
  return {
    environment_id: String(item.environment_id),
    name: String(item.name),
    plan: item.plan as Environment['plan'],
    app_token: String(item.app_token),
    tracking_key: String(item.tracking_key),
    api_key_hash: String(item.api_key_hash),
    created_at: String(item.created_at),
  };
}
