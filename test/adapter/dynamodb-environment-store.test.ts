import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';

/**
 * DynamoDB answers a key condition on a value over 2,048 bytes (or empty) with a
 * ValidationException (Developer Guide, "Constraints"); dynalite does not, so the mock
 * plays DynamoDB here. A client's oversized key must be "unknown", never a 500.
 */
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const dynamodb = mockClient(documents);
const store = new DynamoDbEnvironmentStore({ client: documents, tableName: 'state' });

afterEach(() => dynamodb.reset());

function dynamoDbKeyLimits(): void {
  dynamodb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: { ':v': string } }) => {
    const bytes = Buffer.byteLength(input.ExpressionAttributeValues[':v'], 'utf8');
    if (bytes === 0 || bytes > 2048)
      throw Object.assign(new Error('Size of hashkey has exceeded the maximum size limit of 2048 bytes'), {
        name: 'ValidationException',
      });
    return { Items: [] };
  });
}

describe('DynamoDbEnvironmentStore key lookups', () => {
  it('finds no environment for a key too long (or empty) for DynamoDB, without asking it', async () => {
    dynamoDbKeyLimits();
    for (const key of ['x'.repeat(2049), 'é'.repeat(1025), '']) {
      await expect(store.findByTrackingKey(key)).resolves.toBeUndefined();
      await expect(store.findByApiKeyHash(key)).resolves.toBeUndefined();
    }
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('still asks DynamoDB for a key at the limit', async () => {
    dynamoDbKeyLimits();
    await expect(store.findByTrackingKey('x'.repeat(2048))).resolves.toBeUndefined();
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(1);
  });
});
