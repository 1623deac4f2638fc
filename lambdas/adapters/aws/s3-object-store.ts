import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ByteRange, MultipartUpload, ObjectStore, ObjectSummary } from '../../ports/object-store.ts';

/** Parts of equal size (R2 rejects unequal ones); 16 MiB keeps a 10 GB file under 1,000 parts. */
const PART_SIZE = 16 * 1024 * 1024;
/**
 * The largest object one PutObject may upload: 5 GB (Amazon S3 User Guide, "Uploading
 * objects": "With a single PUT operation, you can upload a single object up to 5 GB in
 * size"); larger ones need a multipart upload.
 */
export const S3_SINGLE_PUT_MAX_BYTES = 5 * 1024 ** 3;
/** DeleteObjects takes at most 1,000 keys a request (Amazon S3 API Reference, "DeleteObjects"). */
const DELETE_BATCH = 1000;

/** An HTTP `Range` value for a byte range (HTTP's last byte is inclusive). */
const httpRange = (range: ByteRange) => `bytes=${range.start}-${range.end - 1}`;

/**
 * S3 objects through the AWS SDK. The client must be built with
 * `requestChecksumCalculation: 'WHEN_REQUIRED'`: s3rver (and GCS, R2) store the SDK's
 * default streaming checksum framing inside the object otherwise.
 */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly options: {
      readonly client: S3Client;
      /** Bytes per multipart part of `write` (at least 5 MiB). @default 16 MiB */
      readonly partSize?: number;
      /**
       * A folder where `write` first lands a stream, so that it knows its length and
       * sends it in one PutObject (a multipart upload past S3_SINGLE_PUT_MAX_BYTES).
       * For the local stack: s3rver runs in the stack's own process and reassembles a
       * multipart upload's parts, which made a 1 GB export's upload 12 s instead of 4 s.
       * Unset on AWS, where a Lambda's disk is small and S3 takes parts in parallel.
       */
      readonly spoolDir?: string;
      /** The largest body sent in one PutObject after spooling. @default S3_SINGLE_PUT_MAX_BYTES */
      readonly singlePutMaxBytes?: number;
    },
  ) {}

  async read(bucket: string, key: string, range?: ByteRange): Promise<Readable> {
    const { Body } = await this.options.client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: httpRange(range) } : {}) }),
    );
    if (!Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return Body as Readable;
  }

  async write(bucket: string, key: string, body: Readable | Buffer | string, contentType: string): Promise<void> {
    if (this.options.spoolDir && body instanceof Readable) {
      await this.writeSpooled(this.options.spoolDir, bucket, key, body, contentType);
      return;
    }
    await this.upload(bucket, key, body, contentType);
  }

  /**
   * The stream into a file of the spool folder, then the file in one PutObject with its
   * length (or a multipart upload when larger than one PUT may be). The file is opened
   * before the request sees it and closed and removed whatever happens.
   */
  private async writeSpooled(spoolDir: string, bucket: string, key: string, body: Readable, contentType: string) {
    await mkdir(spoolDir, { recursive: true });
    const path = join(spoolDir, `${randomUUID()}.spool`);
    try {
      await pipeline(body, createWriteStream(path));
      const handle = await open(path, 'r');
      const file = handle.createReadStream({ highWaterMark: 1024 * 1024 });
      let readError: unknown;
      file.on('error', (error) => {
        readError ??= error;
      });
      try {
        const { size } = await handle.stat();
        if (size <= (this.options.singlePutMaxBytes ?? S3_SINGLE_PUT_MAX_BYTES)) {
          await this.options.client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: file,
              ContentLength: size,
              ContentType: contentType,
            }),
          );
        } else {
          await this.upload(bucket, key, file, contentType);
        }
        if (readError) throw readError;
      } finally {
        file.destroy();
        await handle.close().catch(() => undefined);
      }
    } finally {
      await rm(path, { force: true });
    }
  }

  private async upload(bucket: string, key: string, body: Readable | Buffer | string, contentType: string) {
    await new Upload({
      client: this.options.client,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
      partSize: this.options.partSize ?? PART_SIZE,
      queueSize: 4,
    }).done();
  }

  async list(bucket: string, prefix: string): Promise<ObjectSummary[]> {
    const objects: ObjectSummary[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) objects.push({ key: object.Key, size: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async remove(bucket: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const { Errors } = await this.options.client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const first = Errors?.[0];
      if (first) throw new Error(`could not delete s3://${bucket}/${first.Key}: ${first.Code} ${first.Message}`);
    }
  }

  async startMultipart(bucket: string, key: string, contentType: string): Promise<MultipartUpload> {
    const client = this.options.client;
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
    );
    if (!UploadId) throw new Error(`S3 started no multipart upload for s3://${bucket}/${key}`);
    const target = { Bucket: bucket, Key: key, UploadId };
    const parts = new Map<number, CompletedPart>();
    const done = (PartNumber: number, ETag: string | undefined) => {
      if (!ETag) throw new Error(`S3 returned no ETag for part ${PartNumber} of s3://${bucket}/${key}`);
      parts.set(PartNumber, { PartNumber, ETag });
    };
    return {
      async uploadPart(partNumber, body) {
        const { ETag } = await client.send(new UploadPartCommand({ ...target, PartNumber: partNumber, Body: body }));
        done(partNumber, ETag);
      },
      async uploadPartCopy(partNumber, source) {
        const { CopyPartResult } = await client.send(
          new UploadPartCopyCommand({
            ...target,
            PartNumber: partNumber,
            // The key is URL-encoded: S3 reads the header as a URL path.
            CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`,
            ...(source.range ? { CopySourceRange: httpRange(source.range) } : {}),
          }),
        );
        done(partNumber, CopyPartResult?.ETag);
      },
      async complete() {
        await client.send(
          new CompleteMultipartUploadCommand({
            ...target,
            MultipartUpload: { Parts: [...parts.values()].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0)) },
          }),
        );
      },
      async abort() {
        await client.send(new AbortMultipartUploadCommand(target));
      },
    };
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
