import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAutomaticExportStore } from '../../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { S3CustomerBuckets } from '../../lambdas/adapters/aws/s3-customer-buckets.ts';
import { ApiGatewayServer, type LambdaHttpHandler } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { FileKeySecretBox } from '../../lambdas/adapters/local/file-key-secret-box.ts';
import { type HandlerName, ROUTES } from '../../lambdas/contract/routes.ts';
import { newEnvironment } from '../../lambdas/core/environments/environments.ts';
import { makeHandler } from '../../lambdas/handlers/automatic-exports.ts';
import { http, type InMemoryStateTable, inMemoryStateTable, tempHome } from '../support/local-stack.ts';

/**
 * The settings API over dynalite with the real S3 adapter, its S3 client mocked:
 * the failures only a real provider gives (a wrong secret, a key without the
 * permission), and the AWS provider, whose endpoint is AWS's own.
 */
const TABLE = 'automatic-exports-test';
const SECRET = 'aws-SECRET-a81f-never-echoed';
const now = new Date('2025-11-30T10:00:00.000Z');

let state: InMemoryStateTable;
let api: ApiGatewayServer;
let url: string;
let home: string;
let s3: AwsClientStub<S3Client>;
let apiKey: string;

const put = (body: unknown) =>
  http(`${url}/api/v1/company-exports/automatic`, {
    method: 'PUT',
    headers: { authorization: `Token ${apiKey}` },
    body,
  });
const get = () => http(`${url}/api/v1/company-exports/automatic`, { headers: { authorization: `Token ${apiKey}` } });

const aws = (overrides: Record<string, unknown> = {}) => ({
  enabled: true,
  cadence: 'daily',
  provider: 'aws',
  bucket_url: 'https://exports.acme.com.s3.eu-west-1.amazonaws.com/featurelake/daily',
  access_key_id: 'AKIAEXAMPLE1',
  secret_access_key: SECRET,
  ...overrides,
});

const s3Error = (name: string, status: number, message: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });

/** The keys the (mocked) S3 client signed its last request with. */
async function lastCredentials() {
  const call = s3.commandCalls(ListObjectsV2Command).at(-1);
  const signer = call?.thisValue as S3Client;
  const credentials = await signer.config.credentials();
  return {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    region: await signer.config.region(),
  };
}

beforeAll(async () => {
  home = await tempHome();
  state = await inMemoryStateTable(TABLE);
  const documents = state.documents;
  const environments = new DynamoDbEnvironmentStore({ client: documents, tableName: TABLE });
  const { stored, created } = newEnvironment({ name: 'acme', plan: 'enterprise' }, now);
  await environments.create(stored);
  apiKey = created.api_key;
  const handler = makeHandler({
    environments,
    settings: new DynamoDbAutomaticExportStore({ client: documents, tableName: TABLE }),
    secrets: await FileKeySecretBox.open(join(home, 'secret-box.key')),
    buckets: new S3CustomerBuckets(),
    clock: { now: () => now },
  });
  api = new ApiGatewayServer(
    ROUTES.filter((route) => route.handler === 'automatic-exports'),
    { 'automatic-exports': handler } as unknown as Record<HandlerName, LambdaHttpHandler>,
  );
  url = await api.listen(0);
  s3 = mockClient(S3Client);
});

afterEach(() => s3.reset());

afterAll(async () => {
  s3?.restore();
  await api?.close();
  await state?.close();
  await rm(home, { recursive: true, force: true });
});

describe('PUT /api/v1/company-exports/automatic, provider aws', () => {
  it('lists the bucket in the URL’s region under its key, with the given keys, then saves', async () => {
    s3.on(ListObjectsV2Command).resolves({ Name: 'exports.acme.com', KeyCount: 0 });
    const saved = await put(aws());
    expect(saved.status, saved.text).toBe(200);
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toEqual({
      Bucket: 'exports.acme.com',
      Prefix: 'featurelake/daily/',
    });
    expect(await lastCredentials()).toEqual({
      accessKeyId: 'AKIAEXAMPLE1',
      secretAccessKey: SECRET,
      region: 'eu-west-1',
    });
    expect(saved.body).toMatchObject({
      provider: 'aws',
      bucket_url: 'https://exports.acme.com.s3.eu-west-1.amazonaws.com/featurelake/daily',
      bucket: 'exports.acme.com',
      region: 'eu-west-1',
      key: 'featurelake/daily',
      endpoint: null,
      secret_access_key_set: true,
      // AWS fires at 00:15 UTC, after Firehose has written the day's last records.
      status: { last_status: 'never ran before', next_run_at: '2025-12-01T00:15:00.000Z' },
    });
    expect(saved.text).not.toContain(SECRET);
  });

  it('a wrong secret is a 400 on secret_access_key, and nothing changes', async () => {
    const before = (await get()).body;
    s3.on(ListObjectsV2Command).rejects(
      s3Error(
        'SignatureDoesNotMatch',
        403,
        'The request signature we calculated does not match the signature you provided.',
      ),
    );
    const refused = await put(aws({ access_key_id: 'AKIAOTHER', secret_access_key: 'wrong' }));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      errors: [
        {
          error: 'Bad Request',
          error_code: '400',
          message:
            'The secret access key is not the one of access key id "AKIAOTHER": AWS S3 (eu-west-1) rejected the request signature.',
          details:
            'SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.',
          field: 'secret_access_key',
        },
      ],
    });
    expect((await get()).body).toEqual(before);
  });

  it('a key without the permission is a 400 on access_key_id, and nothing changes', async () => {
    const before = (await get()).body;
    s3.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403, 'Access Denied'));
    const refused = await put(
      aws({ bucket_url: 'https://other.s3.eu-west-1.amazonaws.com', access_key_id: 'AKIANOPE' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatchObject({
      message:
        'Access denied: the access key "AKIANOPE" may not list or write s3://other/ at AWS S3 (eu-west-1). It needs s3:ListBucket on the bucket and s3:PutObject on the prefix.',
      details: 'AccessDenied: Access Denied',
      field: 'access_key_id',
    });
    expect((await get()).body).toEqual(before);
  });

  it('switched off, settings are stored without a listing; switched on, the stored secret is checked again', async () => {
    const off = await put({ enabled: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, bucket: 'exports.acme.com', status: { next_run_at: null } });
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);

    s3.on(ListObjectsV2Command).resolves({ Name: 'exports.acme.com' });
    const on = await put({ enabled: true });
    expect(on.status, on.text).toBe(200);
    expect(on.body.enabled).toBe(true);
    // The stored secret, opened from its sealed form, signed the check.
    expect(await lastCredentials()).toMatchObject({ accessKeyId: 'AKIAEXAMPLE1', secretAccessKey: SECRET });
  });

  it('keeps the stored secret when the same key is saved without one, and refuses it for another key', async () => {
    s3.on(ListObjectsV2Command).resolves({ Name: 'exports.acme.com' });
    const { secret_access_key: _s, ...withoutSecret } = aws({ cadence: 'weekly' });
    const kept = await put(withoutSecret);
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body).toMatchObject({ cadence: 'weekly', secret_access_key_set: true });
    expect(await lastCredentials()).toMatchObject({ secretAccessKey: SECRET });

    const refused = await put({ ...withoutSecret, access_key_id: 'AKIANEW' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatchObject({
      field: 'secret_access_key',
      details: 'secret_access_key: is required when access_key_id changes',
    });
  });
});
