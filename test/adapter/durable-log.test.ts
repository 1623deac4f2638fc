import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_COLUMNS, EVENT_PARTITION_COLUMNS, lakeShard } from '../../lambdas/contract/lake.ts';
import { lakeEvent, openLocalLake as openLake } from '../contract/local-lake.ts';
import { tempHome } from '../support/local-stack.ts';

const homes: string[] = [];
afterEach(async () => {
  for (const home of homes.splice(0)) await rm(home, { recursive: true, force: true });
});

// Acknowledging events once durable is the EventSink contract (test/contract/event-sink.test.ts).
describe('DurableLogEventSink with DuckDB compaction', () => {
  it('drops the half-written last line a crash leaves, keeping every complete one', async () => {
    const home = await tempHome();
    homes.push(home);
    await mkdir(join(home, 'log'), { recursive: true });
    const lines = [lakeEvent('e1'), lakeEvent('e2')].map((e) => JSON.stringify(e)).join('\n');
    const partial = JSON.stringify(lakeEvent('e3')).slice(0, 40);
    await writeFile(join(home, 'log', 'segment-000000000000001-0000abcd.ndjson'), `${lines}\n${partial}`);
    const lake = await openLake(home);
    expect(await lake.ids()).toEqual(['e1', 'e2']);
    await lake.close();
  });

  it('compacting a segment again after a crash does not duplicate its rows', async () => {
    const home = await tempHome();
    homes.push(home);
    await mkdir(join(home, 'log'), { recursive: true });
    const segment = join(home, 'log', 'segment-000000000000002-0000beef.ndjson');
    await writeFile(
      segment,
      `${JSON.stringify(lakeEvent('d1'))}\n${JSON.stringify(lakeEvent('d2', { dt: '2025-12-02', timestamp: '2025-12-02T00:00:00.000Z' }))}\n`,
    );
    const backup = join(home, 'segment.bak');
    await copyFile(segment, backup);
    let lake = await openLake(home);
    expect(await lake.ids()).toEqual(['d1', 'd2']);
    await lake.close();
    // The crash: Parquet files were renamed into place, the log segment was not yet removed.
    await copyFile(backup, segment);
    lake = await openLake(home);
    expect(await lake.ids()).toEqual(['d1', 'd2']);
    expect(await readdir(join(home, 'log'))).toHaveLength(1); // only the new, empty active segment
    await lake.close();
  });

  it('writes Parquet whose columns and types are the ones the Glue table declares', async () => {
    const home = await tempHome();
    homes.push(home);
    const lake = await openLake(home);
    await lake.sink.putEvents([lakeEvent('s1', { score: 4, feature_id: 'f' })]);
    const described = await lake.engine.readRows(
      'SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM events)',
    );
    const duckType = { string: 'VARCHAR', int: 'INTEGER', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP' } as const;
    expect(described).toEqual(
      [...EVENT_COLUMNS, ...EVENT_PARTITION_COLUMNS].map((c) => ({
        column_name: c.name,
        column_type: duckType[c.type],
      })),
    );
    const [row] = await lake.engine.readRows(
      'SELECT score, feature_id, timestamp, app_id, dt, shard, received FROM events',
    );
    expect(row).toEqual({
      score: 4,
      feature_id: 'f',
      timestamp: '2025-12-01T10:00:00.000Z',
      app_id: 'app-1',
      dt: '2025-12-01',
      shard: lakeShard('app-1'),
      received: '2025-12-01',
    });
    await lake.close();
  });

  it('lays files out as Firehose does: events/shard=<n>/received=<date>/, app_id and dt inside the file', async () => {
    const home = await tempHome();
    homes.push(home);
    const lake = await openLake(home);
    // A backfill: an event from 2021 received on 2025-12-01 lands under the receive date.
    await lake.sink.putEvents([
      lakeEvent('old', { timestamp: '2021-03-04T05:06:07.000Z', dt: '2021-03-04' }),
      lakeEvent('other', { app_id: 'app-2' }),
    ]);
    expect(await lake.ids()).toEqual(['old', 'other']);
    const files = (await readdir(join(home, 'lake', 'events'), { recursive: true })).filter((f) =>
      f.endsWith('.parquet'),
    );
    expect(files.map((f) => f.split('/').slice(0, 2).join('/')).sort()).toEqual(
      [`shard=${lakeShard('app-1')}/received=2025-12-01`, `shard=${lakeShard('app-2')}/received=2025-12-01`].sort(),
    );
    await lake.close();
  });
});
