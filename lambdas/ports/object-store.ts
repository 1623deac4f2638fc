import type { Readable } from 'node:stream';

/** Objects in buckets (S3 on AWS, s3rver locally: one adapter, another endpoint). */
export interface ObjectStore {
  read(bucket: string, key: string): Promise<Readable>;
  /** Streams `body` into the object (multipart for large bodies). */
  write(bucket: string, key: string, body: Readable | Buffer | string, contentType: string): Promise<void>;
  /** A GET URL signed now, valid for `expiresInSeconds`, that downloads as `fileName`. */
  signedGetUrl(bucket: string, key: string, options: { expiresInSeconds: number; fileName?: string }): Promise<string>;
}

/** `s3://bucket/key/parts` → `{bucket, key}`. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match?.[1] || !match[2]) throw new Error(`not an s3:// object URL: ${url}`);
  return { bucket: match[1], key: match[2] };
}
