import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { LakeEvent } from '../../contract/lake.ts';
import { DurabilityError } from '../../core/shared/errors.ts';
import type { EventSink } from '../../ports/event-sink.ts';

/*
 * Firehose's limits, from the PutRecordBatch API reference ("Each PutRecordBatch
 * request supports up to 500 records. Each record in the request can be as large
 * as 1,000 KB (before base64 encoding), up to a limit of 4 MB for the entire
 * request"; "for multi record de-aggregation, you can not put more than 500
 * records [in one record]") and "Apply dynamic partitioning to aggregated data"
 * ("Record deaggregation by JSON or by delimiter is capped at 500 per record").
 */
/** PutRecordBatch accepts at most 500 records per call. */
export const MAX_RECORDS_PER_BATCH = 500;
/** …and at most 4 MiB of record data per call. */
export const MAX_BYTES_PER_BATCH = 4 * 1024 * 1024;
/** …and at most 1,000 KiB per record, before base64 encoding. */
export const MAX_BYTES_PER_RECORD = 1_000 * 1024;
/** JSON multi-record deaggregation splits at most 500 sub-records out of one record. */
export const MAX_EVENTS_PER_RECORD = 500;

/** Errors that no retry can fix: the stream is missing, misconfigured or forbidden. */
const PERMANENT_ERRORS = new Set([
  'ResourceNotFoundException',
  'InvalidArgumentException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ValidationException',
]);

export interface FirehoseEventSinkOptions {
  readonly client: FirehoseClient;
  /** The Direct PUT Firehose stream that converts to Parquet and writes the lake. */
  readonly streamName: string;
  /**
   * Sends per record, the first included. The SDK's own retries run inside each send,
   * so keep this small: a tracking call waits for all of them.
   * @default 4
   */
  readonly maxAttempts?: number;
  /** @default 4 */
  readonly maxConcurrentBatches?: number;
  /** Backoff before the n-th retry is between half and all of `min(maxDelayMs, baseDelayMs * 2^(n-1))`. @default 50 */
  readonly baseDelayMs?: number;
  /** @default 1000 */
  readonly maxDelayMs?: number;
  /** Injected so tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
}

interface PendingRecord {
  readonly data: Uint8Array;
  /** How many events the record packs. */
  readonly events: number;
}

interface BatchOutcome {
  readonly failedEvents: number;
  readonly attempts: number;
  readonly lastError: string;
  readonly cause: unknown;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Writes lake events to Firehose, packed: one record holds up to 500 events as
 * newline-delimited JSON (at most 1,000 KiB), which the stream's JSON
 * multi-record deaggregation splits back into one event per record before its
 * partition keys and its Parquet conversion see them (lib/event-stream.ts).
 * Firehose bills ingestion per record in 5 KB steps, so a ~400-byte event sent
 * alone costs as much as twelve packed ones; a 1,000-call bulk is two records.
 *
 * Resolves only when Firehose accepted every record. Firehose reports partial failures
 * in a successful response (`FailedPutCount`), so only the failed records are resent
 * (each with every event it packs); a record that is resent after all (an ambiguous
 * response) is harmless because the lake is de-duplicated by `event_id` at query time.
 */
export class FirehoseEventSink implements EventSink {
  readonly #client: FirehoseClient;
  readonly #streamName: string;
  readonly #maxAttempts: number;
  readonly #maxConcurrentBatches: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: FirehoseEventSinkOptions) {
    if (!options.streamName) throw new Error('FirehoseEventSink: streamName is required');
    const maxAttempts = options.maxAttempts ?? 4;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`FirehoseEventSink: maxAttempts must be a whole number ≥ 1, got ${maxAttempts}`);
    }
    const maxConcurrentBatches = options.maxConcurrentBatches ?? 4;
    if (!Number.isInteger(maxConcurrentBatches) || maxConcurrentBatches < 1) {
      throw new Error(
        `FirehoseEventSink: maxConcurrentBatches must be a whole number ≥ 1, got ${maxConcurrentBatches}`,
      );
    }
    this.#client = options.client;
    this.#streamName = options.streamName;
    this.#maxAttempts = maxAttempts;
    this.#maxConcurrentBatches = maxConcurrentBatches;
    this.#baseDelayMs = options.baseDelayMs ?? 50;
    this.#maxDelayMs = options.maxDelayMs ?? 1000;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
  }

  async putEvents(events: readonly LakeEvent[]): Promise<void> {
    if (events.length === 0) return;
    const batches = this.#toBatches(events);

    // Every batch runs to its end even if another fails, so the error can say how much
    // was lost and no send is still in flight when the caller answers the client.
    const outcomes: BatchOutcome[] = [];
    let nextBatch = 0;
    const worker = async () => {
      while (nextBatch < batches.length) {
        const batch = batches[nextBatch++] as PendingRecord[];
        const outcome = await this.#sendBatch(batch);
        if (outcome) outcomes.push(outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#maxConcurrentBatches, batches.length) }, worker));

    if (outcomes.length > 0) {
      const failed = outcomes.reduce((sum, o) => sum + o.failedEvents, 0);
      const last = outcomes[outcomes.length - 1] as BatchOutcome;
      // Codes and counts only: event payloads (user data) never reach an error message or log.
      throw new DurabilityError(
        `Firehose stream ${this.#streamName} did not accept ${failed} of ${events.length} events after ${last.attempts} attempt${last.attempts === 1 ? '' : 's'} (last error: ${last.lastError})`,
        last.cause,
      );
    }
  }

  #toBatches(events: readonly LakeEvent[]): PendingRecord[][] {
    const encoder = new TextEncoder();
    const records: PendingRecord[] = [];
    let lines: Uint8Array[] = [];
    let recordBytes = 0;
    const closeRecord = () => {
      if (lines.length > 0) records.push({ data: Buffer.concat(lines, recordBytes), events: lines.length });
      lines = [];
      recordBytes = 0;
    };
    events.forEach((event, index) => {
      const line = encoder.encode(`${JSON.stringify(event)}\n`);
      // The API caps request bodies well below this, so it should never happen; refuse
      // before sending anything rather than lose one event of an accepted call.
      if (line.byteLength > MAX_BYTES_PER_RECORD) {
        throw new DurabilityError(
          `event ${index} is ${line.byteLength} bytes as JSON; Firehose accepts at most ${MAX_BYTES_PER_RECORD} bytes per record`,
        );
      }
      if (lines.length === MAX_EVENTS_PER_RECORD || recordBytes + line.byteLength > MAX_BYTES_PER_RECORD) closeRecord();
      lines.push(line);
      recordBytes += line.byteLength;
    });
    closeRecord();

    const batches: PendingRecord[][] = [];
    let current: PendingRecord[] = [];
    let currentBytes = 0;
    for (const record of records) {
      if (current.length === MAX_RECORDS_PER_BATCH || currentBytes + record.data.byteLength > MAX_BYTES_PER_BATCH) {
        batches.push(current);
        current = [];
        currentBytes = 0;
      }
      current.push(record);
      currentBytes += record.data.byteLength;
    }
    batches.push(current);
    return batches;
  }

  /** Returns undefined once every record is accepted, or what was still failing after the last attempt. */
  async #sendBatch(records: PendingRecord[]): Promise<BatchOutcome | undefined> {
    let pending = records;
    let lastError = 'none';
    let cause: unknown;
    let attempt = 0;
    while (attempt < this.#maxAttempts) {
      attempt++;
      if (attempt > 1) await this.#sleep(this.#backoff(attempt - 1));
      try {
        const response = await this.#client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.#streamName,
            Records: pending.map((r) => ({ Data: r.data })),
          }),
        );
        if (!response.FailedPutCount) return undefined;
        const responses = response.RequestResponses ?? [];
        // An entry without a RecordId was not accepted; a missing entry is resent too
        // rather than assumed stored (a duplicate is harmless, a loss is not).
        // A count with no entry to match it is resent whole, for the same reason.
        let failedIndexes = pending.map((_, i) => i).filter((i) => !responses[i]?.RecordId || responses[i]?.ErrorCode);
        if (failedIndexes.length === 0) failedIndexes = pending.map((_, i) => i);
        const codes = new Set(failedIndexes.map((i) => responses[i]?.ErrorCode ?? 'NoResponseEntry'));
        lastError = [...codes].join(', ');
        cause = undefined;
        pending = failedIndexes.map((i) => pending[i] as PendingRecord);
      } catch (error) {
        lastError = errorName(error);
        cause = error;
        if (PERMANENT_ERRORS.has(lastError)) break;
      }
    }
    return { failedEvents: pending.reduce((sum, r) => sum + r.events, 0), attempts: attempt, lastError, cause };
  }

  #backoff(retry: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (retry - 1));
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }
}

function errorName(error: unknown): string {
  if (error instanceof Error) return error.name;
  return 'UnknownError';
}
