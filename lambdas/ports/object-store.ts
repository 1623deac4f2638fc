import type { Readable } from 'node:stream';

/** Objects in buckets (S3 on AWS, s3rver locally: one adapter, another endpoint). */
export interface ObjectStore {
  read(bucket: string, key: string): Promise<Readable>;
  /** Streams `body` into the object (multipart for large bodies). */
  write(bucket: string, key: string, body: Readable | Buffer | string, contentType: string): Promise<void>;
  /** A GET URL signed now, valid for `expiresInSeconds`, that downloads as `fileName`. */
  signedGetUrl(bucket: string, key: string, options: { expiresInSeconds: number; fileName?: string }): Promise<string>;
}
