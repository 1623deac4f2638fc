import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3FactsBuildFiles } from '../../lambdas/adapters/aws/s3-facts-build-files.ts';
import { factsBuildPrefix } from '../../lambdas/contract/facts.ts';
import { lakeShard } from '../../lambdas/contract/lake.ts';
import { startLocalS3 } from '../support/local-s3.ts';

/** The cleanup step's S3 adapter over s3rver (the local S3, through the SigV4 gateway). */
let s3: Awaited<ReturnType<typeof startLocalS3>>;
const BUCKET = 'lake';
const A = 'env-a';
const B = 'env-b';
const build = (n: number) => `20250701T000000Z-0000000${n}`;

async function put(key: string) {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'parquet' }));
}

async function keys(): Promise<string[]> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

beforeAll(async () => {
  s3 = await startLocalS3({ name: 'facts-build-files', buckets: [BUCKET] });
});
afterAll(async () => {
  await s3?.close();
});

describe('S3FactsBuildFiles', () => {
  it("lists one environment's build ids only, and deletes one build's files, leaving everything else", async () => {
    const files = new S3FactsBuildFiles({ client: s3.client, bucket: BUCKET });
    for (const n of [1, 2]) {
      await put(`${factsBuildPrefix(lakeShard(A), A, build(n))}part-0.parquet`);
      await put(`${factsBuildPrefix(lakeShard(A), A, build(n))}part-1.parquet`);
    }
    await put(`${factsBuildPrefix(lakeShard(B), B, build(3))}part-0.parquet`);
    await put('events/shard=0/received=2025-07-01/x.parquet');

    expect(await files.listFactsBuilds(A)).toEqual([build(1), build(2)]);
    expect(await files.listFactsBuilds(B)).toEqual([build(3)]);
    expect(await files.listFactsBuilds('env-none')).toEqual([]);

    await files.deleteFactsBuild(A, build(1));
    expect(await files.listFactsBuilds(A)).toEqual([build(2)]);
    expect(await keys()).toEqual(
      [
        `${factsBuildPrefix(lakeShard(A), A, build(2))}part-0.parquet`,
        `${factsBuildPrefix(lakeShard(A), A, build(2))}part-1.parquet`,
        `${factsBuildPrefix(lakeShard(B), B, build(3))}part-0.parquet`,
        'events/shard=0/received=2025-07-01/x.parquet',
      ].sort(),
    );
    // Deleting what is gone already is a no-op (a retried cleanup).
    await files.deleteFactsBuild(A, build(1));
  });

  it('refuses an environment or build id that cannot name a facts folder, before reaching S3', async () => {
    const files = new S3FactsBuildFiles({ client: s3.client, bucket: BUCKET });
    await expect(files.listFactsBuilds('../events')).rejects.toThrow(/cannot name a facts folder/);
    await expect(files.deleteFactsBuild(A, '../../events')).rejects.toThrow(/not a facts build id/);
  });
});
