import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import {
  type ConcatenationPiece,
  concatenateObjects,
  S3_MULTIPART_LIMITS,
} from '../../lambdas/core/shared/concatenate-objects.ts';
import type { ByteRange, MultipartUpload, ObjectStore } from '../../lambdas/ports/object-store.ts';

const MiB = 1024 * 1024;
const target = { bucket: 'exports', key: 'events-exports/app/job/2025-01-06.json.gz', contentType: 'application/gzip' };

describe('S3 multipart limits', () => {
  // "Amazon S3 multipart upload limits" (Amazon S3 User Guide, qfacts.html): parts 1–10,000,
  // 5 MiB to 5 GiB each except the last.
  it('are the documented ones', () => {
    expect(S3_MULTIPART_LIMITS).toEqual({ minPartBytes: 5 * MiB, maxPartBytes: 5 * 1024 * MiB, maxParts: 10_000 });
  });
});

/** An in-memory store that records each part as it is made. */
function memoryStore(objects: Map<string, Buffer>) {
  const made: { kind: 'upload' | 'copy'; bytes: number }[] = [];
  const slice = (key: string, range?: ByteRange) => {
    const object = objects.get(key);
    if (!object) throw new Error(`no ${key}`);
    return range ? object.subarray(range.start, range.end) : object;
  };
  const store: Pick<ObjectStore, 'read' | 'startMultipart'> = {
    read: async (_bucket, key, range) => Readable.from([slice(key, range)]),
    startMultipart: async (_bucket, key) => {
      const parts = new Map<number, Buffer>();
      const upload: MultipartUpload = {
        uploadPart: async (n, body) => {
          parts.set(n, body);
          made.push({ kind: 'upload', bytes: body.length });
        },
        uploadPartCopy: async (n, source) => {
          const bytes = slice(source.key, source.range);
          parts.set(n, bytes);
          made.push({ kind: 'copy', bytes: bytes.length });
        },
        complete: async () => {
          objects.set(key, Buffer.concat([...parts.entries()].sort(([a], [b]) => a - b).map(([, b]) => b)));
        },
        abort: async () => undefined,
      };
      return upload;
    },
  };
  return { store, made };
}

describe('concatenateObjects', () => {
  it('is the pieces in order, every part but the last at least the minimum and at most the maximum, never holding more than the minimum', () => {
    const limits = { minPartBytes: 16, maxPartBytes: 40, maxParts: 1000 };
    fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant(0), fc.nat(8), fc.nat(100)), { minLength: 1, maxLength: 12 }),
        fc.nat(20),
        async (sizes, headerBytes) => {
          fc.pre(headerBytes + sizes.reduce((a, b) => a + b, 0) > 0);
          const objects = new Map<string, Buffer>();
          const pieces: ConcatenationPiece[] = [{ bytes: Buffer.alloc(headerBytes, 'h') }];
          sizes.forEach((size, i) => {
            const bytes = Buffer.from(Array.from({ length: size }, (_, j) => (i * 31 + j) % 251));
            objects.set(`p${i}`, bytes);
            pieces.push({ bucket: 'results', key: `p${i}`, size });
          });
          const { store, made } = memoryStore(objects);
          const result = await concatenateObjects(store, target, pieces, limits);
          const expected = Buffer.concat([
            Buffer.alloc(headerBytes, 'h'),
            ...sizes.map((_, i) => objects.get(`p${i}`) as Buffer),
          ]);
          expect(objects.get(target.key)?.equals(expected)).toBe(true);
          expect(result).toEqual({ parts: made.length, bytes: expected.length });
          for (const part of made.slice(0, -1)) expect(part.bytes).toBeGreaterThanOrEqual(limits.minPartBytes);
          for (const part of made) expect(part.bytes).toBeLessThanOrEqual(limits.maxPartBytes);
          for (const part of made.filter((p) => p.kind === 'upload')) {
            expect(part.bytes).toBeLessThanOrEqual(limits.minPartBytes);
          }
          expect(made.length).toBeLessThanOrEqual(Math.ceil(expected.length / limits.minPartBytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses an object that would need more parts than S3 allows, and one with no bytes at all', async () => {
    const objects = new Map([['big', Buffer.alloc(100)]]);
    const { store } = memoryStore(objects);
    await expect(
      concatenateObjects(store, target, [{ bucket: 'results', key: 'big', size: 100 }], {
        minPartBytes: 10,
        maxPartBytes: 10,
        maxParts: 9,
      }),
    ).rejects.toThrow(/more than 9 parts/);
    await expect(concatenateObjects(store, target, [{ bytes: Buffer.alloc(0) }])).rejects.toThrow(
      /every piece is empty/,
    );
  });
});

describe('concatenateObjects over S3 (the SDK requests)', () => {
  // This client only (not S3Client's prototype, which other test files in the worker use), restored after.
  const client = new S3Client({ region: 'us-east-1' });
  const s3 = mockClient(client);
  const store = new S3ObjectStore({ client });
  afterAll(() => s3.restore());
  const body = (length: number) => Readable.from([Buffer.alloc(length, 'x')]) as never;

  beforeEach(() => {
    s3.reset();
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCommand).callsFake((input) => ({ ETag: `"u${input.PartNumber}"` }));
    s3.on(UploadPartCopyCommand).callsFake((input) => ({ CopyPartResult: { ETag: `"c${input.PartNumber}"` } }));
    s3.on(GetObjectCommand).callsFake((input) => {
      const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '') ?? [];
      return { Body: body(input.Range ? Number(last) - Number(first) + 1 : input.Key === 'r/a' ? 3 : 0) };
    });
    s3.on(CompleteMultipartUploadCommand).resolves({});
  });

  it('creates the upload, reads small pieces and top-ups by range, copies runs by range, completes in part order', async () => {
    const limits = { minPartBytes: 10, maxPartBytes: 25, maxParts: 100 };
    await concatenateObjects(
      store,
      target,
      [
        { bytes: Buffer.from('HH') },
        { bucket: 'results', key: 'r/a', size: 3 },
        { bucket: 'results', key: 'r/b', size: 30 },
        { bucket: 'results', key: 'r/c', size: 12 },
      ],
      limits,
    );
    const calls = s3.calls().map((call) => {
      const input = call.args[0].input as Record<string, unknown>;
      const name = call.args[0].constructor.name.replace('Command', '');
      const { Bucket, Key, UploadId, PartNumber, Range, CopySource, CopySourceRange, MultipartUpload } = input;
      return JSON.parse(
        JSON.stringify({
          name,
          Bucket,
          Key,
          UploadId,
          PartNumber,
          Range,
          CopySource,
          CopySourceRange,
          MultipartUpload,
        }),
      );
    });
    const upload = { Bucket: 'exports', Key: target.key, UploadId: 'up-1' };
    expect(calls).toEqual([
      { name: 'CreateMultipartUpload', Bucket: 'exports', Key: target.key },
      { name: 'GetObject', Bucket: 'results', Key: 'r/a' },
      { name: 'GetObject', Bucket: 'results', Key: 'r/b', Range: 'bytes=0-4' },
      { name: 'UploadPart', ...upload, PartNumber: 1 },
      { name: 'UploadPartCopy', ...upload, PartNumber: 2, CopySource: 'results/r/b', CopySourceRange: 'bytes=5-29' },
      { name: 'UploadPartCopy', ...upload, PartNumber: 3, CopySource: 'results/r/c' },
      {
        name: 'CompleteMultipartUpload',
        ...upload,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: '"u1"' },
            { PartNumber: 2, ETag: '"c2"' },
            { PartNumber: 3, ETag: '"c3"' },
          ],
        },
      },
    ]);
  });

  it('aborts the upload when a part fails, completes nothing, and says what failed', async () => {
    s3.on(UploadPartCopyCommand).rejects(new Error('SlowDown: please reduce your request rate'));
    s3.on(AbortMultipartUploadCommand).resolves({});
    await expect(
      concatenateObjects(store, target, [{ bucket: 'results', key: 'r/big', size: 6 * MiB }]),
    ).rejects.toThrow(/SlowDown/);
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'exports', Key: target.key, UploadId: 'up-1' },
    ]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });
});

describe('S3ObjectStore.list (the SDK requests)', () => {
  const client = new S3Client({ region: 'us-east-1' });
  const s3 = mockClient(client);
  const store = new S3ObjectStore({ client });
  afterAll(() => s3.restore());

  it('follows continuation tokens until S3 says the listing is complete', async () => {
    s3.reset();
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      Contents: [{ Key: 'u/1', Size: 3 }],
      IsTruncated: true,
      NextContinuationToken: 't1',
    });
    s3.on(ListObjectsV2Command, { ContinuationToken: 't1' }).resolves({
      Contents: [{ Key: 'u/2', Size: 0 }],
      IsTruncated: false,
    });
    expect(await store.list('results', 'u/')).toEqual([
      { key: 'u/1', size: 3 },
      { key: 'u/2', size: 0 },
    ]);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'results', Prefix: 'u/', ContinuationToken: undefined },
      { Bucket: 'results', Prefix: 'u/', ContinuationToken: 't1' },
    ]);
  });
});
