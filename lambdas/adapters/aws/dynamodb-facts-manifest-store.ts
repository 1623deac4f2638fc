import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { FACTS_MANIFEST_SORT_KEY, factsManifestPartitionKey } from '../../contract/facts.ts';
import { STATE_TABLE } from '../../contract/state-table.ts';
import type { FactsManifest } from '../../core/company-export/facts/manifest.ts';
import { FactsManifestConflictError } from '../../core/shared/errors.ts';
import type { FactsManifestStore } from '../../ports/company-facts.ts';

const key = (environmentId: string) => ({
  [STATE_TABLE.partitionKey]: factsManifestPartitionKey(environmentId),
  [STATE_TABLE.sortKey]: FACTS_MANIFEST_SORT_KEY,
});

/**
 * The facts manifest as one state-table item (DynamoDB on AWS, dynalite locally),
 * replaced whole by a PutItem conditioned on the version read: one write flips every
 * day of a build, and a concurrent commit loses instead of mixing two builds.
 */
export class DynamoDbFactsManifestStore implements FactsManifestStore {
  constructor(private readonly options: { readonly client: DynamoDBDocumentClient; readonly tableName: string }) {}

  async readFactsManifest(environmentId: string): Promise<FactsManifest | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: key(environmentId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      version: Number(Item.version),
      watermark: typeof Item.watermark === 'string' ? Item.watermark : null,
      spans: (Item.spans ?? []) as FactsManifest['spans'],
      builds: (Item.builds ?? {}) as FactsManifest['builds'],
      retired: (Item.retired ?? {}) as FactsManifest['retired'],
    };
  }

  async commitFactsManifest(environmentId: string, expectedVersion: number, next: FactsManifest): Promise<void> {
    if (next.version !== expectedVersion + 1) {
      throw new RangeError(`a facts manifest commit goes from version ${expectedVersion} to ${expectedVersion + 1}`);
    }
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            ...key(environmentId),
            version: next.version,
            ...(next.watermark === null ? {} : { watermark: next.watermark }),
            spans: next.spans,
            builds: next.builds,
            retired: next.retired,
          },
          ...(expectedVersion === 0
            ? {
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
              }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new FactsManifestConflictError(environmentId, expectedVersion);
      throw error;
    }
  }
}
