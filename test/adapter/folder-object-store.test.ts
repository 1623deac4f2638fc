import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FolderObjectStore } from '../../lambdas/adapters/local/folder-object-store.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'featurelake-folder-store-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('FolderObjectStore (the local query results bucket)', () => {
  // Reading back what was written is the ObjectStore contract (test/contract/object-store.test.ts).
  it('copies a finished file in whole, and says ENOENT for a key never written', async () => {
    const store = new FolderObjectStore({ root });
    await store.write('results', 'c.csv', 'c');
    // A finished file is copied by the kernel, whole.
    await store.writeFile('results', 'd.csv', join(root, 'results', 'c.csv'));
    expect(await text(await store.read('results', 'd.csv'))).toBe('c');
    await expect(store.read('results', 'missing.csv')).rejects.toThrow(/ENOENT/);
  });

  it('deletes a result once it has been read to its end, when asked to', async () => {
    const store = new FolderObjectStore({ root, removeAfterRead: true });
    await store.write('results', 'once.csv', 'once');
    expect(await text(await store.read('results', 'once.csv'))).toBe('once');
    // The removal follows the stream's end: wait for it (a loaded machine takes longer than a tick).
    await vi.waitFor(() => expect(access(join(root, 'results', 'once.csv'))).rejects.toThrow(), {
      timeout: 5_000,
      interval: 10,
    });
  });

  it('keeps every key inside its folder', async () => {
    const store = new FolderObjectStore({ root });
    await expect(store.write('results', '../../escape.csv', 'x')).rejects.toThrow(/outside the store/);
    await expect(store.read('..', 'escape.csv')).rejects.toThrow(/outside the store/);
  });
});
