import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { TrinoSQL } from 'dt-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbLakeCompactor, DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { DurableLogEventSink } from '../../lambdas/adapters/local/durable-log-event-sink.ts';
import { FileLakeInputsWriter } from '../../lambdas/adapters/local/file-lake-inputs-writer.ts';
import type { LakeEvent } from '../../lambdas/contract/lake.ts';
import type { Exclusions } from '../../lambdas/core/catalog/catalog.ts';
import { asLakeInputRows, eventsExportInputRows } from '../../lambdas/core/events-export/inputs.ts';
import { planWeeklyPartitions } from '../../lambdas/core/events-export/partitions.ts';
import { type EventsExportRequest, eventsExportRequest } from '../../lambdas/core/events-export/request.ts';
import {
  EVENTS_EXPORT_PARAM_NAMES,
  eventsExportParams,
  eventsExportSql,
} from '../../lambdas/core/events-export/sql.ts';
import type { Filter } from '../../lambdas/core/shared/filters.ts';
import { trackingEvents } from '../../lambdas/core/tracking/tracking.ts';
import { asCsvCells, type ExportedEvent, expectedExport, inFileOrder } from '../support/events-export-oracle.ts';

/**
 * The partition query on DuckDB (the local Athena) over a lake written by the real
 * tracking path, compared with a plain-JavaScript oracle for every filter; and its
 * Trino twin checked with a Trino grammar, as Athena would parse it.
 */

let home: string;
let engine: DuckDbQueryEngine;
let compactor: DuckDbLakeCompactor;
let sink: DurableLogEventSink;
let inputs: FileLakeInputsWriter;
const events: LakeEvent[] = [];
const APP = 'app-a';
const OTHER_APP = 'app-b';
const METACHARACTERS = "' OR 1=1 --";

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

async function track(environmentId: string, calls: unknown[], receivedAt: Date): Promise<void> {
  const made = trackingEvents(
    { method: 'bulk', contentType: 'application/json', body: JSON.stringify(calls) },
    { environmentId },
    receivedAt,
  );
  events.push(...made);
  await sink.putEvents(made);
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'featurelake-events-sql-'));
  const lakeDir = join(home, 'lake');
  compactor = await DuckDbLakeCompactor.open(lakeDir);
  sink = await DurableLogEventSink.open({ logDir: join(home, 'log'), compact: compactor.compact });
  engine = await DuckDbQueryEngine.open({
    lakeDir,
    beforeQuery: () => sink.flushToLake(),
    csvOutputDir: join(home, 'out'),
  });
  inputs = new FileLakeInputsWriter({ lakeDir });

  const random = seeded(7);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const companies = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', METACHARACTERS];
  const users = ['u0', 'u1', 'u2', 'u3', 'u4', METACHARACTERS, 1234567890];
  const tiers = ['gold', 'silver', 'Gold', 1, 2.5, null, true];
  const at = (day: number, minute: number) => new Date(Date.UTC(2025, 10, 20 + day, 0, minute)).toISOString();
  // Company attribute histories, some calls after the export's last day (they must not count).
  for (let i = 0; i < 60; i += 1) {
    const attributes: Record<string, unknown> = {};
    if (random() < 0.7) attributes.tier = pick(tiers);
    if (random() < 0.5) attributes.tags = [pick(['a', 'b', 'c']), pick(['a', 'x', 1])];
    if (random() < 0.5) attributes.seats = Math.floor(random() * 100);
    if (random() < 0.3) attributes.name = pick(['Acme', 'Glo, "bex"', 'Ünï\ncode']);
    await track(
      APP,
      [
        {
          type: 'company',
          companyId: pick(companies),
          userId: pick(users),
          attributes,
          timestamp: at(Math.floor(random() * 25) - 10, i),
        },
      ],
      new Date(Date.UTC(2026, 0, 1, 0, i)),
    );
  }
  // Events across the weeks of Nov 24 to Dec 8, some of them retried (same messageId, received twice).
  for (let i = 0; i < 300; i += 1) {
    const kind = pick(['event', 'event', 'event', 'feedback', 'user']);
    const call: Record<string, unknown> = {
      type: kind,
      userId: pick(users),
      timestamp: at(Math.floor(random() * 20), i % 1440),
    };
    if (random() < 0.8) call.companyId = pick(companies);
    if (kind === 'event') call.event = pick(['Clicked', 'Viewed "it"', 'Saved,all']);
    if (kind === 'feedback') {
      call.featureId = pick(['f1', 'f2']);
      if (random() < 0.7) call.score = 1 + Math.floor(random() * 5);
      if (random() < 0.5 || call.score === undefined) call.comment = pick(['ok', 'meh, "fine"', 'line\nbreak']);
    }
    if (random() < 0.5) call.attributes = { plan: pick(['pro', 'free']), n: i, nested: { deep: [1, 'two'] } };
    if (random() < 0.1) call.messageId = `retried-${i}`;
    await track(APP, [call], new Date(Date.UTC(2026, 0, 2, 0, 0, i)));
    if (call.messageId) await track(APP, [call], new Date(Date.UTC(2026, 0, 3, 0, 0, i)));
  }
  // Another environment's events on the same days and ids: never in app-a's export.
  await track(
    OTHER_APP,
    companies.map((companyId, i) => ({
      type: 'event',
      event: 'Clicked',
      userId: 'u0',
      companyId,
      timestamp: at(5, i),
    })),
    new Date(Date.UTC(2026, 0, 4)),
  );
});

afterAll(async () => {
  await sink?.close();
  engine?.close();
  compactor?.close();
  await rm(home, { recursive: true, force: true });
});

let jobNo = 0;

/** Runs the DuckDB text for every week of the request and returns each week's file text. */
async function runExport(
  body: Record<string, unknown>,
  options: { segment?: { id: string; name: string; filters: Filter[] }; exclusions?: Exclusions } = {},
): Promise<{ request: EventsExportRequest; weeks: Array<{ from: string; to: string; text: string }> }> {
  const request = eventsExportRequest.parse(body);
  jobNo += 1;
  const jobId = `job-${jobNo}`;
  await inputs.writeInputs(
    jobId,
    asLakeInputRows(
      eventsExportInputRows({
        jobId,
        appToken: 'FL-TEST',
        request,
        segment: options.segment,
        exclusions: options.exclusions,
      }),
    ),
  );
  const weeks = [];
  for (const partition of planWeeklyPartitions(request.from, request.to)) {
    const dir = join(home, 'out', `${jobId}-${partition.week}`);
    await engine.unloadToTextFiles(
      eventsExportSql('duckdb'),
      eventsExportParams({
        jobId,
        environmentId: APP,
        partition,
        segmentAsOf: options.segment ? request.to : undefined,
      }),
      dir,
      { fileSizeBytes: 1024 * 1024 * 1024 },
    );
    // The week's UNLOAD files, concatenated as the assembly step does, are gzip members of the lines.
    const names = (await readdir(dir)).sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
    const members = await Promise.all(names.map((name) => readFile(join(dir, name))));
    weeks.push({ ...partition, text: gunzipSync(Buffer.concat(members)).toString('utf8') });
  }
  return { request, weeks };
}

function expected(
  request: EventsExportRequest,
  week: { from: string; to: string },
  options: { segment?: { filters: Filter[] }; exclusions?: Exclusions } = {},
): ExportedEvent[] {
  return expectedExport({ events, appId: APP, appToken: 'FL-TEST', request, from: week.from, to: week.to, ...options });
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));

describe('events export partition query (DuckDB, against the oracle)', () => {
  const cases: Array<{
    name: string;
    body: Record<string, unknown>;
    segment?: { id: string; name: string; filters: Filter[] };
    exclusions?: Exclusions;
  }> = [
    { name: 'defaults', body: {} },
    { name: 'event types', body: { event_type: ['feedback', 'identify_company'] } },
    { name: 'users, one of them SQL metacharacters', body: { user_id: ['u1', METACHARACTERS] } },
    { name: 'companies, one of them SQL metacharacters', body: { company_id: [METACHARACTERS, 'c2'] } },
    {
      name: 'exclusions',
      body: { exclusions: true },
      exclusions: { user_ids: ['u2', METACHARACTERS], company_ids: ['c1'] },
    },
    {
      name: 'a segment of eq and in filters',
      body: { segment_id: 's1' },
      segment: {
        id: 's1',
        name: 'Gold-ish',
        filters: [{ attribute: 'tier', operator: 'in', value: ['gold', 1, true] }],
      },
    },
    {
      name: 'a segment of contains and neq (a missing attribute holds only neq)',
      body: { segment_id: 's2' },
      segment: {
        id: 's2',
        name: 'Tagged',
        filters: [
          { attribute: 'tags', operator: 'contains', value: 'a' },
          { attribute: 'tier', operator: 'neq', value: 'silver' },
        ],
      },
    },
    {
      name: 'a segment of numeric comparisons',
      body: { segment_id: 's5' },
      segment: {
        id: 's5',
        name: 'Mid-size',
        filters: [
          { attribute: 'seats', operator: 'gte', value: 10 },
          { attribute: 'seats', operator: 'lt', value: 90 },
        ],
      },
    },
    {
      name: 'a segment of is_not_set and a string contains',
      body: { segment_id: 's3' },
      segment: {
        id: 's3',
        name: 'Unset',
        filters: [
          { attribute: 'tier', operator: 'is_not_set', value: null },
          { attribute: 'name', operator: 'contains', value: 'c' },
        ],
      },
    },
    {
      name: 'a segment with no filters: every company, no event without one',
      body: { segment_id: 's4' },
      segment: { id: 's4', name: 'All', filters: [] },
    },
  ];

  for (const format of ['json', 'csv'] as const) {
    for (const c of cases) {
      it(`${format}: ${c.name}`, async () => {
        const { request, weeks } = await runExport({ from: '2025-11-30', to: '2025-12-09', format, ...c.body }, c);
        expect(weeks.map((w) => [w.from, w.to])).toEqual([
          ['2025-11-30', '2025-11-30'],
          ['2025-12-01', '2025-12-07'],
          ['2025-12-08', '2025-12-09'],
        ]);
        let total = 0;
        for (const week of weeks) {
          const oracle = expected(request, week, c);
          total += oracle.length;
          if (format === 'json') {
            const got = jsonLines(week.text);
            expect(got).toEqual(
              inFileOrder(
                oracle,
                got.map((e) => e.event_id),
              ),
            );
          } else {
            const rows: string[][] = parse(week.text);
            const cells = asCsvCells(
              inFileOrder(
                oracle,
                rows.map((row) => row[1]),
              ),
            );
            expect(parse(`${cells[0]?.join(',')}\r\n${week.text}`)).toEqual(cells);
            // Byte for byte what csv-stringify writes: quoted only where needed, CRLF. (With
            // CRLF records csv-stringify alone leaves a bare LF unquoted, which parsers split on.)
            expect(week.text).toBe(stringify(cells.slice(1), { record_delimiter: 'windows', quoted_match: /[\r\n]/ }));
          }
        }
        // A comparison of empty files would prove nothing.
        expect(total).toBeGreaterThan(c.name.startsWith('users') || c.name.startsWith('companies') ? 3 : 10);
      });
    }
  }

  it('keeps one copy of a retried event, and nothing of another environment', async () => {
    const { weeks } = await runExport({ from: '2025-11-20', to: '2025-12-14' });
    const exported = weeks.flatMap((w) => jsonLines(w.text)) as ExportedEvent[];
    const ids = exported.map((e) => e.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.some((id) => String(id).startsWith('retried-'))).toBe(true);
    const otherIds = new Set(events.filter((e) => e.app_id === OTHER_APP).map((e) => e.event_id));
    expect(ids.filter((id) => otherIds.has(String(id)))).toEqual([]);
  });
});

describe('events export partition query (Trino, as Athena parses it)', () => {
  it('is valid Trino SQL with every value a ? in a WHERE clause', () => {
    const sql = eventsExportSql('trino');
    expect(new TrinoSQL().validate(sql)).toEqual([]);
    expect(sql.match(/\?/g)).toHaveLength(EVENTS_EXPORT_PARAM_NAMES.length);
    // Each ? sits in a WHERE clause: the text before it, back to its clause, has a WHERE and no SELECT list.
    for (const match of sql.matchAll(/\?/g)) {
      const before = sql.slice(0, match.index);
      expect(before.lastIndexOf('WHERE')).toBeGreaterThan(before.lastIndexOf('FROM'));
    }
    expect(sql).not.toContain(METACHARACTERS);
  });
});
