import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { SigV4S3Gateway } from '../../lambdas/adapters/local/sigv4-s3-gateway.ts';

/** The access key id the customer's bucket service knows (besides s3rver's own S3RVER). */
export const CUSTOMER_ACCESS_KEY_ID = 'CUSTOMER-AKID-7Q2X';

// s3rver checks only that an access key id is registered (not the secret, nor the
// SigV4 signature). Registering the customer's makes "unknown access key" real.
const require = createRequire(import.meta.url);
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js') as {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
};
DUMMY_ACCOUNT.createKeyPair(CUSTOMER_ACCESS_KEY_ID, 'not checked by s3rver');

/**
 * A second s3rver, standing for the customer's S3-compatible service (an R2 or a
 * MinIO at a `custom` endpoint): not the stack's own. `client` looks inside it as
 * its owner would.
 */
export async function startCustomerS3(buckets: readonly string[]) {
  const directory = await mkdtemp(join(tmpdir(), 'featurelake-customer-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    client,
    async keys(bucket: string): Promise<string[]> {
      const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return Contents.map((object) => object.Key ?? '').sort();
    },
    async text(bucket: string, key: string): Promise<string> {
      const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await Body?.transformToString('utf8')) ?? '';
    },
    async createBucket(bucket: string): Promise<void> {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    /** Empties the bucket, then deletes it (as a customer cleaning up would). */
    async deleteBucket(bucket: string): Promise<void> {
      const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      if (Contents.length > 0) {
        await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: Contents.map((o) => ({ Key: o.Key })) } }),
        );
      }
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
    async close(): Promise<void> {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * The customer's S3-compatible service as a real one behaves: s3rver behind the
 * stack's SigV4 gateway (lambdas/adapters/local/sigv4-s3-gateway.ts), holding the
 * customer's one key pair, so a wrong secret is refused with SignatureDoesNotMatch
 * and an unknown key with InvalidAccessKeyId, as AWS, R2 or MinIO would. Region `auto`.
 * `client` looks inside it as its owner would (straight to s3rver, over its socket).
 */
export async function startSigningCustomerS3(buckets: readonly string[], secretAccessKey: string) {
  const directory = await mkdtemp(join(tmpdir(), 'featurelake-customer-s3-'));
  const socket = join(directory, 's3.sock');
  const server = new S3rver({
    // A pipe path in place of a port: s3rver passes it to server.listen as it is.
    port: socket as unknown as number,
    silent: true,
    directory: join(directory, 'data'),
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  await server.run();
  const gateway = new SigV4S3Gateway({
    credentials: { accessKeyId: CUSTOMER_ACCESS_KEY_ID, secretAccessKey },
    region: 'auto',
    upstreamSocket: socket,
  });
  const endpoint = await gateway.listen(0, '127.0.0.1');
  const client = new S3Client({
    endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: { accessKeyId: CUSTOMER_ACCESS_KEY_ID, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    async keys(bucket: string): Promise<string[]> {
      const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return Contents.map((object) => object.Key ?? '').sort();
    },
    async text(bucket: string, key: string): Promise<string> {
      const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await Body?.transformToString('utf8')) ?? '';
    },
    async close(): Promise<void> {
      client.destroy();
      await gateway.close();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An HTTP server that answers everything with an HTML page: an endpoint that is not S3. */
export async function startNotS3(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * An endpoint whose bucket listing never ends: a 200 with the start of a real
 * ListBucketResult, then `<Contents>` entries up to `totalBytes`, written as fast as
 * the reader takes them (chunked, or with a Content-Length header when asked).
 * `completed` tells whether the reader took it all; `connections` counts who came.
 */
export async function startHugeListing(options: { totalBytes: number; announceLength?: boolean }) {
  const entry = Buffer.from(`<Contents><Key>fl/${'x'.repeat(200)}.csv</Key><Size>1</Size></Contents>`);
  const head = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>customer-exports</Name>',
  );
  const state = { connections: 0, completed: false, written: 0 };
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/xml',
      ...(options.announceLength ? { 'content-length': String(options.totalBytes) } : {}),
    });
    let written = 0;
    const pump = () => {
      while (written < options.totalBytes) {
        const chunk = written === 0 ? head : entry.subarray(0, Math.min(entry.length, options.totalBytes - written));
        written += chunk.length;
        state.written = written;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end(() => {
        state.completed = true;
      });
    };
    res.on('error', () => undefined);
    pump();
  });
  return listenCountingConnections(server, state);
}

/**
 * An endpoint that accepts connections and reads requests but never answers.
 * `connections` counts the connections made to it (a refused endpoint gets none).
 */
export async function startSilentEndpoint() {
  const state = { connections: 0, requests: 0 };
  const server: Server = createServer(() => {
    state.requests += 1;
  });
  return listenCountingConnections(server, state);
}

/** Listens on a loopback port, counting connections in `state`; close() cuts open connections first. */
async function listenCountingConnections<T extends { connections: number }>(server: Server, state: T) {
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
