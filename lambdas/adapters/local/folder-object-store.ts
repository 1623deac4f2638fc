import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange, ObjectStore } from '../../ports/object-store.ts';
import type { ResultFiles } from './duckdb-athena-task.ts';

/**
 * Objects as files under a folder (`<root>/<bucket>/<key>`), for the one local bucket
 * no person downloads from: the query results the Athena stand-in writes and an
 * export step reads once. s3rver runs in the stack's own process, so every byte
 * through it crosses the event loop twice (request and response) and is hashed; a
 * 10M-event export's results are ~4 GB of CSV, which made s3rver the slowest
 * stage of the local export. Buckets users download from stay on s3rver.
 */
export class FolderObjectStore implements Pick<ObjectStore, 'read' | 'write'>, ResultFiles {
  private readonly root: string;

  constructor(
    private readonly options: {
      readonly root: string;
      /**
       * Delete an object once it has been read to the end. On AWS a lifecycle rule
       * expires query results; here each result is read exactly once, by its step.
       */
      readonly removeAfterRead?: boolean;
    },
  ) {
    this.root = resolve(options.root);
  }

  async read(bucket: string, key: string, range?: ByteRange): Promise<Readable> {
    const path = this.path(bucket, key);
    // Opened here, not lazily by the stream: a missing object rejects this call, and no
    // open can fail later on a stream whose reader has gone.
    const handle = await open(path, 'r');
    const stream = handle.createReadStream({
      highWaterMark: 1024 * 1024,
      // createReadStream's end is inclusive.
      ...(range ? { start: range.start, end: range.end - 1 } : {}),
    });
    if (this.options.removeAfterRead) stream.once('end', () => void rm(path, { force: true }));
    return stream;
  }

  async write(bucket: string, key: string, body: Readable | Buffer | string): Promise<void> {
    await this.replace(bucket, key, (partial) =>
      pipeline(
        typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([body]) : body,
        createWriteStream(partial),
      ),
    );
  }

  /**
   * A finished file (the Athena stand-in's result) as the object: the kernel copies
   * it, no byte crosses the event loop, and no stream is left on `source`, which the
   * caller removes once this settles.
   */
  async writeFile(bucket: string, key: string, source: string): Promise<void> {
    await this.replace(bucket, key, (partial) => copyFile(source, partial));
  }

  /** Writes beside the object and renames it into place, so a reader never sees half of it. */
  private async replace(bucket: string, key: string, fill: (partial: string) => Promise<void>): Promise<void> {
    const path = this.path(bucket, key);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.partial`;
    try {
      await fill(partial);
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  private path(bucket: string, key: string): string {
    const path = resolve(join(this.root, bucket, key));
    if (!path.startsWith(`${this.root}${sep}`) || key.split('/').includes('..')) {
      throw new Error(`object key outside the store: ${bucket}/${key}`);
    }
    return path;
  }
}
