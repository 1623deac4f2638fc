import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';

export interface ObjectStoreSubject<S> {
  readonly store: S;
  /** A bucket that exists in the store. */
  readonly bucket: string;
}

type ReadWrite = Pick<ObjectStore, 'read' | 'write'>;

/**
 * The ObjectStore contract. `subject` is called per test, after the caller's beforeAll.
 * The folder store serves read and write only (query results never leave the
 * machine); a store with signed links runs `behavesAsASigningObjectStore` too.
 */
export function behavesAsAnObjectStore(name: string, subject: () => ObjectStoreSubject<ReadWrite>) {
  describe(`${name}: the ObjectStore contract`, () => {
    it('reads back what was written, from a stream, a buffer or a string', async () => {
      const { store, bucket } = subject();
      await store.write(bucket, 'events-exports/a.csv', Readable.from(['"line"\n', '"x"\n']), 'text/csv');
      await store.write(bucket, 'events-exports/b.csv', Buffer.from('b'), 'text/csv');
      await store.write(bucket, 'c.csv', 'c', 'text/csv');
      expect(await text(await store.read(bucket, 'events-exports/a.csv'))).toBe('"line"\n"x"\n');
      expect(await text(await store.read(bucket, 'events-exports/b.csv'))).toBe('b');
      expect(await text(await store.read(bucket, 'c.csv'))).toBe('c');
    });

    it('replaces an object written again under the same key', async () => {
      const { store, bucket } = subject();
      await store.write(bucket, 'again.csv', 'first', 'text/csv');
      await store.write(bucket, 'again.csv', 'second', 'text/csv');
      expect(await text(await store.read(bucket, 'again.csv'))).toBe('second');
    });

    it('rejects reading a key never written', async () => {
      const { store, bucket } = subject();
      await expect(store.read(bucket, 'missing.csv')).rejects.toThrow();
    });
  });
}

/** The rest of the ObjectStore contract: links a browser downloads the object with. */
export function behavesAsASigningObjectStore(name: string, subject: () => ObjectStoreSubject<ObjectStore>) {
  behavesAsAnObjectStore(name, subject);
  describe(`${name}: the ObjectStore contract, signed links`, () => {
    it('signs a GET link that downloads the object under its file name', async () => {
      const { store, bucket } = subject();
      await store.write(bucket, 'signed/report.csv', 'a,b\n1,2\n', 'text/csv');
      const url = await store.signedGetUrl(bucket, 'signed/report.csv', {
        expiresInSeconds: 60,
        fileName: 'adoption.csv',
      });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="adoption.csv"');
      expect(await response.text()).toBe('a,b\n1,2\n');
    });
  });
}
