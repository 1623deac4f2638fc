import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LakeEvent } from '../../contract/lake.ts';
import { DurabilityError } from '../../core/shared/errors.ts';
import type { EventSink } from '../../ports/event-sink.ts';

/** Turns one sealed log segment into lake files; must be safe to run again on the same segment. */
export type SegmentCompactor = (segmentPath: string, segmentName: string) => Promise<void>;

export interface DurableLogOptions {
  /** Folder of the append-only segments. */
  readonly logDir: string;
  readonly compact: SegmentCompactor;
  /** Seal the active segment once it holds this many bytes. @default 64 MiB */
  readonly maxSegmentBytes?: number;
  /** Compact whatever was written at least this often. @default 5000 ms */
  readonly compactIntervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

interface Pending {
  readonly buffer: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const SEGMENT = /^segment-[0-9]{15}-[0-9a-f]{8}\.ndjson$/;

/**
 * The local stand-in for Firehose: an append-only NDJSON log on disk. A call is
 * acknowledged only after its bytes are written and fdatasync'ed; concurrent calls
 * share one fsync (group commit), so durability costs one disk flush per batch,
 * not per request. Sealed segments are compacted into Parquet in the background
 * and before every query, so a query started after a 200 sees the event.
 */
export class DurableLogEventSink implements EventSink {
  private active!: { handle: FileHandle; name: string; bytes: number };
  private pending: Pending[] = [];
  private commitScheduled = false;
  /** Every operation on the active segment runs on this chain, one at a time. */
  private io: Promise<unknown> = Promise.resolve();
  private compaction: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly options: DurableLogOptions) {}

  /** Recovers what a crash left (partial last lines, uncompacted segments), then opens a new segment. */
  static async open(options: DurableLogOptions): Promise<DurableLogEventSink> {
    const sink = new DurableLogEventSink(options);
    await mkdir(options.logDir, { recursive: true });
    for (const name of await sink.segmentNames()) await truncatePartialLine(join(options.logDir, name));
    sink.active = await sink.newSegment();
    await sink.compactSealed();
    const interval = options.compactIntervalMs ?? 5000;
    sink.timer = setInterval(() => {
      if (sink.active.bytes > 0) sink.flushToLake().catch((error) => sink.options.onError?.(error));
    }, interval);
    sink.timer.unref();
    return sink;
  }

  putEvents(events: readonly LakeEvent[]): Promise<void> {
    if (this.closed) return Promise.reject(new DurabilityError('the event log is closed'));
    if (events.length === 0) return Promise.resolve();
    let text = '';
    for (const event of events) text += `${JSON.stringify(event)}\n`;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ buffer: Buffer.from(text, 'utf8'), resolve, reject });
      if (!this.commitScheduled) {
        this.commitScheduled = true;
        this.onIo(() => this.commit()).catch((error) => this.options.onError?.(error));
      }
    });
  }

  /** Seals what has been acknowledged so far and compacts it into the lake. */
  async flushToLake(): Promise<void> {
    await this.onIo(() => this.rotate());
    await this.compactSealed();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flushToLake();
    this.closed = true;
    await this.onIo(() => this.active.handle.close());
  }

  private onIo<T>(task: () => Promise<T>): Promise<T> {
    const run = this.io.then(task);
    this.io = run.catch(() => undefined);
    return run;
  }

  private async commit(): Promise<void> {
    // Calls arriving from here on go into the next batch.
    this.commitScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const data = batch.length === 1 ? (batch[0] as Pending).buffer : Buffer.concat(batch.map((p) => p.buffer));
    const segment = this.active;
    try {
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await segment.handle.write(data, offset, data.length - offset, segment.bytes + offset);
        offset += bytesWritten;
      }
      await segment.handle.datasync();
      segment.bytes += data.length;
    } catch (error) {
      // Cut off whatever part of the batch reached the file, so the next batch
      // does not land after half a line; nothing in this batch was acknowledged.
      await segment.handle.truncate(segment.bytes).catch(() => undefined);
      const failure = new DurabilityError('the event could not be written to the local event log', error);
      for (const p of batch) p.reject(failure);
      return;
    }
    for (const p of batch) p.resolve();
    if (segment.bytes >= (this.options.maxSegmentBytes ?? 64 * 1024 * 1024)) {
      await this.rotate();
      this.compactSealed().catch((error) => this.options.onError?.(error));
    }
  }

  private async rotate(): Promise<void> {
    if (this.active.bytes === 0) return;
    const sealed = this.active;
    this.active = await this.newSegment();
    await sealed.handle.close();
  }

  private async newSegment(): Promise<{ handle: FileHandle; name: string; bytes: number }> {
    // Time-ordered and unique across restarts: Parquet file names derive from it.
    const name = `segment-${String(Date.now()).padStart(15, '0')}-${randomBytes(4).toString('hex')}.ndjson`;
    const handle = await open(join(this.options.logDir, name), 'wx');
    return { handle, name, bytes: 0 };
  }

  private async segmentNames(): Promise<string[]> {
    return (await readdir(this.options.logDir)).filter((name) => SEGMENT.test(name)).sort();
  }

  /** Compacts every sealed segment, oldest first; one compaction at a time. */
  private compactSealed(): Promise<void> {
    const run = this.compaction.then(async () => {
      for (const name of await this.segmentNames()) {
        if (name === this.active?.name) continue;
        const path = join(this.options.logDir, name);
        await this.options.compact(path, name.replace(/\.ndjson$/, ''));
        // Only once its rows are durable in the lake does the segment go.
        await rm(path);
      }
    });
    this.compaction = run.catch(() => undefined);
    return run;
  }
}

/** A crash can leave half a line at the end of a segment; it was never acknowledged. */
async function truncatePartialLine(path: string): Promise<void> {
  const { size } = await stat(path);
  if (size === 0) return;
  const handle = await open(path, 'r+');
  try {
    const chunk = Buffer.alloc(Math.min(size, 1024 * 1024));
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const lastNewline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (lastNewline >= 0) {
        end = start + lastNewline + 1;
        break;
      }
      end = start;
    }
    if (end < size) {
      await handle.truncate(end);
      await handle.datasync();
    }
  } finally {
    await handle.close();
  }
}
