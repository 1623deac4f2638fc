import type { Readable } from 'node:stream';
import type { BucketCredentials, BucketTarget } from '../core/automatic-export/customer-bucket.ts';

/**
 * The customer's S3-compatible bucket, reached with the customer's credentials.
 * Both methods reject with `CustomerBucketError` (a kind, a readable sentence,
 * and whether retrying can help) for anything the bucket's service refused.
 */
export interface CustomerBuckets {
  /** Lists the bucket under the target's prefix: what "save" checks. */
  verify(target: BucketTarget, credentials: BucketCredentials): Promise<void>;
  /** Streams `body` to `key` (multipart, equal part sizes, for large bodies). */
  upload(
    target: BucketTarget,
    credentials: BucketCredentials,
    key: string,
    body: Readable,
    contentType: string,
  ): Promise<void>;
}
