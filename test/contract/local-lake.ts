import { join } from 'node:path';
import { DuckDbLakeCompactor, DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { DurableLogEventSink } from '../../lambdas/adapters/local/durable-log-event-sink.ts';
import type { LakeEvent } from '../../lambdas/contract/lake.ts';

/** A lake event with every column set; `overrides` changes some. */
export function lakeEvent(id: string, overrides: Partial<LakeEvent> = {}): LakeEvent {
  return {
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
