import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import { FolderObjectStore } from '../../lambdas/adapters/local/folder-object-store.ts';
import { SigV4S3Gateway } from '../../lambdas/adapters/local/sigv4-s3-gateway.ts';
import { behavesAsAnObjectStore, behavesAsASigningObjectStore } from './object-store.contract.ts';

const BUCKET = 'featurelake-exports';
const REGION = 'us-east-1';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'a-random-secret-of-the-contract-suite' };

let folder: string;
let s3rver: S3rver;
let gateway: SigV4S3Gateway;
let client: S3Client;

// As the local stack runs S3: s3rver on a Unix socket, reached only through the SigV4 gateway.
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'featurelake-object-store-'));
  const socket = join(folder, 's3.sock');
  s3rver = new S3rver({
    port: socket as unknown as number,
    silent: true,
    directory: join(folder, 's3'),
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  await s3rver.run();
  gateway = new SigV4S3Gateway({ credentials, region: REGION, upstreamSocket: socket });
  const endpoint = await gateway.listen(0, '127.0.0.1');
  client = new S3Client({
    endpoint,
    region: REGION,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});
afterAll(async () => {
  client?.destroy();
  await gateway?.close();
  await s3rver?.close();
  await rm(folder, { recursive: true, force: true });
});

behavesAsASigningObjectStore('S3ObjectStore (s3rver behind the SigV4 gateway)', () => ({
  store: new S3ObjectStore({ client }),
  bucket: BUCKET,
}));
behavesAsAnObjectStore('FolderObjectStore', () => ({
  store: new FolderObjectStore({ root: join(folder, 'results') }),
  bucket: 'results',
}));
