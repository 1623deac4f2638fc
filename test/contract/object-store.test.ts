import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import { FolderObjectStore } from '../../lambdas/adapters/local/folder-object-store.ts';
import { startLocalS3 } from '../support/local-s3.ts';
import { behavesAsAnObjectStore, behavesAsASigningObjectStore } from './object-store.contract.ts';

const BUCKET = 'featurelake-exports';

let s3: Awaited<ReturnType<typeof startLocalS3>>;

// As the local stack runs S3: s3rver on a Unix socket, reached only through the SigV4 gateway.
beforeAll(async () => {
  s3 = await startLocalS3({ name: 'object-store', buckets: [BUCKET] });
});
afterAll(async () => {
  await s3?.close();
});

behavesAsASigningObjectStore('S3ObjectStore (s3rver behind the SigV4 gateway)', () => ({
  store: new S3ObjectStore({ client: s3.client }),
  bucket: BUCKET,
}));
behavesAsAnObjectStore('FolderObjectStore', () => ({
  store: new FolderObjectStore({ root: join(s3.folder, 'results') }),
  bucket: 'results',
}));
