import { readFile } from 'node:fs/promises';
import type { LookupFunction } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnEndpoint } from '../../lambdas/adapters/aws/customer-endpoint-http.ts';
import {
  awsCustomerBuckets,
  S3CustomerBuckets,
  type S3CustomerBucketsOptions,
} from '../../lambdas/adapters/aws/s3-customer-buckets.ts';
import {
  type BucketTarget,
  bucketTarget,
  CUSTOMER_ENDPOINT_LIMITS,
  CustomerBucketError,
} from '../../lambdas/core/automatic-export/customer-bucket.ts';
import {
  CUSTOMER_ACCESS_KEY_ID,
  startCustomerS3,
  startHugeListing,
  startSilentEndpoint,
} from '../support/customer-s3.ts';

/**
 * Every read from a customer's endpoint is bounded in bytes and time, and a
 * customer endpoint is never the stack's own storage (DESIGN "Input rules that
 * keep the store safe"). Real little HTTP servers on 127.0.0.1 play the hostile
 * endpoints; DNS is an injected `lookup`, so no traffic leaves this machine.
 */
const credentials = { accessKeyId: CUSTOMER_ACCESS_KEY_ID, secretAccessKey: 'customer-secret' };
const custom = (endpoint: string, bucket = 'customer-exports', prefix = 'fl/'): BucketTarget =>
  bucketTarget({ provider: 'custom', bucket, region: 'auto', prefix, endpoint, bucket_url: null });
const local = (options: Partial<S3CustomerBucketsOptions> = {}) =>
  new S3CustomerBuckets({ addresses: { privateAddresses: 'allow' }, ...options });

async function failure(promise: Promise<unknown>): Promise<CustomerBucketError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CustomerBucketError);
  return error as CustomerBucketError;
}

/** A DNS stand-in: every name resolves to `address` (both call forms net uses). */
function resolvesTo(address: string): LookupFunction {
  const family = address.includes(':') ? 6 : 4;
  return ((_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

describe('bytes: an answer past the limit is refused as soon as it passes it', () => {
  it('a chunked listing that never ends (no Content-Length) stops at the limit', async () => {
    const huge = await startHugeListing({ totalBytes: 256 * 1024 * 1024 });
    try {
      const error = await failure(local().verify(custom(huge.endpoint), credentials));
      expect(error.kind).toBe('too_large');
      expect(error.message).toBe(
        `The answer of ${huge.endpoint} was too large: more than 1 MiB, where an S3 bucket listing takes a few kilobytes. Check the endpoint URL.`,
      );
      expect(error.retryable).toBe(false);
      // The reader hung up: the server never got to write the rest.
      expect(huge.state.completed).toBe(false);
      expect(huge.state.written).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await huge.close();
    }
  });

  it('an answer announcing a huge Content-Length is refused before its body is read', async () => {
    const huge = await startHugeListing({ totalBytes: 300 * 1024 * 1024, announceLength: true });
    try {
      const error = await failure(local({ maxAnswerBytes: 64 * 1024 }).verify(custom(huge.endpoint), credentials));
      expect(error.kind).toBe('too_large');
      expect(error.message).toMatch(/was too large: more than 64 KiB/);
      expect(huge.state.completed).toBe(false);
    } finally {
      await huge.close();
    }
  });

  it('a delivery whose endpoint answers without end fails, not retried', async () => {
    const huge = await startHugeListing({ totalBytes: 256 * 1024 * 1024 });
    try {
      const error = await failure(
        local().upload(custom(huge.endpoint), credentials, 'fl/x.csv', Readable.from(['a,b\n']), 'text/csv'),
      );
      expect(error.kind).toBe('too_large');
      expect(error.retryable).toBe(false);
      expect(huge.state.completed).toBe(false);
    } finally {
      await huge.close();
    }
  });
});

describe('time: connecting and answering have deadlines', () => {
  it('an endpoint that accepts and never answers fails after the answer timeout', async () => {
    const silent = await startSilentEndpoint();
    try {
      const buckets = local({ verifyTimeouts: { connectMs: 1_000, answerMs: 300 } });
      const error = await failure(buckets.verify(custom(silent.endpoint), credentials));
      expect(error.kind).toBe('timeout');
      expect(error.message).toBe(
        `${silent.endpoint} did not answer within 300 ms. Check the endpoint, and that it is an S3-compatible API reachable from here.`,
      );
      expect(silent.state.requests).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it('a connection that is never made fails after the connect timeout', async () => {
    // A lookup that never answers: the socket stays "connecting", and no packet leaves.
    const hanging = (() => undefined) as LookupFunction;
    const buckets = local({
      addresses: { privateAddresses: 'allow', lookup: hanging },
      verifyTimeouts: { connectMs: 200, answerMs: 5_000 },
    });
    const error = await failure(buckets.verify(custom('http://exports.customer.example:9000'), credentials));
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/^Could not connect to http:\/\/exports\.customer\.example:9000 within 200 ms\./);
  });

  it('the defaults are the ones docs/automatic-exports.md states', async () => {
    const { verify, upload, maxAnswerBytes } = CUSTOMER_ENDPOINT_LIMITS;
    expect(new S3CustomerBuckets().limits).toEqual(CUSTOMER_ENDPOINT_LIMITS);
    const docs = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'automatic-exports.md'), 'utf8');
    const flat = docs.replace(/\s+/g, ' ');
    expect(verify).toEqual({ connectMs: 5_000, answerMs: 10_000 });
    expect(flat).toContain('5 s to connect and 10 s for the whole answer');
    expect(upload).toEqual({ connectMs: 10_000, answerMs: 300_000 });
    expect(flat).toContain('10 s to connect and 5 minutes for each request');
    expect(maxAnswerBytes).toBe(1024 * 1024);
    expect(flat).toContain('at most 1 MiB of any answer');
  });
});

describe('addresses: never the stack’s own storage, and on AWS nothing private', () => {
  let own: Awaited<ReturnType<typeof startCustomerS3>>;
  let customer: Awaited<ReturnType<typeof startCustomerS3>>;
  let ownEndpoints: () => OwnEndpoint[];
  beforeAll(async () => {
    // `own` stands for the stack's s3rver (any secret lists it); `customer` for a developer's local S3.
    [own, customer] = await Promise.all([
      startCustomerS3(['featurelake-exports']),
      startCustomerS3(['customer-exports']),
    ]);
    const port = Number(new URL(own.endpoint).port);
    ownEndpoints = () => [{ host: '127.0.0.1', port, name: 'storage' }];
  });
  afterAll(async () => {
    await own?.close();
    await customer?.close();
  });

  const ownSpellings = (port: number) => [
    `http://127.0.0.1:${port}`,
    `http://127.1:${port}`,
    `http://2130706433:${port}`,
    `http://0x7f.0.0.1:${port}`,
    `http://0.0.0.0:${port}`,
    `http://localhost:${port}`,
    `http://LOCALHOST.:${port}`,
    `http://[::1]:${port}`,
    `http://[::ffff:127.0.0.1]:${port}`,
    `http://[0:0:0:0:0:0:0:1]:${port}`,
  ];

  it('refuses every spelling of the own storage’s address, locally, before anything is sent', async () => {
    const buckets = local({ addresses: { privateAddresses: 'allow', ownEndpoints: () => ownEndpoints() } });
    const port = Number(new URL(own.endpoint).port);
    for (const endpoint of ownSpellings(port)) {
      const error = await failure(buckets.verify(custom(endpoint, 'featurelake-exports', ''), credentials));
      expect(error.kind, endpoint).toBe('forbidden_address');
      expect(error.message, endpoint).toMatch(
        / is this server's own storage \(.+\), which is never a delivery target\.$/,
      );
      expect(error.retryable).toBe(false);
    }
    // With no own endpoints named, the same address lists (any secret passes s3rver): the guard is what refuses.
    await expect(local().verify(custom(own.endpoint, 'featurelake-exports', ''), credentials)).resolves.toBeUndefined();
  });

  it('refuses a DNS name that resolves to the own storage (checked on the address connected to)', async () => {
    const buckets = local({
      addresses: { privateAddresses: 'allow', ownEndpoints: () => ownEndpoints(), lookup: resolvesTo('127.0.0.1') },
    });
    const port = Number(new URL(own.endpoint).port);
    const endpoint = `http://exports.customer.example:${port}`;
    const error = await failure(buckets.verify(custom(endpoint, 'featurelake-exports', ''), credentials));
    expect(error.kind).toBe('forbidden_address');
    expect(error.message).toBe(
      `${endpoint} is this server's own storage (127.0.0.1:${port}), which is never a delivery target.`,
    );
  });

  it('locally, a developer’s S3 server on another loopback port still works', async () => {
    const buckets = local({ addresses: { privateAddresses: 'allow', ownEndpoints: () => ownEndpoints() } });
    await expect(buckets.verify(custom(customer.endpoint), credentials)).resolves.toBeUndefined();
    await buckets.upload(custom(customer.endpoint), credentials, 'fl/ok.csv', Readable.from(['a\n']), 'text/csv');
    expect(await customer.text('customer-exports', 'fl/ok.csv')).toBe('a\n');
  });

  it('as the AWS handlers compose it, loopback and private addresses are refused, named or not', async () => {
    const silent = await startSilentEndpoint();
    try {
      const deny = awsCustomerBuckets();
      for (const endpoint of [silent.endpoint, `http://localhost:${silent.port}`, `http://[::1]:${silent.port}`]) {
        const error = await failure(deny.verify(custom(endpoint), credentials));
        expect(error.kind, endpoint).toBe('forbidden_address');
        expect(error.message, endpoint).toMatch(
          / resolves to a private address \(.+, loopback\); automatic exports go only to public addresses\.$/,
        );
      }
      for (const [address, words] of [
        ['10.1.2.3', 'private network'],
        ['169.254.169.254', 'link-local'],
        ['fd00::1', 'unique local'],
      ] as const) {
        const error = await failure(
          deny.verify(custom(`http://${address.includes(':') ? `[${address}]` : address}:9000`), credentials),
        );
        expect(error.message).toContain(`, ${words});`);
      }
      // A public-looking name that resolves to loopback: refused at connect time, no connection made.
      const lying = new S3CustomerBuckets({ addresses: { privateAddresses: 'deny', lookup: resolvesTo('127.0.0.1') } });
      const endpoint = `http://r2.customer.example:${silent.port}`;
      const error = await failure(lying.verify(custom(endpoint), credentials));
      expect(error.kind).toBe('forbidden_address');
      expect(error.message).toBe(
        `${endpoint} resolves to a private address (127.0.0.1, loopback); automatic exports go only to public addresses.`,
      );
      expect(silent.state.connections).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it('locally with FEATURELAKE_PRIVATE_ENDPOINTS=deny, a developer’s local S3 server is refused too', async () => {
    const buckets = new S3CustomerBuckets({
      addresses: { privateAddresses: 'deny', ownEndpoints: () => ownEndpoints() },
    });
    const error = await failure(buckets.verify(custom(customer.endpoint), credentials));
    expect(error.message).toMatch(/resolves to a private address \(127\.0\.0\.1, loopback\)/);
  });

  it('a delivery to a name whose DNS changed to a forbidden address fails clearly and writes nothing', async () => {
    const port = Number(new URL(own.endpoint).port);
    const buckets = local({
      addresses: {
        privateAddresses: 'allow',
        ownEndpoints: () => ownEndpoints(),
        lookup: resolvesTo('::ffff:127.0.0.1'),
      },
    });
    const error = await failure(
      buckets.upload(
        custom(`http://exports.customer.example:${port}`, 'featurelake-exports', 'other-env/'),
        credentials,
        'other-env/company-export-2025-12-01.csv',
        Readable.from(['planted\n']),
        'text/csv',
      ),
    );
    expect(error.kind).toBe('forbidden_address');
    expect(error.retryable).toBe(false);
    expect(await own.keys('featurelake-exports')).toEqual([]);
  });
});
