/**
 * Daily facts in the rollup's test lakes: a dataset's calls spread over a timeline of
 * receipts (most soon after their timestamp, some late, some backfilled, retries after
 * them), and a lake that builds facts at chosen instants and exports from them.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDbFactsManifestStore } from '../../lambdas/adapters/aws/dynamodb-facts-manifest-store.ts';
import { FolderFactsBuildFiles } from '../../lambdas/adapters/local/folder-facts-build-files.ts';
import { EVENT_ID_DEDUP_DAYS } from '../../lambdas/contract/lake.ts';
import type { FactsManifest } from '../../lambdas/core/company-export/facts/manifest.ts';
import { runCompanyFactsBuild } from '../../lambdas/core/company-export/facts/steps.ts';
import { prepareCompanyRollup, preparedRollupSql } from '../../lambdas/core/company-export/rollup/prepare.ts';
import type { RollupAggregation, RollupCatalog, RollupDate } from '../../lambdas/core/company-export/rollup/types.ts';
import { inMemoryStateTable } from './local-stack.ts';
import {
  type CallBatch,
  type DirectRow,
  openRollupLake,
  type Prng,
  type RollupDataset,
  type RollupLake,
  type TrackingCall,
} from './rollup-data.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One delivery: what the tracking API received at one instant. */
export interface Delivery {
  readonly receivedAt: Date;
  readonly calls: TrackingCall[];
  readonly rows: DirectRow[];
}

/** How long after its timestamp a call is received: mostly soon (across midnight too), some days late, a few backfills. */
function delayMs(r: Prng): number {
  if (r.chance(0.8)) return r.int(0, 3 * HOUR_MS);
  if (r.chance(0.7)) return r.int(1, 5) * DAY_MS + r.int(0, DAY_MS);
  return r.int(20, 60) * DAY_MS;
}

/**
 * How long after its original a retry arrives: mostly within 36 hours (across
 * midnight), one in four within two weeks, so that some copies arrive after
 * EVENT_ID_DEDUP_DAYS and count again, with builds in between.
 */
function retryDelayMs(r: Prng): number {
  return r.chance(0.25) ? r.int(1, 2 * EVENT_ID_DEDUP_DAYS * DAY_MS) : r.int(1, 36 * HOUR_MS);
}

/** Ten-minute slots: calls received in one slot arrive as one batch at its end. */
const slot = (ms: number) => Math.ceil((ms + 1) / (10 * 60_000)) * 10 * 60_000;

/**
 * The dataset's calls and rows, each received some time after its own timestamp, and
 * its retries (same messageId / event id) received some time after their original:
 * with their timestamp, or without one (the retry's timestamp is then its receipt,
 * maybe the next day). Deliveries in receipt order.
 */
export function timeline(dataset: RollupDataset, r: Prng): Delivery[] {
  const bySlot = new Map<number, { calls: TrackingCall[]; rows: DirectRow[] }>();
  const at = (ms: number) => {
    const key = slot(ms);
    const entry = bySlot.get(key) ?? { calls: [], rows: [] };
    bySlot.set(key, entry);
    return { key, entry };
  };
  const [originals, retries] = dataset.batches as [CallBatch, CallBatch | undefined];
  const receivedOf = new Map<string, number>();
  for (const call of originals.calls) {
    const { key, entry } = at(Date.parse(call.timestamp as string) + delayMs(r));
    entry.calls.push(call);
    receivedOf.set(call.messageId as string, key);
  }
  for (const call of retries?.calls ?? []) {
    const original = receivedOf.get(call.messageId as string) as number;
    entry(at(original + retryDelayMs(r))).calls.push(call);
  }
  const rowReceived = new Map<string, number>();
  for (const row of dataset.rows) {
    const first = rowReceived.get(row.event_id);
    const key = first === undefined ? slot(Date.parse(row.timestamp) + delayMs(r)) : slot(first + retryDelayMs(r));
    if (first === undefined) rowReceived.set(row.event_id, key);
    const received = new Date(key).toISOString();
    // A retried row stamped with its receipt, as the dataset's retries sometimes are.
    const retryStamped = first !== undefined && row.timestamp === row.received_at;
    at(key - 1).entry.rows.push({ ...row, received_at: received, ...(retryStamped ? { timestamp: received } : {}) });
  }
  return [...bySlot.entries()]
    .sort(([a], [b]) => a - b)
    .map(([key, { calls, rows }]) => ({ receivedAt: new Date(key), calls, rows }));
}

function entry(x: { entry: { calls: TrackingCall[]; rows: DirectRow[] } }) {
  return x.entry;
}

export interface FactsLake {
  readonly lake: RollupLake;
  /** The dynalite holding the manifest, for a child process's client; its table is `state`. */
  readonly dynamoEndpoint: string;
  readonly manifest: DynamoDbFactsManifestStore;
  readonly files: FolderFactsBuildFiles;
  /** Delivers what was received up to `until`, then builds facts as a run at `now` would. */
  deliver(appId: string, deliveries: readonly Delivery[], until: Date): Promise<void>;
  build(appId: string, now: Date, days?: { from: string; to: string }): Promise<{ days: number; rows: number }>;
  readManifest(appId: string): Promise<FactsManifest | undefined>;
  exportFromFacts(options: {
    appId: string;
    jobId: string;
    catalog: RollupCatalog;
    aggregation: RollupAggregation;
    asOf: Date;
  }): Promise<{ csv: string; rows: number; windows: RollupDate[] }>;
  close(): Promise<void>;
}

export async function openFactsLake(home: string): Promise<FactsLake> {
  const lake = await openRollupLake(home);
  const table = await inMemoryStateTable('state');
  const manifest = new DynamoDbFactsManifestStore({ client: table.documents, tableName: 'state' });
  const files = new FolderFactsBuildFiles({ lakeDir: lake.lakeDir });
  const delivered = new Set<Delivery>();
  return {
    lake,
    dynamoEndpoint: table.endpoint,
    manifest,
    files,
    async deliver(appId, deliveries, until) {
      for (const delivery of deliveries) {
        if (delivered.has(delivery) || delivery.receivedAt > until) continue;
        delivered.add(delivery);
        await lake.send(appId, [{ receivedAt: delivery.receivedAt, calls: delivery.calls }], delivery.rows);
      }
    },
    async build(appId, now, days) {
      const { plan, rows } = await runCompanyFactsBuild(
        {
          manifest,
          query: lake.engine,
          inputs: lake.inputs,
          files,
          writer: lake.engine,
          clock: { now: () => now },
        },
        { app_id: appId, ...(days ? { days } : {}) },
      );
      return { days: plan.days_count, rows };
    },
    readManifest: (appId) => manifest.readFactsManifest(appId),
    async exportFromFacts({ appId, jobId, catalog, aggregation, asOf }) {
      const prepared = prepareCompanyRollup({
        jobId,
        environmentId: appId,
        aggregation,
        asOf,
        ...catalog,
        facts: { manifest: await manifest.readFactsManifest(appId) },
      });
      await lake.inputs.writeInputs(jobId, prepared.inputRows);
      const file = join(lake.outDir, `${jobId}.csv`);
      // The text the workflow's Choice would pick: the one-date shape for a `today` job.
      const { rows } = await lake.engine.runToCsv(preparedRollupSql('duckdb', prepared), prepared.params, file);
      const csv = await readFile(file, 'utf8');
      await rm(file);
      return { csv, rows, windows: prepared.windows };
    },
    async close() {
      await lake.close();
      await table.close();
    },
  };
}
