import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { SigV4S3Gateway } from '../../lambdas/adapters/local/sigv4-s3-gateway.ts';

/**
 * S3 as the local stack runs it: s3rver on a Unix socket in a fresh temporary
 * folder, reached only through the SigV4 gateway, and a client of the gateway.
 * `folder` is the test's to use too; `close` removes it.
 */
export async function startLocalS3(options: { readonly name: string; readonly buckets: readonly string[] }) {
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: `a-random-secret-of-${options.name}` };
  const folder = await mkdtemp(join(tmpdir(), `featurelake-${options.name}-`));
  const socket = join(folder, 's3.sock');
  const s3rver = new S3rver({
    port: socket as unknown as number,
    silent: true,
    directory: join(folder, 's3'),
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  await s3rver.run();
  const gateway = new SigV4S3Gateway({ credentials, region, upstreamSocket: socket });
  const client = new S3Client({
    endpoint: await gateway.listen(0, '127.0.0.1'),
    region,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    folder,
    client,
    async close(): Promise<void> {
      client.destroy();
      await gateway.close();
      await s3rver.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
