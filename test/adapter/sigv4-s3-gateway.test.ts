import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { checkS3Signature, type SignedRequest, SigV4S3Gateway } from '../../lambdas/adapters/local/sigv4-s3-gateway.ts';

/**
 * The local S3 gateway's signature check on its own (the e2e suite
 * `local-s3-signatures` drives it over HTTP): requests signed by smithy's signer as
 * the SDK signs them, then changed the way an attacker or a broken client would.
 */

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'a-random-secret-of-the-home-0123456789' };
const region = 'us-east-1';
const now = new Date('2026-03-02T10:00:00Z');

class Sha256 {
  private hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data: string | Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {}
}

const signerFor = (secretAccessKey = credentials.secretAccessKey, signingRegion = region) =>
  new SignatureV4({
    credentials: { ...credentials, secretAccessKey },
    region: signingRegion,
    service: 's3',
    sha256: Sha256 as never,
    uriEscapePath: false,
  });

function target(request: { path: string; query?: Record<string, string> }): string {
  const query = new URLSearchParams(request.query ?? {}).toString().replace(/\+/g, '%20');
  return query ? `${request.path}?${query}` : request.path;
}

/** A PUT signed in the Authorization header, as the SDK clients of the stack send it. */
async function headerSigned(
  change: { secret?: string; region?: string; at?: Date; extraHeaders?: Record<string, string> } = {},
): Promise<SignedRequest> {
  const request = {
    method: 'PUT',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4568,
    path: '/featurelake-exports/env%3Da/file.csv',
    query: { 'x-id': 'PutObject' },
    headers: {
      host: '127.0.0.1:4568',
      'content-type': 'text/csv',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    },
  };
  const signed = await signerFor(change.secret, change.region).sign(request, { signingDate: change.at ?? now });
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'PUT', url: target(request), headers: { ...headers, ...change.extraHeaders } };
}

/** A GET link presigned as `getSignedUrl` makes it. */
async function presigned(): Promise<SignedRequest> {
  const signed = await signerFor().presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4568,
      path: '/featurelake-exports/a%20b/x~y%2Bz.csv',
      query: { 'response-content-disposition': 'attachment; filename="x.csv"', 'x-id': 'GetObject' },
      headers: { host: '127.0.0.1:4568', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { signingDate: now, expiresIn: 3600 },
  );
  return {
    method: 'GET',
    url: target({ path: signed.path, query: signed.query as Record<string, string> }),
    headers: { host: '127.0.0.1:4568' },
  };
}

const check = (request: SignedRequest, at = now) => checkS3Signature(request, { credentials, region, now: at });

describe('checkS3Signature, Authorization header form', () => {
  it('accepts a request signed with the stack credentials', async () => {
    expect(await check(await headerSigned())).toBeUndefined();
  });

  it('refuses another secret, another method or path, and an extra unsigned x-amz header', async () => {
    const signed = await headerSigned();
    expect(await check(await headerSigned({ secret: 'S3RVER' }))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    expect(await check({ ...signed, method: 'DELETE' })).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(await check({ ...signed, url: signed.url.replace('file.csv', 'other.csv') })).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    expect(await check({ ...signed, headers: { ...signed.headers, 'x-amz-acl': 'public-read' } })).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    });
  });

  it('refuses a request dated more than 15 minutes from now, and a wrong region', async () => {
    expect(await check(await headerSigned({ at: new Date(now.getTime() - 16 * 60_000) }))).toMatchObject({
      status: 403,
      code: 'RequestTimeTooSkewed',
    });
    expect(await check(await headerSigned({ region: 'eu-west-1' }))).toMatchObject({
      status: 400,
      code: 'AuthorizationHeaderMalformed',
    });
  });

  it('refuses Signature V2 and two auth mechanisms at once', async () => {
    const signed = await headerSigned();
    expect(
      await check({ ...signed, headers: { ...signed.headers, authorization: 'AWS S3RVER:c2lnbmF0dXJl' } }),
    ).toMatchObject({ status: 400, code: 'InvalidRequest' });
    const link = await presigned();
    expect(
      await check({ ...link, headers: { ...link.headers, authorization: signed.headers.authorization as string } }),
    ).toMatchObject({ status: 400, code: 'InvalidArgument' });
  });
});

describe('checkS3Signature, presigned query form', () => {
  it('accepts a link within its lifetime, refuses it after, and before its date', async () => {
    const link = await presigned();
    expect(await check(link, new Date(now.getTime() + 3599_000))).toBeUndefined();
    expect(await check(link, new Date(now.getTime() + 3601_000))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
    expect(await check(link, new Date(now.getTime() - 16 * 60_000))).toMatchObject({
      status: 403,
      message: 'Request is not yet valid',
    });
  });

  it('refuses a changed key, date or response header in the link', async () => {
    const link = await presigned();
    for (const [from, to] of [
      ['x~y%2Bz.csv', 'x~y%2Bq.csv'],
      ['X-Amz-Date=20260302T100000Z', 'X-Amz-Date=20260302T100500Z'],
      ['filename%3D%22x.csv%22', 'filename%3D%22y.csv%22'],
    ] as const) {
      expect(link.url).toContain(from);
      expect(await check({ ...link, url: link.url.replace(from, to) })).toMatchObject({ status: 403 });
    }
  });

  it('refuses an X-Amz-Expires that is not a number of seconds up to 7 days', async () => {
    const link = await presigned();
    for (const expires of ['0', '-1', 'abc', '604801']) {
      expect(
        await check({ ...link, url: link.url.replace('X-Amz-Expires=3600', `X-Amz-Expires=${expires}`) }),
      ).toMatchObject({
        status: 400,
        code: 'AuthorizationQueryParametersError',
      });
    }
  });
});

describe('SigV4S3Gateway over HTTP', () => {
  const clientOf = (endpoint: string) =>
    new S3Client({
      endpoint,
      region,
      credentials,
      forcePathStyle: true,
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });

  it('passes a signed request to the socket unchanged (target, headers, body) and streams the answer back', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'featurelake-gateway-'));
    const seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }> = [];
    const upstream = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({
          method: request.method,
          url: request.url,
          headers: request.headers,
          body: Buffer.concat(chunks).toString(),
        });
        response.writeHead(200, { etag: '"abc"' });
        response.end();
      });
    });
    await new Promise<void>((done) => upstream.listen(join(folder, 's3.sock'), done));
    const gateway = new SigV4S3Gateway({ credentials, region, upstreamSocket: join(folder, 's3.sock') });
    const client = clientOf(await gateway.listen(0, '127.0.0.1'));
    try {
      const put = await client.send(
        new PutObjectCommand({ Bucket: 'featurelake-exports', Key: 'env=a/ä b+c.csv', Body: 'a,b\n1,2\n' }),
      );
      expect(put.ETag).toBe('"abc"');
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({
        method: 'PUT',
        url: '/featurelake-exports/env%3Da/%C3%A4%20b%2Bc.csv?x-id=PutObject',
        body: 'a,b\n1,2\n',
      });
      expect(seen[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=S3RVER\//);
    } finally {
      client.destroy();
      await gateway.close();
      await new Promise<void>((done) => upstream.close(() => done()));
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("answers S3's 500 InternalError when nothing listens on the socket, and keeps serving", async () => {
    const gateway = new SigV4S3Gateway({
      credentials,
      region,
      upstreamSocket: join(tmpdir(), 'featurelake-no-such.sock'),
    });
    const client = clientOf(await gateway.listen(0, '127.0.0.1'));
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = await client.send(new ListObjectsV2Command({ Bucket: 'featurelake-exports' })).catch((e) => e);
        expect(error).toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      }
    } finally {
      client.destroy();
      await gateway.close();
    }
  });
});
