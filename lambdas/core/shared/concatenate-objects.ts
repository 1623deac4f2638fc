import { buffer } from 'node:stream/consumers';
import type { ObjectStore } from '../../ports/object-store.ts';

/**
 * Amazon S3's multipart upload limits ("Amazon S3 multipart upload limits", Amazon S3
 * User Guide, https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html):
 * part numbers 1 to 10,000; a part 5 MiB to 5 GiB, except the last, which may be
 * smaller; an object at most 5 TiB. UploadPartCopy's source range obeys the same
 * part sizes. Tests hold these numbers (test/unit/concatenate-objects.test.ts).
 */
export const S3_MULTIPART_LIMITS = {
  minPartBytes: 5 * 1024 * 1024,
  maxPartBytes: 5 * 1024 * 1024 * 1024,
  maxParts: 10_000,
} as const;

export type MultipartLimits = { readonly [K in keyof typeof S3_MULTIPART_LIMITS]: number };

/** A piece of the object to build: bytes in hand, or a whole object of the store. */
export type ConcatenationPiece =
  | { readonly bytes: Buffer }
  | { readonly bucket: string; readonly key: string; readonly size: number };

/**
 * Builds `target` as the bytes of `pieces`, in order, with one multipart upload, so
 * that no piece's bytes need pass through this process: a run of at least
 * `minPartBytes` of one object is copied server-side (UploadPartCopy, whole or a
 * range, at most `maxPartBytes` each); only small pieces, and the bytes that top a
 * part up to `minPartBytes`, are read into memory, never more than `minPartBytes` at
 * once. Every part but the last is therefore at least the minimum, so an object of
 * N bytes takes at most ⌈N / minPartBytes⌉ parts. On any failure the upload is
 * aborted and the target left as it was: it appears, whole, only at completion, so a
 * retry simply builds it again.
 */
export async function concatenateObjects(
  store: Pick<ObjectStore, 'read' | 'startMultipart'>,
  target: { readonly bucket: string; readonly key: string; readonly contentType: string },
  pieces: readonly ConcatenationPiece[],
  limits: MultipartLimits = S3_MULTIPART_LIMITS,
): Promise<{ readonly parts: number; readonly bytes: number }> {
  const total = pieces.reduce((sum, piece) => sum + ('bytes' in piece ? piece.bytes.length : piece.size), 0);
  if (total === 0) throw new Error(`nothing to write to s3://${target.bucket}/${target.key}: every piece is empty`);
  const upload = await store.startMultipart(target.bucket, target.key, target.contentType);
  let partNumber = 0;
  const nextPart = () => {
    partNumber += 1;
    if (partNumber > limits.maxParts) {
      throw new Error(
        `s3://${target.bucket}/${target.key} would need more than ${limits.maxParts} parts (${total} bytes)`,
      );
    }
    return partNumber;
  };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const hold = async (bytes: Buffer) => {
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= limits.minPartBytes) await flush();
  };
  const flush = async () => {
    if (pendingBytes === 0) return;
    const body = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await upload.uploadPart(nextPart(), body);
  };
  try {
    for (const piece of pieces) {
      if ('bytes' in piece) {
        // Bytes in hand are small (a header); they are held like any short run.
        for (let at = 0; at < piece.bytes.length; at += limits.minPartBytes) {
          await hold(piece.bytes.subarray(at, at + limits.minPartBytes));
        }
        continue;
      }
      let offset = 0;
      while (offset < piece.size) {
        const left = piece.size - offset;
        if (pendingBytes === 0 && left >= limits.minPartBytes) {
          const end = offset + Math.min(left, limits.maxPartBytes);
          const range = offset === 0 && end === piece.size ? undefined : { start: offset, end };
          await upload.uploadPartCopy(nextPart(), { bucket: piece.bucket, key: piece.key, range });
          offset = end;
        } else {
          const end = offset + Math.min(left, limits.minPartBytes - pendingBytes);
          await hold(await readRange(store, piece, offset, end));
          offset = end;
        }
      }
    }
    await flush();
    await upload.complete();
  } catch (error) {
    // The upload's parts are dropped; what failed is what the caller sees.
    await upload.abort().catch(() => undefined);
    throw error;
  }
  return { parts: partNumber, bytes: total };
}

async function readRange(
  store: Pick<ObjectStore, 'read'>,
  piece: { readonly bucket: string; readonly key: string; readonly size: number },
  start: number,
  end: number,
): Promise<Buffer> {
  const stream = await store.read(
    piece.bucket,
    piece.key,
    start === 0 && end === piece.size ? undefined : { start, end },
  );
  const bytes = await buffer(stream);
  if (bytes.length !== end - start) {
    throw new Error(
      `s3://${piece.bucket}/${piece.key}: read ${bytes.length} bytes of ${start}–${end}; it changed underneath`,
    );
  }
  return bytes;
}
