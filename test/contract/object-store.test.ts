import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_SINGLE_PUT_MAX_BYTES, S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import { FolderObjectStore } from '../../lambdas/adapters/local/folder-object-store.ts';
import { startLocalS3 } from '../support/local-s3.ts';
import { behavesAsAnObjectStore, behavesAsASigningObjectStore } from './object-store.contract.ts';

const BUCKET = 'featurelake-exports';
const MiB = 1024 * 1024;

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
// As the local stack writes its export files: spooled, then one PUT.
behavesAsASigningObjectStore('S3ObjectStore spooling streams (the local stack)', () => ({
  store: new S3ObjectStore({ client: s3.client, spoolDir: join(s3.folder, 'spool') }),
  bucket: BUCKET,
}));
behavesAsAnObjectStore('FolderObjectStore', () => ({
  store: new FolderObjectStore({ root: join(s3.folder, 'results') }),
  bucket: 'results',
}));

describe('S3ObjectStore with a spool folder', () => {
  const spool = () => join(s3.folder, 'spool-cases');
  const body = (bytes: number) => Readable.from([Buffer.alloc(bytes, 'a')]);
  /** The S3 operations `write` sends (read off the client's middleware stack). */
  async function commandsOf(write: () => Promise<void>): Promise<string[]> {
    const sent: string[] = [];
    s3.client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    try {
      await write();
    } finally {
      s3.client.middlewareStack.remove('recordCommands');
    }
    return sent;
  }

  it('holds S3’s single-PUT limit: one PutObject up to 5 GB, a multipart upload past it', async () => {
    expect(S3_SINGLE_PUT_MAX_BYTES).toBe(5 * 1024 ** 3);
    const small = new S3ObjectStore({ client: s3.client, spoolDir: spool() });
    expect(await commandsOf(() => small.write(BUCKET, 'spooled/one-put.csv', body(6 * MiB), 'text/csv'))).toEqual([
      'PutObjectCommand',
    ]);
    // The same body past a (lowered) limit: parts of 5 MiB.
    const capped = new S3ObjectStore({
      client: s3.client,
      spoolDir: spool(),
      singlePutMaxBytes: 5 * MiB,
      partSize: 5 * MiB,
    });
    expect(await commandsOf(() => capped.write(BUCKET, 'spooled/parts.csv', body(6 * MiB), 'text/csv'))).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
    for (const key of ['spooled/one-put.csv', 'spooled/parts.csv']) {
      expect(await text(await small.read(BUCKET, key))).toBe('a'.repeat(6 * MiB));
    }
    // Without a spool folder a stream of unknown length goes in parts, as on AWS.
    const plain = new S3ObjectStore({ client: s3.client, partSize: 5 * MiB });
    expect(await commandsOf(() => plain.write(BUCKET, 'plain.csv', body(6 * MiB), 'text/csv'))).toContain(
      'CompleteMultipartUploadCommand',
    );
    expect(await readdir(spool())).toEqual([]);
  });

  it('leaves no spooled file and no object when the stream fails', async () => {
    const store = new S3ObjectStore({ client: s3.client, spoolDir: spool() });
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(MiB, 'b'));
        this.destroy(new Error('the query result broke off'));
      },
    });
    await expect(store.write(BUCKET, 'spooled/broken.csv', failing, 'text/csv')).rejects.toThrow(/broke off/);
    expect(await readdir(spool())).toEqual([]);
    await expect(store.read(BUCKET, 'spooled/broken.csv')).rejects.toThrow();
  });
});
