import { FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandInput } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { FirehoseEventSink } from '../../lambdas/adapters/aws/firehose-event-sink.ts';
import { ApiGatewayServer, type LambdaHttpHandler } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { LAKE_FIRST_DATE, type LakeEvent, MAX_FUTURE_MS } from '../../lambdas/contract/lake.ts';
import { type HandlerName, ROUTES } from '../../lambdas/contract/routes.ts';
import { newEnvironment } from '../../lambdas/core/environments/environments.ts';
import { trackingEvents } from '../../lambdas/core/tracking/tracking.ts';
import { makeHandler } from '../../lambdas/handlers/tracking.ts';
import { featurelake, resourceOf } from '../infra/featurelake-app.ts';
import { deaggregate, partitionKeys, recordsOf, s3Prefix } from '../support/firehose.ts';
import { http, type InMemoryStateTable, inMemoryStateTable } from '../support/local-stack.ts';

/**
 * The tracking Lambda as deployed (its handler, the environment store over dynalite,
 * the Firehose sink over an SDK mock), and what the deployed stream would do with
 * what it sends: each record split by JSON deaggregation and routed by the very jq
 * query and S3 prefix the stack synthesizes. Firehose allows 500 active partitions
 * per stream by default; records past that go to the error prefix after the API
 * answered 200 (AWS "Buffer data for dynamic partitioning", activePartitionExceeded).
 */

/** Firehose's default quota of active partitions per stream ("Buffer data for dynamic partitioning"). */
const ACTIVE_PARTITIONS_QUOTA = 500;

const TABLE = 'tracking-firehose-test';
const firehose = mockClient(FirehoseClient);

/** What the synthesized stack says about routing and projection. */
function deployedLayout() {
  const { data, stacks } = featurelake();
  const destination = resourceOf(data, stacks.data.eventStream.deliveryStream).Properties
    .ExtendedS3DestinationConfiguration as {
    Prefix: string;
    ProcessingConfiguration: {
      Processors: { Type: string; Parameters: { ParameterName: string; ParameterValue: string }[] }[];
    };
  };
  const query = destination.ProcessingConfiguration.Processors.flatMap((p) => p.Parameters).find(
    (p) => p.ParameterName === 'MetadataExtractionQuery',
  )?.ParameterValue as string;
  const table = resourceOf(data, stacks.data.lake.table).Properties.TableInput as {
    Parameters: Record<string, unknown>;
  };
  const template = JSON.stringify(table.Parameters['storage.location.template']);
  const [shardMin, shardMax] = String(table.Parameters['projection.shard.range']).split(',').map(Number);
  const [receivedMin, receivedMax] = String(table.Parameters['projection.received.range']).split(',');
  return {
    query,
    prefix: destination.Prefix,
    /** Whether Athena's projection enumerates the partition at `prefix` (NOW read as `now`). */
    covers(keys: Record<string, string>, prefix: string, now: Date): boolean {
      const projected = `events/shard=${keys.shard}/received=${keys.received}/`;
      const shard = Number(keys.shard);
      const received = keys.received as string;
      return (
        prefix === projected &&
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's placeholders, literally.
        template.includes('/events/shard=${shard}/received=${received}/') &&
        Number.isInteger(shard) &&
        shard >= (shardMin as number) &&
        shard <= (shardMax as number) &&
        /^\d{4}-\d{2}-\d{2}$/.test(received) &&
        received >= (receivedMin as string) &&
        receivedMax === 'NOW' &&
        received <= now.toISOString().slice(0, 10)
      );
    },
  };
}

/** Every event Firehose accepted, each with the S3 prefix the deployed stream gives it. */
function routed(
  layout: ReturnType<typeof deployedLayout>,
): { event: LakeEvent; prefix: string; keys: Record<string, string> }[] {
  return firehose.commandCalls(PutRecordBatchCommand).flatMap((call) =>
    recordsOf(call.args[0].input)
      .flatMap((record) => deaggregate(record.Data))
      .map((event) => {
        const keys = partitionKeys(layout.query, event as unknown as Record<string, unknown>);
        return { event, keys, prefix: s3Prefix(layout.prefix, keys) };
      }),
  );
}

const acceptAll = (input: PutRecordBatchCommandInput) => ({
  FailedPutCount: 0,
  RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
});

let state: InMemoryStateTable;
let environments: DynamoDbEnvironmentStore;
let api: ApiGatewayServer;
let url: string;
let now = new Date('2026-03-10T23:59:30.000Z');
let lookups = 0;
let apiKeyLookups = 0;

beforeAll(async () => {
  state = await inMemoryStateTable(TABLE);
  environments = new DynamoDbEnvironmentStore({ client: state.documents, tableName: TABLE });
  const handler = makeHandler({
    sink: new FirehoseEventSink({ client: new FirehoseClient({ region: 'eu-west-1' }), streamName: 'events' }),
    environments: {
      findByTrackingKey: (key) => {
        lookups++;
        return environments.findByTrackingKey(key);
      },
      findByApiKeyHash: (hash) => {
        apiKeyLookups++;
        return environments.findByApiKeyHash(hash);
      },
    },
    clock: { now: () => now },
  });
  api = new ApiGatewayServer(
    ROUTES.filter((route) => route.handler === 'tracking'),
    { tracking: handler } as unknown as Record<HandlerName, LambdaHttpHandler>,
  );
  url = await api.listen(0);
});

afterAll(async () => {
  await api?.close();
  await state?.close();
});

beforeEach(() => {
  firehose.reset();
  firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
});

async function environment(name: string) {
  const { stored, created } = newEnvironment({ name, plan: 'free' }, now);
  await environments.create(stored);
  return created;
}

const send = (trackingKey: string, method: string, body: unknown) =>
  http(`${url}/${trackingKey}/${method}`, { headers: { 'content-type': 'application/json' }, body });

describe('tracking keys', () => {
  it('a key created right after a miss works on the next call: unknown keys are not cached', async () => {
    const { stored, created } = newEnvironment({ name: 'late', plan: 'free' }, now);
    expect((await send(created.tracking_key, 'event', { event: 'x', userId: 'u' })).status).toBe(404);
    await environments.create(stored);
    expect((await send(created.tracking_key, 'event', { event: 'x', userId: 'u' })).status).toBe(200);
  });

  it('a found key is remembered: a second call within the minute reads no key index', async () => {
    const env = await environment('cached');
    lookups = 0;
    await send(env.tracking_key, 'user', { userId: 'u' });
    await send(env.tracking_key, 'user', { userId: 'u' });
    expect(lookups).toBe(1);
  });

  it('a server SDK’s API key (Bearer) is found by its hash once, and never sends a tracking-key read', async () => {
    const env = await environment('server-sdk');
    lookups = 0;
    apiKeyLookups = 0;
    for (let i = 0; i < 3; i++) {
      const response = await http(`${url}/bulk`, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${env.api_key}` },
        body: [{ type: 'user', userId: 'u' }],
      });
      expect(response.status, response.text).toBe(200);
    }
    expect({ lookups, apiKeyLookups }).toEqual({ lookups: 0, apiKeyLookups: 1 });
  });
});

describe('what Firehose would see within one buffer interval', () => {
  it('bulk calls over 2,000 distinct days and 600 environments: every event lands once, in < 500 partitions Athena projects', async () => {
    const layout = deployedLayout();
    const envs = [];
    for (let i = 0; i < 600; i++) envs.push(await environment(`env-${i}`));
    const sentIds: string[] = [];
    // 60 seconds of traffic, across midnight UTC (so two receive dates).
    const start = new Date('2026-03-10T23:59:30.000Z');
    const day = (n: number) => new Date(Date.parse('2020-01-01T12:00:00.000Z') + n * 86_400_000).toISOString();
    for (const [i, env] of envs.entries()) {
      now = new Date(start.getTime() + (i * 60_000) / envs.length);
      const calls = [{ type: 'user', userId: `u-${i}`, messageId: `m-${i}` }];
      // Two of them backfill 1,000 distinct days each: 2,000 distinct event dates.
      if (i < 2) {
        for (let d = 0; d < 1000; d++) {
          calls.push({
            type: 'user',
            userId: `u-${i}`,
            messageId: `m-${i}-${d}`,
            timestamp: day(i * 1000 + d),
          } as never);
        }
      }
      const response = await send(env.tracking_key, 'bulk', calls.slice(0, 1000));
      expect(response.status, response.text).toBe(200);
      if (calls.length > 1000) expect((await send(env.tracking_key, 'bulk', calls.slice(1000))).status).toBe(200);
      sentIds.push(...calls.map((c) => c.messageId));
    }

    const events = routed(layout);
    expect(events.map((e) => e.event.event_id).sort()).toEqual(sentIds.sort());
    expect(new Set(events.map((e) => e.event.dt)).size).toBeGreaterThanOrEqual(2000);
    // Under the old layout (app_id × event date) this traffic made 2,600 partitions, past the quota.
    expect(new Set(events.map((e) => `${e.event.app_id}/${e.event.dt}`)).size).toBeGreaterThan(ACTIVE_PARTITIONS_QUOTA);

    const partitions = new Set(events.map((e) => e.prefix));
    expect(partitions.size).toBeLessThanOrEqual(64 * 2);
    expect(partitions.size).toBeLessThanOrEqual(ACTIVE_PARTITIONS_QUOTA);
    for (const e of events) expect(layout.covers(e.keys, e.prefix, now), e.prefix).toBe(true);
  }, 120_000);

  it('for any environments and timestamps, one buffer interval stays within 64 shards × 2 receive dates', async () => {
    const layout = deployedLayout();
    const sink = new FirehoseEventSink({ client: new FirehoseClient({ region: 'eu-west-1' }), streamName: 'events' });
    await fc.assert(
      fc.asyncProperty(
        fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.array(
          fc.record({
            environmentId: fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
            // Seconds into the interval; Firehose may hold a buffer up to 1.5 × 60 s.
            second: fc.integer({ min: 0, max: 90 }),
            timestamps: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 20 }),
          }),
          { minLength: 1, maxLength: 80 },
        ),
        async (start, requests) => {
          firehose.resetHistory();
          let last = start;
          for (const request of requests) {
            const at = new Date(start.getTime() + request.second * 1000);
            if (at > last) last = at;
            const first = Date.parse(`${LAKE_FIRST_DATE}T00:00:00.000Z`);
            const span = at.getTime() + MAX_FUTURE_MS - first;
            const calls = request.timestamps.map((t) => ({
              type: 'user',
              userId: 'u',
              timestamp: new Date(first + Math.floor((t / 1_000_000) * span)).toISOString(),
            }));
            const body = JSON.stringify(calls);
            await sink.putEvents(
              trackingEvents(
                { method: 'bulk', contentType: 'application/json', body },
                { environmentId: request.environmentId },
                at,
              ),
            );
          }
          const events = routed(layout);
          expect(new Set(events.map((e) => e.prefix)).size).toBeLessThanOrEqual(64 * 2);
          for (const e of events) expect(layout.covers(e.keys, e.prefix, last)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
