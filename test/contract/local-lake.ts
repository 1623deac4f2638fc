import { join } from 'node:path';
import { DuckDbLakeCompactor, DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { DurableLogEventSink } from '../../lambdas/adapters/local/durable-log-event-sink.ts';
import { type LakeEvent, lakeShard } from '../../lambdas/contract/lake.ts';

/**
 * A lake event with every column set; `overrides` changes some. Its partition keys
 * follow its `app_id` and `received_at`, as tracking sets them, unless overridden.
 */
export function lakeEvent(id: string, overrides: Partial<LakeEvent> = {}): LakeEvent {
  const event: Omit<LakeEvent, 'shard' | 'received'> = {
    event_id: id,
    event_type: 'track',
    event_name: 'Clicked',
    user_id: 'u1',
    company_id: 'c1',
    feature_id: null,
    score: null,
    comment: null,
    attributes: '{"a":1}',
    context_active: true,
    timestamp: '2025-12-01T10:00:00.000Z',
    received_at: '2025-12-01T10:00:01.000Z',
    source: 'api',
    app_id: 'app-1',
    dt: '2025-12-01',
    ...overrides,
  };
  return {
    ...event,
    shard: overrides.shard ?? lakeShard(event.app_id),
    received: overrides.received ?? event.received_at.slice(0, 10),
  };
}

/** The local lake in `home` as the local stack opens it: durable log, DuckDB compaction, DuckDB queries. */
export async function openLocalLake(home: string) {
  const compactor = await DuckDbLakeCompactor.open(join(home, 'lake'));
  const sink = await DurableLogEventSink.open({
    logDir: join(home, 'log'),
    compact: compactor.compact,
    compactIntervalMs: 60_000,
  });
  const engine = await DuckDbQueryEngine.open({ lakeDir: join(home, 'lake'), beforeQuery: () => sink.flushToLake() });
  return {
    sink,
    engine,
    ids: async () => (await engine.readRows('SELECT event_id FROM events ORDER BY event_id')).map((r) => r.event_id),
    close: async () => {
      await sink.close();
      engine.close();
      compactor.close();
    },
  };
}
