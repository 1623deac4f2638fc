import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3CustomerBuckets } from '../../lambdas/adapters/aws/s3-customer-buckets.ts';
import {
  type BucketTarget,
  bucketTarget,
  CustomerBucketError,
} from '../../lambdas/core/automatic-export/customer-bucket.ts';
import { CUSTOMER_ACCESS_KEY_ID, closedPort, startCustomerS3, startNotS3 } from '../support/customer-s3.ts';

/**
 * The customer-bucket adapter against a second s3rver standing for the customer's
 * service, and through an SDK mock for what s3rver cannot answer (it checks no
 * signature and no permission).
 */
let customer: Awaited<ReturnType<typeof startCustomerS3>>;
// Private addresses allowed, as in the local stack: the customer's s3rver listens on 127.0.0.1.
const buckets = new S3CustomerBuckets({ partSize: 5 * 1024 * 1024, addresses: { privateAddresses: 'allow' } });
const credentials = { accessKeyId: CUSTOMER_ACCESS_KEY_ID, secretAccessKey: 'customer-secret' };

const custom = (endpoint: string, bucket = 'customer-exports', prefix = 'fl/'): BucketTarget =>
  bucketTarget({ provider: 'custom', bucket, region: 'auto', prefix, endpoint, bucket_url: null });

async function failure(promise: Promise<unknown>): Promise<CustomerBucketError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CustomerBucketError);
  return error as CustomerBucketError;
}

beforeAll(async () => {
  customer = await startCustomerS3(['customer-exports']);
});
afterAll(async () => {
  await customer?.close();
});

describe('S3CustomerBuckets against an S3-compatible endpoint (s3rver)', () => {
  it('verifies a bucket the keys can list, with or without a prefix', async () => {
    await expect(buckets.verify(custom(customer.endpoint), credentials)).resolves.toBeUndefined();
    await expect(
      buckets.verify(custom(customer.endpoint, 'customer-exports', ''), credentials),
    ).resolves.toBeUndefined();
  });

  it('names an unknown access key', async () => {
    const error = await failure(
      buckets.verify(custom(customer.endpoint), { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'x' }),
    );
    expect(error.kind).toBe('unknown_access_key');
    expect(error.message).toBe(`${customer.endpoint} does not know the access key id "NOT-A-KEY".`);
    expect(error.retryable).toBe(false);
  });

  it('names a bucket that does not exist', async () => {
    const error = await failure(buckets.verify(custom(customer.endpoint, 'no-such-bucket'), credentials));
    expect(error.kind).toBe('no_such_bucket');
    expect(error.message).toBe(`There is no bucket "no-such-bucket" at ${customer.endpoint}.`);
  });

  it('names an endpoint nothing answers on', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const error = await failure(buckets.verify(custom(endpoint), credentials));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(new RegExp(`^Could not reach ${endpoint} \\(ECONNREFUSED\\)`));
    expect(error.retryable).toBe(true);
  });

  it('names an endpoint that answers, but not as S3', async () => {
    const web = await startNotS3();
    try {
      const error = await failure(buckets.verify(custom(web.endpoint), credentials));
      expect(error.kind).toBe('not_s3');
      expect(error.message).toMatch(/but not as an S3-compatible API does/);
    } finally {
      await web.close();
    }
  });

  it('uploads a multipart file byte for byte (no checksum framing inside the object)', async () => {
    // 11 MiB in 5 MiB parts: three parts, the last one short.
    const body = randomBytes(11 * 1024 * 1024);
    await buckets.upload(custom(customer.endpoint), credentials, 'fl/big.csv', Readable.from([body]), 'text/csv');
    const stored = await customer.client.send(new GetObjectCommand({ Bucket: 'customer-exports', Key: 'fl/big.csv' }));
    const bytes = Buffer.from((await stored.Body?.transformToByteArray()) ?? []);
    expect(bytes.length).toBe(body.length);
    expect(bytes.equals(body)).toBe(true);
  });

  it('overwrites the same key on a second upload (a re-run never duplicates)', async () => {
    const target = custom(customer.endpoint);
    await buckets.upload(target, credentials, 'fl/company-export-2025-12-01.csv', Readable.from(['first']), 'text/csv');
    await buckets.upload(
      target,
      credentials,
      'fl/company-export-2025-12-01.csv',
      Readable.from(['second']),
      'text/csv',
    );
    expect(await customer.text('customer-exports', 'fl/company-export-2025-12-01.csv')).toBe('second');
    expect((await customer.keys('customer-exports')).filter((k) => k.includes('2025-12-01'))).toEqual([
      'fl/company-export-2025-12-01.csv',
    ]);
  });

  it('an upload into a bucket that is gone fails as "no such bucket", not retryable', async () => {
    const error = await failure(
      buckets.upload(
        custom(customer.endpoint, 'gone-bucket'),
        credentials,
        'fl/x.csv',
        Readable.from(['x']),
        'text/csv',
      ),
    );
    expect(error.kind).toBe('no_such_bucket');
    expect(error.retryable).toBe(false);
  });
});

describe('S3CustomerBuckets, failures s3rver cannot produce (SDK mock)', () => {
  // Made in beforeAll, not while collecting: a mock made then would also answer the s3rver tests above.
  let s3: ReturnType<typeof mockClient>;
  beforeAll(() => {
    s3 = mockClient(S3Client);
  });
  afterEach(() => s3.reset());
  afterAll(() => s3.restore());

  const s3Error = (name: string, status: number, message: string) =>
    new S3ServiceException({
      name,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status },
      message,
    });

  it('a wrong secret is SignatureDoesNotMatch: named, not retried', async () => {
    s3.on(ListObjectsV2Command).rejects(
      s3Error(
        'SignatureDoesNotMatch',
        403,
        'The request signature we calculated does not match the signature you provided.',
      ),
    );
    const error = await failure(buckets.verify(custom('https://r2.example.com'), credentials));
    expect(error.kind).toBe('wrong_secret');
    expect(error.message).toBe(
      `The secret access key is not the one of access key id "${CUSTOMER_ACCESS_KEY_ID}": https://r2.example.com rejected the request signature.`,
    );
    expect(error.facts.code).toBe('SignatureDoesNotMatch');
  });

  it('a key without the permission is AccessDenied', async () => {
    s3.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403, 'Access Denied'));
    const error = await failure(buckets.verify(custom('https://r2.example.com'), credentials));
    expect(error.kind).toBe('access_denied');
    expect(error.message).toMatch(
      /^Access denied: the access key "CUSTOMER-AKID-7Q2X" may not list or write s3:\/\/customer-exports\/fl\//,
    );
  });

  it('throttling and 5xx are retryable', async () => {
    s3.on(ListObjectsV2Command).rejects(s3Error('SlowDown', 503, 'Please reduce your request rate.'));
    expect((await failure(buckets.verify(custom('https://r2.example.com'), credentials))).retryable).toBe(true);
    s3.on(ListObjectsV2Command).rejects(s3Error('InternalError', 500, 'We encountered an internal error.'));
    expect((await failure(buckets.verify(custom('https://r2.example.com'), credentials))).kind).toBe('server_error');
  });

  it('a bucket in another AWS region says which, and the URL to use', async () => {
    const redirect = s3Error(
      'PermanentRedirect',
      301,
      'The bucket you are attempting to access must be addressed using the specified endpoint.',
    );
    Object.assign(redirect, { $response: { headers: { 'x-amz-bucket-region': 'eu-west-1' } } });
    s3.on(ListObjectsV2Command).rejects(redirect);
    const target = bucketTarget({
      provider: 'aws',
      bucket: 'acme',
      region: 'us-east-1',
      prefix: '',
      endpoint: null,
      bucket_url: 'https://acme.s3.us-east-1.amazonaws.com',
    });
    const error = await failure(buckets.verify(target, credentials));
    expect(error.message).toBe(
      'Bucket "acme" is in eu-west-1, not us-east-1: use https://acme.s3.eu-west-1.amazonaws.com.',
    );
  });

  it('multipart parts all have the configured size except the last (R2 refuses unequal parts)', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"e${input.PartNumber}"` }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const size = 5 * 1024 * 1024;
    // Delivered in odd-sized chunks, as a CSV stream is.
    const chunks = Array.from({ length: 23 }, (_, i) => Buffer.alloc(512 * 1024 + (i % 3) * 1000, i));
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    await buckets.upload(custom('https://r2.example.com'), credentials, 'fl/x.csv', Readable.from(chunks), 'text/csv');
    const parts = s3
      .commandCalls(UploadPartCommand)
      .map((call) => call.args[0].input)
      .sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0))
      .map((input) => (input.Body as Uint8Array).byteLength);
    expect(parts.length).toBe(Math.ceil(total / size));
    expect(parts.slice(0, -1).every((length) => length === size)).toBe(true);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'customer-exports',
      Key: 'fl/x.csv',
      ContentType: 'text/csv',
    });
  });
});
