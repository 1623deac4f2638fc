import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  FirehoseEventSink,
  MAX_BYTES_PER_BATCH,
  MAX_BYTES_PER_RECORD,
  MAX_EVENTS_PER_RECORD,
  MAX_RECORDS_PER_BATCH,
} from '../../lambdas/adapters/aws/firehose-event-sink.ts';
import { type LakeEvent, lakeShard } from '../../lambdas/contract/lake.ts';
import { DurabilityError } from '../../lambdas/core/shared/errors.ts';
import { trackingEvents } from '../../lambdas/core/tracking/tracking.ts';
import { deaggregate, recordsOf } from '../support/firehose.ts';

const firehose = mockClient(FirehoseClient);
const decoder = new TextDecoder();

/** A payload marker that must never show up in an error message. */
const SECRET = 'customer-secret-attribute-value';

function lakeEvent(n: number, attributes: string | null = null): LakeEvent {
  return {
    event_id: `evt-${n}`,
    event_type: 'track',
    event_name: 'report_viewed',
    user_id: `user-${n}`,
    company_id: 'acme',
    feature_id: null,
    score: null,
    comment: null,
    attributes,
    context_active: true,
    timestamp: '2024-03-01T12:00:00.000Z',
    received_at: '2024-03-01T12:00:01.000Z',
    source: 'bulk',
    app_id: 'env-1',
    dt: '2024-03-01',
    shard: lakeShard('env-1'),
    received: '2024-03-01',
  };
}

const lineBytes = (event: LakeEvent) => new TextEncoder().encode(`${JSON.stringify(event)}\n`).byteLength;

/** An event whose JSON line (newline included) is exactly `bytes` long. */
function eventOfSize(n: number, bytes: number): LakeEvent {
  const padding = bytes - lineBytes(lakeEvent(n, ''));
  const event = lakeEvent(n, 'x'.repeat(padding));
  expect(lineBytes(event)).toBe(bytes);
  return event;
}

function sentBatches(): { Data: Uint8Array }[][] {
  return firehose.commandCalls(PutRecordBatchCommand).map((call) => recordsOf(call.args[0].input));
}

/** The event ids of each record of a call, as Firehose deaggregates them. */
const recordEventIds = (records: { Data: Uint8Array }[]) =>
  records.map((r) => deaggregate(r.Data).map((e) => e.event_id));
const sentEventIds = (records: { Data: Uint8Array }[]) => recordEventIds(records).flat();
const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `evt-${from + i}`);

function accepted(count: number) {
  return { FailedPutCount: 0, RequestResponses: Array.from({ length: count }, (_, i) => ({ RecordId: `r${i}` })) };
}

function sink(overrides: Partial<ConstructorParameters<typeof FirehoseEventSink>[0]> = {}) {
  const sleeps: number[] = [];
  const instance = new FirehoseEventSink({
    client: new FirehoseClient({ region: 'us-east-1' }),
    streamName: 'featurelake-events',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  return { sink: instance, sleeps };
}

beforeEach(() => {
  firehose.reset();
});

describe('FirehoseEventSink', () => {
  it('packs the events of a call into one record of newline-delimited JSON, sent to the configured stream', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    const events = [lakeEvent(1, '{"plan":"pro"}'), lakeEvent(2)];

    await sink().sink.putEvents(events);

    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.DeliveryStreamName).toBe('featurelake-events');
    expect(sentBatches()[0]?.map((r) => decoder.decode(r.Data))).toEqual([
      events.map((e) => `${JSON.stringify(e)}\n`).join(''),
    ]);
  });

  it('packs at most 500 events per record: 1,201 events are records of 500, 500 and 201 in one call', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    const events = Array.from({ length: 1201 }, (_, i) => lakeEvent(i));

    await sink().sink.putEvents(events);

    expect(sentBatches().map(recordEventIds)).toEqual([[ids(0, 500), ids(500, 1000), ids(1000, 1201)]]);
    expect(MAX_EVENTS_PER_RECORD).toBe(500);
  });

  it('fills a record up to exactly 1,000 KiB and starts the next one a byte past it', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    const half = MAX_BYTES_PER_RECORD / 2;

    await sink().sink.putEvents([eventOfSize(1, half), eventOfSize(2, half), lakeEvent(3)]);
    expect(sentBatches().map(recordEventIds)).toEqual([[['evt-1', 'evt-2'], ['evt-3']]]);
    expect(sentBatches()[0]?.[0]?.Data.byteLength).toBe(MAX_BYTES_PER_RECORD);

    firehose.resetHistory();
    await sink().sink.putEvents([eventOfSize(1, half), eventOfSize(2, half + 1)]);
    expect(sentBatches().map(recordEventIds)).toEqual([[['evt-1'], ['evt-2']]]);
  });

  it('fills a call up to exactly 4 MiB of record data and starts a new one past it', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    // Each of these is over half a record, so every record packs one of them.
    const size = 838_861; // four of these and one 838,860-byte record make exactly 4 MiB
    expect(size * 4 + (size - 1)).toBe(MAX_BYTES_PER_BATCH);
    const exact = [1, 2, 3, 4].map((n) => eventOfSize(n, size));

    await sink({ maxConcurrentBatches: 1 }).sink.putEvents([...exact, eventOfSize(5, size - 1)]);
    const fits = sentBatches();
    expect(fits.map(sentEventIds)).toEqual([['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5']]);
    expect(fits[0]?.reduce((sum, r) => sum + r.Data.byteLength, 0)).toBe(MAX_BYTES_PER_BATCH);

    firehose.resetHistory();
    await sink({ maxConcurrentBatches: 1 }).sink.putEvents([...exact, eventOfSize(5, size)]);
    expect(sentBatches().map(sentEventIds)).toEqual([['evt-1', 'evt-2', 'evt-3', 'evt-4'], ['evt-5']]);
  });

  it('keeps every record and every call within Firehose limits, and every event exactly once, whatever the sizes', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    const maxEvents = 1_200;
    // The smallest line the longest ids allow: "evt-1199" is longer than "evt-0".
    const minLine = lineBytes(lakeEvent(maxEvents - 1, ''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.integer({ min: minLine, max: 2_000 }), fc.integer({ min: minLine, max: 400_000 })), {
          minLength: 1,
          maxLength: maxEvents,
        }),
        async (sizes) => {
          firehose.resetHistory();
          const events = sizes.map((bytes, i) => eventOfSize(i, bytes));
          await sink().sink.putEvents(events);
          for (const batch of sentBatches()) {
            expect(batch.length).toBeLessThanOrEqual(MAX_RECORDS_PER_BATCH);
            expect(batch.reduce((sum, r) => sum + r.Data.byteLength, 0)).toBeLessThanOrEqual(MAX_BYTES_PER_BATCH);
            for (const record of batch) expect(record.Data.byteLength).toBeLessThanOrEqual(MAX_BYTES_PER_RECORD);
          }
          // deaggregate() also refuses a record of more than 500 events.
          expect(sentBatches().flatMap(sentEventIds).sort()).toEqual(events.map((e) => e.event_id).sort());
        },
      ),
      { numRuns: 25 },
    );
  });

  it('delivers every event of a 1,000-call bulk exactly once after deaggregation, a failed record resent', async () => {
    const stored: string[] = [];
    let first = true;
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
      const records = recordsOf(input);
      // The first call loses its second record; only accepted records reach the lake.
      const failed = first ? 1 : -1;
      first = false;
      records.forEach((r, i) => {
        if (i !== failed) stored.push(...deaggregate(r.Data).map((e) => e.event_id));
      });
      return {
        FailedPutCount: failed >= 0 ? 1 : 0,
        RequestResponses: records.map((_, i) =>
          i === failed
            ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
            : { RecordId: `r${i}` },
        ),
      };
    });
    const calls = Array.from({ length: 1000 }, (_, i) => ({
      type: 'event',
      event: 'Opened',
      userId: `u-${i}`,
      messageId: `m-${i}`,
      attributes: { i },
    }));
    const events = trackingEvents(
      { method: 'bulk', contentType: 'application/json', body: JSON.stringify(calls) },
      { environmentId: 'env-bulk' },
      new Date('2026-03-10T12:00:00.000Z'),
    );

    await sink().sink.putEvents(events);

    expect(sentBatches().map((b) => b.length)).toEqual([2, 1]);
    expect(stored.sort()).toEqual(calls.map((c) => c.messageId).sort());
  });

  it('refuses an event over 1,000 KiB before sending anything, without echoing it', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    const tooBig = eventOfSize(2, MAX_BYTES_PER_RECORD + 1);
    tooBig.comment = SECRET;

    const error = await sink()
      .sink.putEvents([lakeEvent(1), tooBig])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DurabilityError);
    expect((error as Error).message).not.toContain(SECRET);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it('resends exactly the records Firehose reported as failed, each with every event it packs, then resolves', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 2,
        RequestResponses: [
          { RecordId: 'r0' },
          { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
          { RecordId: 'r2' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'internal' },
        ],
      })
      .resolvesOnce(accepted(2));
    const { sink: s, sleeps } = sink();

    await s.putEvents(Array.from({ length: 2000 }, (_, i) => lakeEvent(i)));

    expect(sentBatches().map(recordEventIds)).toEqual([
      [ids(0, 500), ids(500, 1000), ids(1000, 1500), ids(1500, 2000)],
      [ids(500, 1000), ids(1500, 2000)],
    ]);
    expect(sleeps).toHaveLength(1);
  });

  it('gives up with a DurabilityError after maxAttempts when a record keeps failing, backing off between tries', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
      FailedPutCount: 1,
      RequestResponses: (input.Records ?? []).map((_, i) =>
        i === 0 ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' } : { RecordId: `r${i}` },
      ),
    }));
    const { sink: s, sleeps } = sink();

    const error = await s
      .putEvents(Array.from({ length: 1000 }, (_, i) => lakeEvent(i, SECRET)))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DurabilityError);
    expect((error as Error).message).toContain('500 of 1000 events');
    expect((error as Error).message).toContain('ServiceUnavailableException');
    expect((error as Error).message).not.toContain(SECRET);
    expect((error as Error).message).not.toContain('evt-0');
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(4);
    expect(sentBatches().slice(1).map(recordEventIds)).toEqual([[ids(0, 500)], [ids(0, 500)], [ids(0, 500)]]);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[0]).toBeLessThan(sleeps[1] as number);
    expect(sleeps[1]).toBeLessThan(sleeps[2] as number);
  });

  it('honours a custom maxAttempts', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejects(new ServiceUnavailableException({ message: 'Slow down.', $metadata: {} }));

    await expect(sink({ maxAttempts: 2 }).sink.putEvents([lakeEvent(0)])).rejects.toBeInstanceOf(DurabilityError);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(2);
  });

  it('retries a throttled call with the same records and resolves when it goes through', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejectsOnce(new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 503 } }))
      .resolvesOnce(accepted(1));
    const { sink: s, sleeps } = sink();

    await s.putEvents([lakeEvent(0), lakeEvent(1)]);

    expect(sentBatches().map(recordEventIds)).toEqual([[['evt-0', 'evt-1']], [['evt-0', 'evt-1']]]);
    expect(sleeps).toHaveLength(1);
  });

  // That it rejects with a DurabilityError naming no payload is the EventSink contract
  // (test/contract/event-sink.test.ts); which error, and how many tries, are Firehose's own.
  it('names the last error once throttling persists past its 4 attempts', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejects(new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 503 } }));

    const error = await sink()
      .sink.putEvents([lakeEvent(0, SECRET)])
      .catch((e: unknown) => e);

    expect((error as Error).message).toContain('ServiceUnavailableException');
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(4);
  });

  it('does not retry when the stream does not exist', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejects(new ResourceNotFoundException({ message: 'Firehose featurelake-events not found', $metadata: {} }));

    const error = await sink()
      .sink.putEvents([lakeEvent(0)])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DurabilityError);
    expect((error as Error).message).toContain('after 1 attempt (last error: ResourceNotFoundException)');
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(1);
  });

  it('resends the whole call when Firehose reports failures without saying which', async () => {
    firehose.on(PutRecordBatchCommand).resolvesOnce({ FailedPutCount: 1 }).resolvesOnce(accepted(2));

    await sink().sink.putEvents(Array.from({ length: 600 }, (_, i) => lakeEvent(i)));

    expect(sentBatches().map(recordEventIds)).toEqual([
      [ids(0, 500), ids(500, 600)],
      [ids(0, 500), ids(500, 600)],
    ]);
  });

  // Events of 500,000 bytes: two per record, four records (eight events) per call.
  const bigEvents = (count: number) => Array.from({ length: count }, (_, i) => eventOfSize(i, 500_000));

  it('still delivers the other batches when one fails, and reports only the lost events', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
      const records = recordsOf(input);
      const [first] = deaggregate(records[0]?.Data ?? new Uint8Array());
      if (first?.event_id === 'evt-8') throw new ServiceUnavailableException({ message: 'Slow down.', $metadata: {} });
      return accepted(records.length);
    });

    const error = await sink()
      .sink.putEvents(bigEvents(20))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DurabilityError);
    expect((error as Error).message).toContain('8 of 20 events');
    const delivered = new Set(
      sentBatches()
        .filter((b) => sentEventIds(b)[0] !== 'evt-8')
        .flatMap(sentEventIds),
    );
    expect(delivered.size).toBe(12);
  });

  it('keeps at most maxConcurrentBatches calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    firehose.on(PutRecordBatchCommand).callsFake(async (input: PutRecordBatchCommandInput) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return accepted(input.Records?.length ?? 0);
    });

    await sink({ maxConcurrentBatches: 2 }).sink.putEvents(bigEvents(40));

    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(5);
    expect(peak).toBe(2);
  });
});
