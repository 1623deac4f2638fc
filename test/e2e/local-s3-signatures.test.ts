import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_EXPORTS_BUCKET } from '../../bin/local.ts';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import { http, startTestStack, tempHome } from '../support/local-stack.ts';

/**
 * The local stack's S3 refuses what AWS would refuse (issue 9, finding 5): every
 * request to it is checked for a valid AWS Signature V4, over real HTTP, as a
 * person holding (or guessing at) a download link would try it. And the stack's
 * storage listens on no TCP port but the verifying one.
 */

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let portsBefore: Set<number>;
let link: URL;

/** The TCP ports this process listens on (Linux: its socket inodes matched against /proc/net/tcp{,6}). */
function listeningTcpPorts(): Set<number> {
  if (!existsSync('/proc/self/fd')) return new Set();
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed while listing
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // st 0A = LISTEN; field 9 is the inode
      if (fields[3] === '0A' && fields[9] && inodes.has(fields[9])) {
        ports.add(Number.parseInt(fields[1]?.split(':')[1] ?? '', 16));
      }
    }
  }
  return ports;
}

async function s3Error(response: Response): Promise<{ status: number; code: string; message: string }> {
  const text = await response.text();
  return {
    status: response.status,
    code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? text,
    message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '',
  };
}

function withParam(url: URL, name: string, value: string): string {
  const changed = new URL(url);
  changed.searchParams.set(name, value);
  return changed.toString();
}

beforeAll(async () => {
  portsBefore = listeningTcpPorts();
  stack = await startTestStack();
  const created = await http(`${stack.url}/admin/v1/environments`, {
    headers: { authorization: `Bearer ${stack.adminToken}` },
    body: { name: 'signatures', plan: 'enterprise' },
  });
  expect(created.status, created.text).toBe(201);
  const started = await http(`${stack.url}/api/v1/company-exports`, {
    headers: { authorization: `Token ${created.body.api_key}` },
    body: { aggregation: 'today' },
  });
  expect(started.status, started.text).toBe(202);
  await stack.workflowsIdle();
  const job = await http(`${stack.url}${started.body.links}`, {
    headers: { authorization: `Token ${created.body.api_key}` },
  });
  expect(job.body.status, job.text).toBe('completed');
  // The API's link redirects to a URL presigned for the stack's S3: that URL is what these tests forge.
  const redirect = await fetch(job.body.download_url, { redirect: 'manual' });
  expect(redirect.status).toBe(302);
  link = new URL(redirect.headers.get('location') as string);
});
afterAll(async () => {
  await stack?.cleanup();
});

describe('download links of the local S3', () => {
  it('a valid presigned link from a completed export downloads', async () => {
    const response = await fetch(link);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^Company ID,Company Name,/);
  });

  it('the same link with one character of its signature changed is 403 SignatureDoesNotMatch', async () => {
    const signature = link.searchParams.get('X-Amz-Signature') ?? '';
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    const forged = `${signature.slice(0, 10)}${signature[10] === 'a' ? 'b' : 'a'}${signature.slice(11)}`;
    expect(await s3Error(await fetch(withParam(link, 'X-Amz-Signature', forged)))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('the same link with X-Amz-Expires raised is 403, and past 7 days is refused', async () => {
    expect(await s3Error(await fetch(withParam(link, 'X-Amz-Expires', '604800')))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    const tooLong = await s3Error(await fetch(withParam(link, 'X-Amz-Expires', '604801')));
    expect(tooLong.status).toBeGreaterThanOrEqual(400);
    expect(tooLong.status).toBeLessThan(500);
    expect(tooLong.code).toBe('AuthorizationQueryParametersError');
  });

  it('an expired link (validly signed) is 403 "Request has expired"', async () => {
    const client = stack.s3Client();
    const expired = await getSignedUrl(
      client,
      new GetObjectCommand({
        Bucket: link.pathname.split('/')[1],
        Key: decodeURIComponent(link.pathname.split('/').slice(2).join('/')),
      }),
      {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 2 * 60 * 60_000),
      },
    );
    client.destroy();
    expect(await s3Error(await fetch(expired))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });

  it('an unsigned GET of the object is 403 AccessDenied', async () => {
    expect(await s3Error(await fetch(`${link.origin}${link.pathname}`))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    });
  });

  it('an anonymous listing of the exports bucket is 403 and names no file', async () => {
    const response = await fetch(`${link.origin}/${LOCAL_EXPORTS_BUCKET}?list-type=2`);
    const text = await response.clone().text();
    expect(await s3Error(response)).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(text).not.toContain('<Key>');
  });

  it('the V2 query form (Signature, AWSAccessKeyId) is not accepted', async () => {
    const url = `${link.origin}${link.pathname}?AWSAccessKeyId=S3RVER&Expires=${Math.floor(Date.now() / 1000) + 600}&Signature=x`;
    const response = await fetch(url);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe('clients of the local S3', () => {
  const bucket = () => link.pathname.split('/')[1] ?? '';

  it('a client with the right access key id but a wrong secret is refused (403 SignatureDoesNotMatch)', async () => {
    for (const secretAccessKey of ['S3RVER', 'not-the-secret']) {
      const client = new S3Client({
        endpoint: link.origin,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      const error = await client.send(new ListObjectsV2Command({ Bucket: bucket() })).catch((e: unknown) => e);
      client.destroy();
      expect(error).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    }
  });

  it("the stack's own client lists, and writes a multipart object through the gateway, streamed", async () => {
    const client = stack.s3Client();
    const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket() }));
    expect(Contents.map((o) => o.Key)).toContain(decodeURIComponent(link.pathname.split('/').slice(2).join('/')));
    const store = new S3ObjectStore({ client, partSize: 5 * 1024 * 1024 });
    const part = Buffer.alloc(1024 * 1024, 'featurelake ');
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 11; i++) yield part;
      })(),
    );
    await store.write(bucket(), 'gateway-test/multipart.txt', body, 'text/plain');
    const read = await store.read(bucket(), 'gateway-test/multipart.txt');
    let bytes = 0;
    for await (const chunk of read) bytes += (chunk as Buffer).length;
    expect(bytes).toBe(11 * part.length);
    client.destroy();
  });
});

describe("the stack's storage is not reachable over TCP from outside the process", () => {
  // Read from /proc: Linux only (elsewhere the socket-folder test below still runs).
  it.skipIf(!existsSync('/proc/net/tcp'))(
    'the stack listens on no TCP port but its API and its verifying S3 port',
    async () => {
      const ours = [...listeningTcpPorts()].filter((port) => !portsBefore.has(port)).sort();
      const api = Number(new URL(stack.url).port);
      const s3 = Number(link.port);
      expect(ours).toEqual([api, s3].sort());
      expect(stack.storagePorts).toEqual([s3]);
    },
  );

  it('dynalite and s3rver listen on sockets in a folder only this user enters, removed when the stack stops', async () => {
    const folder = readFileSync(join(stack.home, 'sockets-folder'), 'utf8').trim();
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    for (const socket of ['dynamodb.sock', 's3.sock']) {
      expect((await stat(join(folder, socket))).isSocket()).toBe(true);
    }
    // A stack killed with -9 leaves its folder behind: the next start in that home removes it.
    const home = await tempHome();
    const left = await mkdtemp(join(tmpdir(), 'featurelake-sockets-'));
    await writeFile(join(home, 'sockets-folder'), `${left}\n`);
    const next = await startTestStack({ home });
    const nextFolder = readFileSync(join(home, 'sockets-folder'), 'utf8').trim();
    expect(existsSync(left)).toBe(false);
    expect(existsSync(nextFolder)).toBe(true);
    await next.cleanup();
    expect(existsSync(nextFolder)).toBe(false);
  });

  it('the local S3 and DynamoDB secret is random per home, in a file only its owner reads', async () => {
    const file = join(stack.home, 'local-storage-credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { secretAccessKey } = JSON.parse(readFileSync(file, 'utf8')) as { secretAccessKey: string };
    expect(secretAccessKey).not.toBe('S3RVER');
    expect(secretAccessKey.length).toBeGreaterThanOrEqual(32);
    // …and the stack's DynamoDB answers its own client.
    const dynamo = stack.dynamoClient();
    const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
    expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toContain('featurelake-state');
    dynamo.destroy();
  });
});
