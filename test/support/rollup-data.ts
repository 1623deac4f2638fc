/**
 * Random but reproducible rollup datasets: tracking calls (as a client sends them)
 * plus a catalog and an `as_of`, from one integer seed. Small on purpose (a few
 * hundred calls), dense at the edges the definitions care about.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDbLakeCompactor, DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { DurableLogEventSink } from '../../lambdas/adapters/local/durable-log-event-sink.ts';
import { FileLakeInputsWriter } from '../../lambdas/adapters/local/file-lake-inputs-writer.ts';
import { type LakeEvent, lakeShard } from '../../lambdas/contract/lake.ts';
import { DUCKDB } from '../../lambdas/core/company-export/rollup/dialect.ts';
import { prepareCompanyRollup } from '../../lambdas/core/company-export/rollup/prepare.ts';
import { type RollupShape, rollupSqlFor } from '../../lambdas/core/company-export/rollup/sql.ts';
import type {
  RollupAggregation,
  RollupCatalog,
  RollupDate,
  RollupFeature,
  RollupSegment,
} from '../../lambdas/core/company-export/rollup/types.ts';
import type { Filter, FilterOperator, JsonValue } from '../../lambdas/core/shared/filters.ts';
import { trackingEvents } from '../../lambdas/core/tracking/tracking.ts';

const DAY_MS = 86_400_000;

/** mulberry32: tiny, fast, good enough to shuffle test data reproducibly. */
export function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
export type Prng = ReturnType<typeof prng>;

/** One tracking call as the bulk endpoint takes it (`type` plus the call's fields). */
export type TrackingCall = Record<string, unknown> & { type: 'user' | 'company' | 'event' | 'feedback' };

/** A batch of calls the tracking API received at `receivedAt` (a retry is a later batch). */
export interface CallBatch {
  readonly receivedAt: Date;
  readonly calls: TrackingCall[];
}

/**
 * A lake row written as it is (no tracking parse): feature-flag and prompt events,
 * shaped as docs/rollup.md says the tracking API stores them. `send` adds the app,
 * the partition keys and the fields these rows never carry.
 */
export type DirectRow = Pick<
  LakeEvent,
  | 'event_id'
  | 'event_type'
  | 'event_name'
  | 'user_id'
  | 'company_id'
  | 'feature_id'
  | 'attributes'
  | 'context_active'
  | 'timestamp'
  | 'received_at'
>;

export interface RollupDataset {
  readonly seed: number;
  readonly asOf: Date;
  readonly catalog: RollupCatalog;
  readonly batches: CallBatch[];
  /** Rows written straight into the lake beside the batches. */
  readonly rows: DirectRow[];
}

const EVENT_NAMES = ['opened', 'clicked', 'exported', 'shared', 'commented', 'search'];
const PLANS = ['free', 'pro', 'enterprise'];

/** Attribute values over every JSON type, with objects always keyed in one order. */
function attributeValue(r: Prng, key: string): JsonValue {
  switch (key) {
    case 'name':
      return r.pick<JsonValue>(['Acme', 'Globex, Inc.', 'Quote "Q" Ltd', 'Ünïcode ☃', '', 42, null]);
    case 'plan':
      return r.pick<JsonValue>([...PLANS, null]);
    case 'seats':
      return r.pick<JsonValue>([1, 5, 10, 10.5, 50, 100, -3, '10']);
    case 'tags':
      return r.pick<JsonValue>([[], ['beta'], ['beta', 'vip'], ['eu', 7], 'beta-tester', [null]]);
    case 'active':
      return r.pick<JsonValue>([true, false]);
    case 'a.b':
      return r.pick<JsonValue>(['x', 'y']);
    case 'meta':
      return r.pick<JsonValue>([{ tier: 1, region: 'eu' }, { tier: 2, region: 'us' }, [1, 2], null]);
    default:
      return null;
  }
}
const ATTRIBUTE_KEYS = ['name', 'plan', 'seats', 'tags', 'active', 'a.b', 'meta'];

function randomFilter(r: Prng, operator: FilterOperator): Filter {
  switch (operator) {
    case 'eq':
    case 'neq': {
      const attribute = r.pick(ATTRIBUTE_KEYS);
      return { attribute, operator, value: attributeValue(r, attribute) };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return { attribute: 'seats', operator, value: r.pick([1, 5, 10, 10.5, 50]) };
    case 'contains':
      return r.chance(0.5)
        ? { attribute: 'tags', operator, value: r.pick<JsonValue>(['beta', 'vip', 7, null, '']) }
        : { attribute: r.pick(['name', 'tags']), operator, value: r.pick(['Ac', 'beta', 'Inc', 'c']) };
    case 'in':
      return {
        attribute: r.pick(['plan', 'seats', 'meta']),
        operator,
        value: r.pick<JsonValue[]>([['pro', 'enterprise'], [null], [10, 50], [], [{ tier: 1, region: 'eu' }, 'free']]),
      };
    case 'is_set':
    case 'is_not_set':
      return { attribute: r.pick(ATTRIBUTE_KEYS), operator, value: null };
  }
}

const OPERATORS: FilterOperator[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'in', 'is_set', 'is_not_set'];

function randomCatalog(r: Prng, seed: number): RollupCatalog {
  const features: RollupFeature[] = [];
  const eventFeatures = r.int(2, 4);
  for (let i = 0; i < eventFeatures; i += 1) {
    const names = [r.pick(EVENT_NAMES), ...(r.chance(0.4) ? [r.pick(EVENT_NAMES)] : [])];
    // Some features count flag checks too; one of those may count nothing else.
    const flagChecks = r.chance(0.5);
    features.push({
      id: `f-${String.fromCharCode(97 + i)}${seed % 7}`,
      name: r.pick([`Feature ${i}`, `Feature, "${i}"`, `Fé ${i}`]),
      type: 'event',
      event_names: flagChecks && i === 0 && r.chance(0.5) ? [] : [...new Set(names)],
      ...(flagChecks ? { flag_checks: true } : r.chance(0.3) ? { flag_checks: false } : {}),
      ...(r.chance(0.3) ? { adoption: { min_active_days: r.int(1, 4), window_days: r.int(4, 10) } } : {}),
      ...(r.chance(0.3) ? { retention: { min_active_days: r.int(1, 3), window_days: r.int(3, 14) } } : {}),
    });
  }
  const attributeFeatures = r.int(1, 2);
  for (let i = 0; i < attributeFeatures; i += 1) {
    features.push({
      id: `F_attr${i}`,
      name: `Attribute ${i}`,
      type: 'attribute',
      ...randomFilter(r, r.pick(OPERATORS)),
      ...(r.chance(0.3) ? { adoption: { min_active_days: r.int(2, 6), window_days: r.int(6, 30) } } : {}),
      // Some count back past the 84 days of the frequency windows, where only the ends of
      // an attribute's spans are kept (docs/rollup.md, "Attribute spans").
      ...(r.chance(0.5)
        ? {
            retention: r.pick([
              { min_active_days: r.int(1, 3), window_days: r.int(3, 14) },
              { min_active_days: r.int(1, 3), window_days: r.int(90, 200) },
              { min_active_days: r.int(85, 100), window_days: r.int(100, 200) },
            ]),
          }
        : {}),
    } as RollupFeature);
  }
  // Segments cover every operator across a few seeds, several filters each.
  const segments: RollupSegment[] = [];
  const segmentCount = r.int(3, 5);
  for (let i = 0; i < segmentCount; i += 1) {
    const filters = Array.from({ length: r.int(0, 2) }, () =>
      randomFilter(r, OPERATORS[(seed + i) % OPERATORS.length] as FilterOperator),
    );
    if (r.chance(0.5)) filters.push(randomFilter(r, r.pick(OPERATORS)));
    segments.push({ id: `seg-${i}`, name: r.pick([`Segment ${i}`, `S, ${i}`]), filters });
  }
  return { features, segments };
}

/**
 * A dataset around `asOf`: companies calling over ~230 days (enough history for the
 * 26 weeks of 6m_weekly plus their 84-day lookback), users moving between companies,
 * tracks with and without a companyId, inactive calls, feedback, retries.
 */
export function randomRollupDataset(seed: number): RollupDataset {
  const r = prng(seed * 7919 + 17);
  // Some as_of exactly at midnight (weekly dates end on a Sunday), most mid-day.
  const baseDay = Date.UTC(2025, 2, 1) / DAY_MS + r.int(0, 60);
  const asOf = new Date(baseDay * DAY_MS + (r.chance(0.3) ? 0 : r.int(1, DAY_MS - 1)));
  const catalog = randomCatalog(r, seed);
  const firstDay = baseDay - 230;
  const companies = Array.from({ length: r.int(4, 7) }, (_, i) => (i === 0 ? 'c,1' : `c${i}${r.pick(['', 'x', 'Z'])}`));
  const users = Array.from({ length: r.int(6, 10) }, (_, i) => `u${i}`);
  const eventNames = [...new Set(catalog.features.flatMap((f) => (f.type === 'event' ? f.event_names : [])))];
  const calls: { at: number; call: TrackingCall }[] = [];
  let messageNo = 0;
  const push = (at: number, call: TrackingCall) => {
    messageNo += 1;
    const full = {
      ...call,
      timestamp: new Date(at).toISOString(),
      messageId: `m-${seed}-${messageNo}`,
      ...(r.chance(0.1) ? { context: { active: false } } : {}),
    } as TrackingCall;
    calls.push({ at, call: full });
  };

  // Instants at the edges of days, weeks and as_of, besides random ones.
  const edgeInstant = (day: number) =>
    day * DAY_MS + r.pick([0, 1, DAY_MS - 1, r.int(0, DAY_MS - 1), r.int(0, DAY_MS - 1), r.int(0, DAY_MS - 1)]);
  const asOfDay = Math.floor(asOf.getTime() / DAY_MS);
  const randomDay = () =>
    r.chance(0.6) ? r.int(asOfDay - 120, asOfDay + 1) : r.chance(0.5) ? r.int(firstDay, asOfDay + 1) : asOfDay;

  for (const company of companies) {
    const callCount = r.int(1, 5);
    for (let k = 0; k < callCount; k += 1) {
      const attributes: Record<string, JsonValue> = {};
      for (const key of ATTRIBUTE_KEYS) if (r.chance(k === 0 ? 0.7 : 0.3)) attributes[key] = attributeValue(r, key);
      const day = k === 0 ? r.int(firstDay, asOfDay - 60) : randomDay();
      push(edgeInstant(day), { type: 'company', companyId: company, ...(r.chance(0.5) ? { attributes } : {}) });
    }
  }
  for (const user of users) {
    // Users join a company, and some move to another one later (even inside the export's dates).
    const moves = r.int(0, 3);
    for (let k = 0; k < moves; k += 1) {
      push(edgeInstant(k === 0 ? r.int(firstDay, asOfDay) : randomDay()), {
        type: 'company',
        companyId: r.pick(companies),
        userId: user,
      });
    }
    if (r.chance(0.3))
      push(edgeInstant(randomDay()), { type: 'user', userId: user, attributes: { email: `${user}@x` } });
  }
  // Bursts of use: runs of days with a chosen density, so adoption and frequency tiers all occur.
  const bursts = r.int(8, 16);
  for (let b = 0; b < bursts; b += 1) {
    const user = r.pick(users);
    const company = r.chance(0.6) ? r.pick(companies) : undefined;
    const start = randomDay();
    const length = r.int(1, 40);
    const density = r.pick([0.15, 0.4, 0.7, 1]);
    const name = eventNames.length > 0 && r.chance(0.9) ? r.pick(eventNames) : 'unrelated';
    for (let d = start; d < start + length; d += 1) {
      if (!r.chance(density)) continue;
      push(edgeInstant(d), { type: 'event', event: name, userId: user, ...(company ? { companyId: company } : {}) });
    }
  }
  const featureIds = [...catalog.features.map((f) => f.id), 'no-such-feature'];
  const feedbackFields = () => {
    const withScore = r.chance(0.7);
    return {
      ...(withScore ? { score: r.int(1, 5) } : {}),
      ...(!withScore || r.chance(0.3) ? { comment: r.pick(['ok', 'needs work, really', '"great"']) } : {}),
    };
  };
  // feedbackId chains: the same id sent 1 to 3 times, across days and dates, changing
  // score, comment, feature and company; some versions share an instant (the later
  // messageId wins, all arriving together) or come with an earlier timestamp.
  for (let k = r.int(2, 6); k > 0; k -= 1) {
    const feedbackId = r.pick([`fb-${k}`, `fb-${k}`, `Fé ${k}, "x"`]);
    let day = randomDay();
    let at = edgeInstant(day);
    for (let v = r.int(1, 3); v > 0; v -= 1) {
      push(at, {
        type: 'feedback',
        featureId: r.pick(featureIds),
        userId: r.pick(users),
        ...(r.chance(0.6) ? { companyId: r.pick(companies) } : {}),
        ...feedbackFields(),
        attributes: { feedbackId, ...(r.chance(0.3) ? { source: 'widget', question: 'How is it?' } : {}) },
      });
      const step = r.pick([0, 0, 1, 1, 3, 7, 20, -2]);
      if (step === 0 && r.chance(0.5)) continue; // the very same instant
      day += step;
      at = edgeInstant(day);
    }
  }
  // Feedback whose feedbackId is not a string counts as feedback without one.
  if (r.chance(0.3)) {
    for (let k = 0; k < 2; k += 1) {
      push(edgeInstant(randomDay()), {
        type: 'feedback',
        featureId: r.pick(featureIds),
        userId: r.pick(users),
        companyId: r.pick(companies),
        score: r.int(1, 5),
        attributes: { feedbackId: r.pick<JsonValue>([7, '', null]) },
      });
    }
  }
  for (let k = r.int(3, 12); k > 0; k -= 1) {
    const withScore = r.chance(0.7);
    push(edgeInstant(randomDay()), {
      type: 'feedback',
      featureId: r.pick(featureIds),
      userId: r.pick(users),
      ...(r.chance(0.6) ? { companyId: r.pick(companies) } : {}),
      ...(withScore ? { score: r.int(1, 5) } : {}),
      ...(!withScore || r.chance(0.3) ? { comment: r.pick(['ok', 'needs work, really', '"great"']) } : {}),
    });
  }

  // Feature-flag events: checks of flag features (counting when enabled), of other
  // features and unknown keys, other actions, evalResult false or not JSON true;
  // prompt events. A company that only such rows carry ("c-ghost") is never seen.
  const flagKeys = catalog.features.filter((f) => f.type === 'event' && f.flag_checks === true).map((f) => f.id);
  const direct: { at: number; row: Omit<DirectRow, 'received_at'> }[] = [];
  let rowNo = 0;
  const pushRow = (at: number, row: Omit<DirectRow, 'received_at' | 'event_id' | 'timestamp' | 'context_active'>) => {
    rowNo += 1;
    direct.push({
      at,
      row: {
        ...row,
        event_id: `r-${seed}-${rowNo}`,
        timestamp: new Date(at).toISOString(),
        context_active: !r.chance(0.1),
      },
    });
  };
  for (let b = r.int(3, 8); b > 0; b -= 1) {
    const user = r.pick(users);
    const company = r.chance(0.5) ? r.pick(companies) : r.chance(0.2) ? 'c-ghost' : null;
    const key = flagKeys.length > 0 && r.chance(0.7) ? r.pick(flagKeys) : r.pick(featureIds);
    const start = randomDay();
    const density = r.pick([0.15, 0.4, 0.7, 1]);
    for (let d = start, end = start + r.int(1, 30); d < end; d += 1) {
      if (!r.chance(density)) continue;
      const evalResult = r.pick<JsonValue | undefined>([true, true, true, false, 'true', null, undefined]);
      const attributes = {
        targetingVersion: r.int(1, 9),
        ...(evalResult === undefined ? {} : { evalResult }),
        evalContext: { user: { id: user }, ...(company === null ? {} : { company: { id: company } }) },
        evalRuleResults: [r.chance(0.5)],
      };
      pushRow(edgeInstant(d), {
        event_type: 'feature_flag',
        event_name: r.pick(['check', 'check', 'check-is-enabled', 'check-config', 'evaluate']),
        user_id: user,
        company_id: company,
        feature_id: key,
        attributes: JSON.stringify(attributes),
      });
    }
  }
  for (let k = r.int(0, 6); k > 0; k -= 1) {
    pushRow(edgeInstant(randomDay()), {
      event_type: 'prompt_event',
      event_name: r.pick(['received', 'shown', 'dismissed']),
      user_id: r.pick(users),
      company_id: r.chance(0.3) ? r.pick(['c-ghost', ...companies]) : null,
      feature_id: r.pick(featureIds),
      attributes: JSON.stringify({ promptId: `p${k}`, promptedQuestion: 'How do you like it?' }),
    });
  }

  // Received a little after the latest instant, so no call is "in the future".
  const receivedAt = new Date(Math.max(...calls.map((c) => c.at), ...direct.map((d) => d.at)) + 1000);
  const receivedIso = receivedAt.toISOString();
  const rows: DirectRow[] = direct.map(({ row }) => ({ ...row, received_at: receivedIso }));
  // Their retries: the same event id received later, some stamped with that later time.
  const retryIso = new Date(receivedAt.getTime() + 60_000).toISOString();
  for (const { row } of direct) {
    if (!r.chance(0.08)) continue;
    rows.push({ ...row, received_at: retryIso, ...(r.chance(0.3) ? { timestamp: retryIso } : {}) });
  }
  const batches: CallBatch[] = [{ receivedAt, calls: calls.map((c) => c.call) }];
  // Retries: the same messageId again, later; a few without their timestamp, so the
  // copy's timestamp is its (later) receive time and must not count.
  const retries = calls
    .filter(() => r.chance(0.08))
    .map(({ call }) => {
      if (!r.chance(0.3)) return call;
      const { timestamp: _dropped, ...rest } = call;
      return rest as TrackingCall;
    });
  if (retries.length > 0) batches.push({ receivedAt: new Date(receivedAt.getTime() + 60_000), calls: retries });
  return { seed, asOf, catalog, batches, rows };
}

/** A local lake built through the real write path: tracking core → durable log → Parquet → DuckDB. */
export interface RollupLake {
  readonly lakeDir: string;
  readonly outDir: string;
  readonly engine: DuckDbQueryEngine;
  readonly inputs: FileLakeInputsWriter;
  /** Every lake row written so far, as the oracle reads them. */
  readonly events: LakeEvent[];
  send(appId: string, batches: readonly CallBatch[], rows?: readonly DirectRow[]): Promise<void>;
  /**
   * Writes the job's inputs, runs the rollup on DuckDB into a CSV, returns its text.
   * `trinoShaped`: the DuckDB text built in the shape Trino runs (every WITH query
   * inlined, the versioned keys by a window: `rollupSqlFor`). `text`, a shape: the
   * facts-reading text in that shape over a lake without facts (it then reads every
   * record raw), for a job of that shape (`one-date`: one date; `weeks`: dates a week apart).
   */
  export(options: {
    appId: string;
    jobId: string;
    catalog: RollupCatalog;
    aggregation: RollupAggregation;
    asOf: Date;
    trinoShaped?: boolean;
    text?: 'full' | RollupShape;
  }): Promise<{ csv: string; rows: number; windows: RollupDate[] }>;
  close(): Promise<void>;
}

/** `memoryLimit`: DuckDB's, spilling into the home past it (the stack's `FEATURELAKE_QUERY_MEMORY`). */
export async function openRollupLake(home: string, options: { memoryLimit?: string } = {}): Promise<RollupLake> {
  const lakeDir = join(home, 'lake');
  const outDir = join(home, 'out');
  const compactor = await DuckDbLakeCompactor.open(lakeDir);
  const sink = await DurableLogEventSink.open({
    logDir: join(home, 'log'),
    compact: compactor.compact,
    compactIntervalMs: 600_000,
  });
  const engine = await DuckDbQueryEngine.open({
    lakeDir,
    beforeQuery: () => sink.flushToLake(),
    csvOutputDir: outDir,
    ...(options.memoryLimit ? { memoryLimit: options.memoryLimit, spillDir: join(home, 'spill') } : {}),
  });
  const inputs = new FileLakeInputsWriter({ lakeDir });
  const events: LakeEvent[] = [];
  return {
    lakeDir,
    outDir,
    engine,
    inputs,
    events,
    async send(appId, batches, rows = []) {
      const lakeRows: LakeEvent[] = rows.map((row) => ({
        score: null,
        comment: null,
        source: 'bulk',
        ...row,
        app_id: appId,
        dt: row.timestamp.slice(0, 10),
        shard: lakeShard(appId),
        received: row.received_at.slice(0, 10),
      }));
      if (lakeRows.length > 0) {
        await sink.putEvents(lakeRows);
        events.push(...lakeRows);
      }
      for (const batch of batches) {
        for (let i = 0; i < batch.calls.length; i += 1000) {
          const body = JSON.stringify(batch.calls.slice(i, i + 1000));
          const rows = trackingEvents(
            { method: 'bulk', contentType: 'application/json', body },
            { environmentId: appId },
            batch.receivedAt,
          );
          await sink.putEvents(rows);
          events.push(...rows);
        }
      }
    },
    async export({ appId, jobId, catalog, aggregation, asOf, trinoShaped = false, text = 'full' }) {
      const fromFacts = text !== 'full';
      const prepared = prepareCompanyRollup({
        jobId,
        environmentId: appId,
        aggregation,
        asOf,
        ...catalog,
        ...(fromFacts ? { facts: { manifest: undefined } } : {}),
      });
      if (fromFacts && prepared.shape !== text)
        throw new Error(`${aggregation} is a job of the ${prepared.shape} shape`);
      await inputs.writeInputs(jobId, prepared.inputRows);
      const file = join(outDir, `${jobId}.csv`);
      const D = trinoShaped ? { ...DUCKDB, materialized: '' } : DUCKDB;
      const sql = rollupSqlFor(D, fromFacts, fromFacts ? text : 'dates');
      const { rows } = await engine.runToCsv(sql, prepared.params, file);
      const csv = await readFile(file, 'utf8');
      await rm(file);
      return { csv, rows, windows: prepared.windows };
    },
    async close() {
      await sink.close();
      engine.close();
      compactor.close();
    },
  };
}
