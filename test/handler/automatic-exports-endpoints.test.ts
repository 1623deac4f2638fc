import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAutomaticExportStore } from '../../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { S3CustomerBuckets } from '../../lambdas/adapters/aws/s3-customer-buckets.ts';
import { ApiGatewayServer, type LambdaHttpHandler } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { FileKeySecretBox } from '../../lambdas/adapters/local/file-key-secret-box.ts';
import { type HandlerName, ROUTES } from '../../lambdas/contract/routes.ts';
import { newEnvironment } from '../../lambdas/core/environments/environments.ts';
import { makeHandler } from '../../lambdas/handlers/automatic-exports.ts';
import {
  CUSTOMER_ACCESS_KEY_ID,
  startCustomerS3,
  startHugeListing,
  startSilentEndpoint,
} from '../support/customer-s3.ts';
import { http, type InMemoryStateTable, inMemoryStateTable, tempHome } from '../support/local-stack.ts';

/**
 * The settings API with the real customer-bucket adapter over real sockets, against
 * endpoints that answer without end, never answer, or are this server's own storage:
 * each is a 400 naming `endpoint`, and nothing is saved. (The adapter's own tests
 * cover the address rules in detail; this is what a user of the API sees.)
 */
const TABLE = 'automatic-exports-endpoints-test';
const now = new Date('2025-11-30T10:00:00.000Z');

let state: InMemoryStateTable;
let api: ApiGatewayServer;
let url: string;
let home: string;
let apiKey: string;
let own: Awaited<ReturnType<typeof startCustomerS3>>;
let ownPort: number;

const put = (body: unknown) =>
  http(`${url}/api/v1/company-exports/automatic`, {
    method: 'PUT',
    headers: { authorization: `Token ${apiKey}` },
    body,
  });
const get = () => http(`${url}/api/v1/company-exports/automatic`, { headers: { authorization: `Token ${apiKey}` } });
const custom = (endpoint: string) => ({
  enabled: true,
  cadence: 'daily',
  provider: 'custom',
  endpoint,
  bucket: 'featurelake-exports',
  access_key_id: CUSTOMER_ACCESS_KEY_ID,
  secret_access_key: 'any secret at all',
});

beforeAll(async () => {
  home = await tempHome();
  state = await inMemoryStateTable(TABLE);
  // Stands for the stack's own s3rver: it lists for any secret.
  own = await startCustomerS3(['featurelake-exports']);
  ownPort = Number(new URL(own.endpoint).port);
  const environments = new DynamoDbEnvironmentStore({ client: state.documents, tableName: TABLE });
  const { stored, created } = newEnvironment({ name: 'acme', plan: 'enterprise' }, now);
  await environments.create(stored);
  apiKey = created.api_key;
  const handler = makeHandler({
    environments,
    settings: new DynamoDbAutomaticExportStore({ client: state.documents, tableName: TABLE }),
    secrets: await FileKeySecretBox.open(join(home, 'secret-box.key')),
    // As the local stack composes it, with a short answer timeout so that the test is quick.
    buckets: new S3CustomerBuckets({
      verifyTimeouts: { connectMs: 1_000, answerMs: 500 },
      addresses: { privateAddresses: 'allow', ownEndpoints: () => [{ host: '127.0.0.1', port: ownPort }] },
    }),
    clock: { now: () => now },
  });
  api = new ApiGatewayServer(
    ROUTES.filter((route) => route.handler === 'automatic-exports'),
    { 'automatic-exports': handler } as unknown as Record<HandlerName, LambdaHttpHandler>,
  );
  url = await api.listen(0);
});

afterAll(async () => {
  await api?.close();
  await own?.close();
  await state?.close();
  await rm(home, { recursive: true, force: true });
});

function expectEndpointRefused(response: Awaited<ReturnType<typeof put>>, message: RegExp) {
  expect(response.status, response.text).toBe(400);
  expect(response.body.errors).toHaveLength(1);
  expect(response.body.errors[0]).toMatchObject({ error: 'Bad Request', error_code: '400', field: 'endpoint' });
  expect(response.body.errors[0].message).toMatch(message);
}

describe('PUT /api/v1/company-exports/automatic against hostile endpoints', () => {
  it('a bucket listing without end is a 400 saying the answer was too large, and nothing is saved', async () => {
    const huge = await startHugeListing({ totalBytes: 300 * 1024 * 1024 });
    try {
      expectEndpointRefused(await put(custom(huge.endpoint)), /^The answer of .+ was too large: more than 1 MiB/);
      expect(huge.state.completed).toBe(false);
    } finally {
      await huge.close();
    }
    expect((await get()).body).toMatchObject({ enabled: false, endpoint: null });
  });

  it('an endpoint that never answers is a 400 after the answer timeout, not a 500', async () => {
    const silent = await startSilentEndpoint();
    try {
      expectEndpointRefused(await put(custom(silent.endpoint)), /did not answer within 500 ms/);
    } finally {
      await silent.close();
    }
  });

  it('this server’s own storage is a 400, in any spelling, even though it would list with any secret', async () => {
    for (const endpoint of [
      `http://127.0.0.1:${ownPort}`,
      `http://2130706433:${ownPort}`,
      `http://localhost:${ownPort}`,
      `http://[::ffff:127.0.0.1]:${ownPort}`,
    ]) {
      expectEndpointRefused(
        await put(custom(endpoint)),
        /is this server's own storage \(.+\), which is never a delivery target\.$/,
      );
    }
    expect((await get()).body).toMatchObject({ enabled: false, endpoint: null });
  });
});
