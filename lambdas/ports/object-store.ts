import type { Readable } from 'node:stream';

/** Bytes `start` (first) to `end` (exclusive) of an object. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** One object of a listing. */
export interface ObjectSummary {
  readonly key: string;
  readonly size: number;
}

/**
 * One object being built from parts (S3's multipart upload). Parts are numbered
 * from 1 and assembled in number order; the object appears only at `complete`.
 */
export interface MultipartUpload {
  /** Uploads `body` as part `partNumber`. */
  uploadPart(partNumber: number, body: Buffer): Promise<void>;
  /** Copies `range` (default: all) of an object of the same store as part `partNumber`, server-side. */
  uploadPartCopy(
    partNumber: number,
    source: { readonly bucket: string; readonly key: string; readonly range?: ByteRange },
  ): Promise<void>;
  /** Assembles the parts uploaded so far into the object. */
  complete(): Promise<void>;
  /** Drops the parts; the object is left as it was. */
  abort(): Promise<void>;
}

/** Objects in buckets (S3 on AWS, s3rver locally: one adapter, another endpoint). */
export interface ObjectStore {
  /** The object's bytes, or the bytes of `range`. */
  read(bucket: string, key: string, range?: ByteRange): Promise<Readable>;
  /** Streams `body` into the object (multipart for large bodies). */
  write(bucket: string, key: string, body: Readable | Buffer | string, contentType: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order (UTF-8 binary order, as S3 lists). */
  list(bucket: string, prefix: string): Promise<ObjectSummary[]>;
  /** Deletes the objects (a missing one is not an error). */
  remove(bucket: string, keys: readonly string[]): Promise<void>;
  /** Starts building the object from parts; see MultipartUpload. */
  startMultipart(bucket: string, key: string, contentType: string): Promise<MultipartUpload>;
  /** A GET URL signed now, valid for `expiresInSeconds`, that downloads as `fileName`. */
  signedGetUrl(bucket: string, key: string, options: { expiresInSeconds: number; fileName?: string }): Promise<string>;
}
