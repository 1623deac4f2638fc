import type { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import {
  type BucketCredentials,
  type BucketFailureFacts,
  type BucketTarget,
  CustomerBucketError,
  customerBucketError,
} from '../../core/customer-bucket.ts';
import type { CustomerBuckets } from '../../ports/customer-buckets.ts';
import { S3ObjectStore } from './s3-object-store.ts';

export interface S3CustomerBucketsOptions {
  /**
   * Bytes per multipart part. Every part but the last has exactly this size: R2
   * refuses uploads with parts of unequal size. At least 5 MiB (S3's minimum).
   * @default 16 MiB (a 10 GB file stays under 1,000 parts)
   */
  readonly partSize?: number;
  /** How long the save-time listing may take to connect, and to answer. @default 5 s, 10 s */
  readonly verifyTimeouts?: { readonly connectMs: number; readonly answerMs: number };
  /** Extra client settings (tests). */
  readonly clientConfig?: Partial<S3ClientConfig>;
}

/**
 * The customer's bucket through the AWS SDK's S3 client, pointed at the
 * provider's endpoint with the customer's keys. Checksums only when required:
 * GCS and R2 reject the SDK's default streaming checksum trailers. SDK failures
 * become CustomerBucketError, whose message names the bucket and the cause.
 */
export class S3CustomerBuckets implements CustomerBuckets {
  constructor(private readonly options: S3CustomerBucketsOptions = {}) {
    const partSize = options.partSize ?? 16 * 1024 * 1024;
    if (!Number.isInteger(partSize) || partSize < 5 * 1024 * 1024) {
      throw new Error(`S3CustomerBuckets: partSize must be a whole number of bytes, at least 5 MiB; got ${partSize}`);
    }
  }

  async verify(target: BucketTarget, credentials: BucketCredentials): Promise<void> {
    const timeouts = this.options.verifyTimeouts ?? { connectMs: 5_000, answerMs: 10_000 };
    // One attempt: the user is waiting for the answer to "Save", and retries would only delay it.
    const client = this.client(target, credentials, {
      maxAttempts: 1,
      requestHandler: { connectionTimeout: timeouts.connectMs, requestTimeout: timeouts.answerMs },
    });
    try {
      const listing = await client.send(
        // No MaxKeys: the first page is enough, and s3rver fails paged listings on Node 20.
        new ListObjectsV2Command({ Bucket: target.bucket, ...(target.prefix ? { Prefix: target.prefix } : {}) }),
      );
      // Every S3 ListBucketResult names its bucket; an HTML page parsed as XML does not.
      if (listing.Name === undefined) {
        throw customerBucketError(
          { notS3: true, httpStatus: listing.$metadata.httpStatusCode },
          { target, accessKeyId: credentials.accessKeyId },
        );
      }
    } catch (error) {
      throw asCustomerBucketError(error, target, credentials);
    } finally {
      client.destroy();
    }
  }

  async upload(
    target: BucketTarget,
    credentials: BucketCredentials,
    key: string,
    body: Readable,
    contentType: string,
  ): Promise<void> {
    const client = this.client(target, credentials, {
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    });
    try {
      await new S3ObjectStore({ client, partSize: this.options.partSize }).write(target.bucket, key, body, contentType);
    } catch (error) {
      throw asCustomerBucketError(error, target, credentials);
    } finally {
      body.destroy();
      client.destroy();
    }
  }

  private client(target: BucketTarget, credentials: BucketCredentials, config: Partial<S3ClientConfig>): S3Client {
    return new S3Client({
      region: target.region,
      ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
      forcePathStyle: target.forcePathStyle,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      followRegionRedirects: false,
      ...config,
      ...this.options.clientConfig,
    });
  }
}

function asCustomerBucketError(error: unknown, target: BucketTarget, credentials: BucketCredentials): Error {
  if (error instanceof CustomerBucketError) return error;
  return customerBucketError(failureFacts(error), { target, accessKeyId: credentials.accessKeyId });
}

interface SdkFailure {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  Region?: string;
  cause?: { code?: string };
  errors?: { code?: string }[];
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** What an SDK failure tells: the S3 error code and status, or the network error of a request that got no answer. */
export function failureFacts(error: unknown): BucketFailureFacts {
  const failure = (error ?? {}) as SdkFailure;
  const httpStatus = failure.$metadata?.httpStatusCode;
  const message = failure.message ?? '';
  // The SDK could not read the answer as S3 XML, or found no S3 error code in it.
  const unreadable = /Deserialization error|XML parse error/i.test(message);
  const noCode = failure.name === 'Unknown' || failure.name === 'UnknownError';
  const networkCode =
    httpStatus === undefined
      ? (failure.code ??
        failure.cause?.code ??
        failure.errors?.[0]?.code ??
        (failure.name === 'TimeoutError' ? 'TimeoutError' : undefined))
      : undefined;
  const code =
    failure.Code ??
    (failure.name && !['Error', 'Unknown', 'UnknownError'].includes(failure.name) ? failure.name : undefined);
  return {
    ...(code && !networkCode ? { code } : {}),
    ...(httpStatus === undefined ? {} : { httpStatus }),
    ...(unreadable || noCode || !message ? {} : { message }),
    ...(networkCode ? { networkCode } : {}),
    ...(failure.Region || failure.$response?.headers?.['x-amz-bucket-region']
      ? { bucketRegion: failure.Region ?? failure.$response?.headers?.['x-amz-bucket-region'] }
      : {}),
    ...(unreadable || noCode ? { notS3: true } : {}),
  };
}
