import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { newEnvironment } from '../../lambdas/core/environments/environments.ts';
import { inMemoryStateTable } from '../support/local-stack.ts';

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

describe('DynamoDbEnvironmentStore over dynalite: listing and key replacement', () => {
  it('lists every environment across Scan pages, oldest first, and nothing else of the table', async () => {
    const state = await inMemoryStateTable('environments-list');
    try {
      const small = new DynamoDbEnvironmentStore({
        client: state.documents,
        tableName: 'environments-list',
        listPageSize: 2,
      });
      const made = [];
      for (let i = 0; i < 5; i += 1) {
        const { stored } = newEnvironment({ name: `env ${i}`, plan: 'free' }, new Date(Date.UTC(2026, 0, 1 + i)));
        await small.create(stored);
        made.push(stored);
      }
      // Another kind of item in the same table (a catalog entry) is not an environment.
      await state.documents.send(
        new PutCommand({
          TableName: 'environments-list',
          Item: { pk: `ENV#${made[0]?.environment_id}`, sk: 'FEATURE#x' },
        }),
      );
      const scans: number[] = [];
      state.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'ScanCommand') scans.push(1);
          return next(args);
        },
        { step: 'initialize' },
      );
      expect(await small.list()).toEqual(made);
      // Five items two by two: three pages at least (the last may be followed by an empty one).
      expect(scans.length).toBeGreaterThanOrEqual(3);
    } finally {
      await state.close();
    }
  });

  it('replaces the API key hash only while it is the expected one', async () => {
    const state = await inMemoryStateTable('environments-rotate');
    try {
      const envs = new DynamoDbEnvironmentStore({ client: state.documents, tableName: 'environments-rotate' });
      const { stored } = newEnvironment({ name: 'rotating', plan: 'pro' }, new Date());
      await envs.create(stored);
      expect(await envs.replaceApiKeyHash(stored.environment_id, stored.api_key_hash, 'new-hash')).toBe(true);
      expect(await envs.findByApiKeyHash(stored.api_key_hash)).toBeUndefined();
      expect((await envs.findByApiKeyHash('new-hash'))?.environment_id).toBe(stored.environment_id);
      // A second replacement from the old hash (a concurrent request) loses.
      expect(await envs.replaceApiKeyHash(stored.environment_id, stored.api_key_hash, 'other-hash')).toBe(false);
      expect((await envs.get(stored.environment_id))?.api_key_hash).toBe('new-hash');
      expect(await envs.replaceApiKeyHash('no-such-environment', 'x', 'y')).toBe(false);
    } finally {
      await state.close();
    }
  });
});
