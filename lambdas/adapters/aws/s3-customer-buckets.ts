import type { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import {
  type BucketCredentials,
  type BucketFailureFacts,
  type BucketTarget,
  CUSTOMER_ENDPOINT_LIMITS,
  CustomerBucketError,
  customerBucketError,
  type EndpointTimeouts,
} from '../../core/automatic-export/customer-bucket.ts';
import type { CustomerBuckets } from '../../ports/customer-buckets.ts';
import {
  CustomerEndpointHttpHandler,
  type EndpointAddressRules,
  endpointTextRefusal,
  findEndpointGuardError,
} from './customer-endpoint-http.ts';
import { S3ObjectStore } from './s3-object-store.ts';

export interface S3CustomerBucketsOptions {
  /**
   * Bytes per multipart part. Every part but the last has exactly this size: R2
   * refuses uploads with parts of unequal size. At least 5 MiB (S3's minimum).
   * @default 16 MiB (a 10 GB file stays under 1,000 parts)
   */
  readonly partSize?: number;
  /**
   * How long the save-time listing may take to connect, and from its start to its answer's last byte.
   * @default CUSTOMER_ENDPOINT_LIMITS.verify (5 s, 10 s)
   */
  readonly verifyTimeouts?: EndpointTimeouts;
  /** The same for each request of a delivery. @default CUSTOMER_ENDPOINT_LIMITS.upload (10 s, 5 minutes) */
  readonly uploadTimeouts?: EndpointTimeouts;
  /** Most bytes read of any one answer. @default CUSTOMER_ENDPOINT_LIMITS.maxAnswerBytes (1 MiB) */
  readonly maxAnswerBytes?: number;
  /**
   * Which addresses an endpoint may lead to. The AWS handlers refuse private ones; the
   * local stack allows them and names its own listeners.
   * @default { privateAddresses: 'deny' }, no own endpoints
   */
  readonly addresses?: EndpointAddressRules;
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
  /** The bounds on every exchange with a customer's endpoint. */
  readonly limits: {
    readonly verify: EndpointTimeouts;
    readonly upload: EndpointTimeouts;
    readonly maxAnswerBytes: number;
  };
  private readonly addresses: EndpointAddressRules;

  constructor(private readonly options: S3CustomerBucketsOptions = {}) {
    const partSize = options.partSize ?? 16 * 1024 * 1024;
    if (!Number.isInteger(partSize) || partSize < 5 * 1024 * 1024) {
      throw new Error(`S3CustomerBuckets: partSize must be a whole number of bytes, at least 5 MiB; got ${partSize}`);
    }
    this.limits = {
      verify: options.verifyTimeouts ?? CUSTOMER_ENDPOINT_LIMITS.verify,
      upload: options.uploadTimeouts ?? CUSTOMER_ENDPOINT_LIMITS.upload,
      maxAnswerBytes: options.maxAnswerBytes ?? CUSTOMER_ENDPOINT_LIMITS.maxAnswerBytes,
    };
    this.addresses = options.addresses ?? { privateAddresses: 'deny' };
  }

  async verify(target: BucketTarget, credentials: BucketCredentials): Promise<void> {
    this.refuseForbiddenText(target, credentials);
    // One attempt: the user is waiting for the answer to "Save", and retries would only delay it.
    const client = this.client(target, credentials, this.limits.verify, { maxAttempts: 1 });
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
    let client: S3Client | undefined;
    try {
      this.refuseForbiddenText(target, credentials);
      client = this.client(target, credentials, this.limits.upload, {});
      await new S3ObjectStore({ client, partSize: this.options.partSize }).write(target.bucket, key, body, contentType);
    } catch (error) {
      throw asCustomerBucketError(error, target, credentials);
    } finally {
      body.destroy();
      client?.destroy();
    }
  }

  /** An address written in the endpoint is refused before anything is sent (names are checked when they resolve). */
  private refuseForbiddenText(target: BucketTarget, credentials: BucketCredentials): void {
    const refused = target.endpoint === undefined ? undefined : endpointTextRefusal(this.addresses, target.endpoint);
    if (refused) {
      throw customerBucketError(
        { guard: { reason: 'forbidden_address', ...refused } },
        { target, accessKeyId: credentials.accessKeyId },
      );
    }
  }

  private client(
    target: BucketTarget,
    credentials: BucketCredentials,
    timeouts: EndpointTimeouts,
    config: Partial<S3ClientConfig>,
  ): S3Client {
    return new S3Client({
      region: target.region,
      ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
      forcePathStyle: target.forcePathStyle,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      followRegionRedirects: false,
      requestHandler: new CustomerEndpointHttpHandler({
        timeouts,
        maxAnswerBytes: this.limits.maxAnswerBytes,
        addresses: this.addresses,
      }),
      ...config,
      ...this.options.clientConfig,
    });
  }
}

/**
 * As the AWS handlers compose it: endpoints must resolve to public addresses only. A
 * Lambda must not be steered at the instance metadata service, a VPC's private hosts,
 * or itself, and the customer has no business on any of them.
 */
export function awsCustomerBuckets(): S3CustomerBuckets {
  return new S3CustomerBuckets({ addresses: { privateAddresses: 'deny' } });
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
  // Stopped by the endpoint's bounds: that is the whole story, whatever the SDK wrapped around it.
  const guard = findEndpointGuardError(error);
  if (guard) return { guard: guard.facts };
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
