import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckDbAthenaTask, streamedResultFiles } from '../../lambdas/adapters/local/duckdb-athena-task.ts';
import { DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { FolderObjectStore } from '../../lambdas/adapters/local/folder-object-store.ts';
import type { ObjectStore, ObjectSummary } from '../../lambdas/ports/object-store.ts';

/**
 * DuckDB playing Athena's `UNLOAD … WITH (format = 'TEXTFILE', compression = 'GZIP')`:
 * each line written as it is, whatever it holds, into several gzip files that the
 * Athena Task stand-in puts under the UNLOAD's location.
 */

let home: string;
let engine: DuckDbQueryEngine;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'featurelake-unload-'));
  engine = await DuckDbQueryEngine.open({ lakeDir: join(home, 'lake'), csvOutputDir: join(home, 'out') });
});
afterAll(async () => {
  engine?.close();
  await rm(home, { recursive: true, force: true });
});

/** Where two long texts first differ, -1 if nowhere (a diff of megabytes would take minutes). */
function firstDifference(a: string, b: string): number {
  if (a === b) return -1;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i += 1;
  return i;
}

/**
 * The lines as a multiset. DuckDB's COPY with FILE_SIZE_BYTES writes from several
 * threads, so rows come in no global order, as Athena's UNLOAD ("No global ordering
 * of files"): what is held is that every line is there, once, byte for byte.
 */
const sortedLines = (text: string) => text.split('\n').sort().join('\n');

/** Lines a CSV writer would quote or escape: quotes, commas, CR and LF inside fields, non-ASCII, a backslash. */
const TRICKY = [
  'a,"b ""quoted"", c"\r',
  '"field with\r\nCRLF",x\r',
  '{"comment":"ü ñ 😀 \\\\ \\"q\\""}',
  "it's; tab\there",
  '\\N',
];

describe('DuckDbQueryEngine.unloadToTextFiles', () => {
  it('writes every line raw, then LF, into gzip files; the files concatenated hold every line once', async () => {
    const sql = `SELECT CASE i % 5 ${TRICKY.map((_, i) => `WHEN ${i} THEN ? || CAST(i AS VARCHAR)`).join(' ')} END AS line FROM range(300000) t(i) ORDER BY i`;
    const dir = join(home, 'out', 'tricky');
    const { rows } = await engine.unloadToTextFiles(sql, TRICKY, dir, { fileSizeBytes: 64 * 1024 });
    expect(rows).toBe(300000);
    const names = (await readdir(dir)).sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
    expect(names.length).toBeGreaterThan(1);
    const text = gunzipSync(Buffer.concat(await Promise.all(names.map((name) => readFile(join(dir, name)))))).toString(
      'utf8',
    );
    const expected = Array.from({ length: 300000 }, (_, i) => `${TRICKY[i % 5]}${i}\n`).join('');
    expect(firstDifference(sortedLines(text), sortedLines(expected))).toBe(-1);
  });

  it('writes nowhere but its output folder, and leaves no folder when the query fails', async () => {
    await expect(
      engine.unloadToTextFiles('SELECT 1 AS line', [], join(home, 'elsewhere'), { fileSizeBytes: 1024 }),
    ).rejects.toThrow(/only inside the engine's csvOutputDir/);
    const dir = join(home, 'out', 'failed');
    await expect(
      engine.unloadToTextFiles('SELECT CAST(? AS INTEGER) AS line', ['x'], dir, { fileSizeBytes: 1024 }),
    ).rejects.toThrow();
    await expect(readdir(dir)).rejects.toThrow();
  });
});

/** An object store over a folder, with the listing the stand-in checks emptiness with. */
function folderStore(root: string): Pick<ObjectStore, 'list' | 'write' | 'read'> {
  const folder = new FolderObjectStore({ root });
  return {
    read: (bucket, key) => folder.read(bucket, key),
    write: (bucket, key, body) => folder.write(bucket, key, body),
    async list(bucket, prefix): Promise<ObjectSummary[]> {
      const names = await readdir(join(root, bucket, prefix)).catch(() => []);
      return names.filter((n) => !n.endsWith('.partial')).map((name) => ({ key: `${prefix}${name}`, size: 1 }));
    },
  };
}

describe('the Athena Task stand-in, given an UNLOAD', () => {
  const unloadInput = (to: string) => ({
    QueryString: `UNLOAD (SELECT line FROM whatever) TO '${to}' WITH (format = 'TEXTFILE', compression = 'GZIP')`,
    ExecutionParameters: ["'x'"],
    ResultConfiguration: { OutputLocation: 's3://results/events-exports/' },
  });

  it('runs the DuckDB text into files under the location, and refuses a location that is not empty', async () => {
    const store = folderStore(join(home, 's3'));
    const task = duckDbAthenaTask({
      engine: { runToCsv: async () => ({ rows: 0 }) },
      files: streamedResultFiles(store),
      sql: 'SELECT ? || CAST(i AS VARCHAR) AS line FROM range(1500000) t(i) ORDER BY i',
      scratchDir: join(home, 'out', 'scratch'),
      unload: { engine, store, fileSizeBytes: 16 * 1024 },
    });
    const to = 's3://results/events-exports/unload/job-1/2025-01-06/';
    await task(unloadInput(to));
    const files = await store.list('results', 'events-exports/unload/job-1/2025-01-06/');
    // Many files, named in DuckDB's numbering (data_10 after data_2).
    expect(files.length).toBeGreaterThan(10);
    expect(files.map((f) => f.key.split('/').at(-1))).toEqual(files.map((_, i) => `${String(i).padStart(6, '0')}.gz`));
    const keys = files.map((f) => f.key).sort();
    const text = gunzipSync(
      Buffer.concat(await Promise.all(keys.map(async (key) => buffer(await store.read('results', key))))),
    ).toString('utf8');
    const expected = Array.from({ length: 1500000 }, (_, i) => `x${i}\n`).join('');
    expect(firstDifference(sortedLines(text), sortedLines(expected))).toBe(-1);
    // Athena's UNLOAD writes only to an empty location.
    await expect(task(unloadInput(to))).rejects.toThrow(/not empty/);
  });
});
