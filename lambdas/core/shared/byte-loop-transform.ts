import { Transform, type TransformCallback } from 'node:stream';

/**
 * A byte stream transform written as two synchronous functions: the bytes a
 * chunk turns into, and the bytes the end of the input adds. An error either
 * throws fails the stream. The export CSV encoder's byte loop (`ExportCsvEncoder`)
 * is built on it.
 */
export abstract class ByteLoopTransform extends Transform {
  /** The output for one input chunk (may be empty). */
  protected abstract transformBytes(chunk: Buffer): Buffer;
  /** The output the end of the input adds (may be empty); throws when the input ended where it must not. */
  protected abstract flushBytes(): Buffer;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const out = this.transformBytes(chunk);
      if (out.length > 0) this.push(out);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      const out = this.flushBytes();
      if (out.length > 0) this.push(out);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
