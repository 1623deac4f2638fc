import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  FirehoseEventSink,
  MAX_BYTES_PER_BATCH,
  MAX_BYTES_PER_RECORD,
} from '../../lambdas/adapters/aws/firehose-event-sink.ts';
import type { LakeEvent } from '../../lambdas/contract/lake.ts';
import { DurabilityError } from '../../lambdas/core/shared/errors.ts';

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
  return firehose
    .commandCalls(PutRecordBatchCommand)
    .map((call) => (call.args[0].input as PutRecordBatchCommandInput).Records as { Data: Uint8Array }[]);
}

const sentEventIds = (records: { Data: Uint8Array }[]) =>
  records.map((r) => (JSON.parse(decoder.decode(r.Data)) as LakeEvent).event_id);

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
  it('sends each event once as a JSON line to the configured stream', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    const events = [lakeEvent(1, '{"plan":"pro"}'), lakeEvent(2)];

    await sink().sink.putEvents(events);

    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.DeliveryStreamName).toBe('featurelake-events');
    const lines = sentBatches()[0]?.map((r) => decoder.decode(r.Data));
    expect(lines).toEqual(events.map((e) => `${JSON.stringify(e)}\n`));
  });

  it('splits 1,201 events into calls of 500, 500 and 201 records, each event sent once', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    const events = Array.from({ length: 1201 }, (_, i) => lakeEvent(i));

    await sink().sink.putEvents(events);

    const batches = sentBatches();
    expect(batches.map((b) => b.length).sort((a, b) => b - a)).toEqual([500, 500, 201]);
    const ids = batches.flatMap(sentEventIds).sort();
    expect(ids).toEqual(events.map((e) => e.event_id).sort());
  });

  it('fills a call up to exactly 4 MiB of record data and starts a new one past it', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records?.length ?? 0));
    const size = 838_861; // four of these and one 838,860-byte record make exactly 4 MiB
    expect(size * 4 + (size - 1)).toBe(MAX_BYTES_PER_BATCH);
    const exact = [1, 2, 3, 4].map((n) => eventOfSize(n, size));

    await sink({ maxConcurrentBatches: 1 }).sink.putEvents([...exact, eventOfSize(5, size - 1), lakeEvent(6)]);
    const fits = sentBatches();
    expect(fits.map(sentEventIds)).toEqual([['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5'], ['evt-6']]);
    expect(fits[0]?.reduce((sum, r) => sum + r.Data.byteLength, 0)).toBe(MAX_BYTES_PER_BATCH);

    firehose.resetHistory();
    await sink({ maxConcurrentBatches: 1 }).sink.putEvents([...exact, eventOfSize(5, size), lakeEvent(6)]);
    expect(sentBatches().map(sentEventIds)).toEqual([
      ['evt-1', 'evt-2', 'evt-3', 'evt-4'],
      ['evt-5', 'evt-6'],
    ]);
    for (const batch of sentBatches()) {
      expect(batch.reduce((sum, r) => sum + r.Data.byteLength, 0)).toBeLessThanOrEqual(MAX_BYTES_PER_BATCH);
    }
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

  it('resends exactly the records Firehose reported as failed, then resolves', async () => {
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

    await s.putEvents([lakeEvent(0), lakeEvent(1), lakeEvent(2), lakeEvent(3)]);

    expect(sentBatches().map(sentEventIds)).toEqual([
      ['evt-0', 'evt-1', 'evt-2', 'evt-3'],
      ['evt-1', 'evt-3'],
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

    const error = await s.putEvents([lakeEvent(0, SECRET), lakeEvent(1, SECRET)]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DurabilityError);
    expect((error as Error).message).toContain('1 of 2 events');
    expect((error as Error).message).toContain('ServiceUnavailableException');
    expect((error as Error).message).not.toContain(SECRET);
    expect((error as Error).message).not.toContain('evt-0');
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(4);
    expect(sentBatches().slice(1).map(sentEventIds)).toEqual([['evt-0'], ['evt-0'], ['evt-0']]);
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
      .resolvesOnce(accepted(2));
    const { sink: s, sleeps } = sink();

    await s.putEvents([lakeEvent(0), lakeEvent(1)]);

    expect(sentBatches().map(sentEventIds)).toEqual([
      ['evt-0', 'evt-1'],
      ['evt-0', 'evt-1'],
    ]);
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

    await sink().sink.putEvents([lakeEvent(0), lakeEvent(1)]);

    expect(sentBatches().map(sentEventIds)).toEqual([
      ['evt-0', 'evt-1'],
      ['evt-0', 'evt-1'],
    ]);
  });

  it('still delivers the other batches when one fails, and reports only the lost records', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
      const records = input.Records ?? [];
      const first = JSON.parse(decoder.decode(records[0]?.Data)) as LakeEvent;
      if (first.event_id === 'evt-500') throw new ServiceUnavailableException({ message: 'Slow down.', $metadata: {} });
      return accepted(records.length);
    });
    const events = Array.from({ length: 1100 }, (_, i) => lakeEvent(i));

    const error = await sink()
      .sink.putEvents(events)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DurabilityError);
    expect((error as Error).message).toContain('500 of 1100 events');
    const delivered = new Set(
      sentBatches()
        .filter((b) => sentEventIds(b)[0] !== 'evt-500')
        .flatMap(sentEventIds),
    );
    expect(delivered.size).toBe(600);
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

    await sink({ maxConcurrentBatches: 2 }).sink.putEvents(Array.from({ length: 2500 }, (_, i) => lakeEvent(i)));

    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(5);
    expect(peak).toBe(2);
  });
});
