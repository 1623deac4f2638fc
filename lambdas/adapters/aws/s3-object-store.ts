import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStore } from '../../ports/object-store.ts';

/** Parts of equal size (R2 rejects unequal ones); 16 MiB keeps a 10 GB file under 1,000 parts. */
const PART_SIZE = 16 * 1024 * 1024;

/**
 * S3 objects through the AWS SDK. The client must be built with
 * `requestChecksumCalculation: 'WHEN_REQUIRED'`: s3rver (and GCS, R2) store the SDK's
 * default streaming checksum framing inside the object otherwise.
 */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly options: {
      readonly client: S3Client;
      /** Bytes per multipart part (at least 5 MiB). @default 16 MiB */
      readonly partSize?: number;
    },
  ) {}

  async read(bucket: string, key: string): Promise<Readable> {
    const { Body } = await this.options.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return Body as Readable;
  }

  async write(bucket: string, key: string, body: Readable | Buffer | string, contentType: string): Promise<void> {
    await new Upload({
      client: this.options.client,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
      partSize: this.options.partSize ?? PART_SIZE,
      queueSize: 4,
    }).done();
  }

  signedGetUrl(bucket: string, key: string, options: { expiresInSeconds: number; fileName?: string }): Promise<string> {
    return getSignedUrl(
      this.options.client,
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(options.fileName ? { ResponseContentDisposition: `attachment; filename="${options.fileName}"` } : {}),
      }),
      { expiresIn: Math.max(1, Math.floor(options.expiresInSeconds)) },
    );
  }
}
