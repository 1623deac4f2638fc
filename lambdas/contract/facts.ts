/**
 * The lake's daily facts (DESIGN "Daily facts"): the one definition of the
 * `company_facts` table's columns and layout, and of the manifest item that says
 * which build of each (environment, day) is current. The CDK Glue table, the local
 * DuckDB view, the facts build (Athena UNLOAD / DuckDB COPY) and the exports all
 * read these lists, so the two lakes cannot drift.
 *
 * What the table holds, per environment and UTC day (`dt`), for the records of that
 * day received before the build's cutoff, de-duplicated by `event_id` over the
 * whole lake as it was at the cutoff (the copy received first wins):
 * - `kind = 'use'`: one row per subject × use key, where the subject is a company
 *   (`company_id`, for tracks and counting flag checks carrying one) or a user
 *   (`user_id`, for those without a company, attributed at export time through
 *   membership as of each output date), and the use key a track's `event_name`
 *   (`event_type = 'track'`) or the key of a flag check that is a use when its
 *   feature counts flag checks (`event_type = 'feature_flag'`: action `check` or
 *   `check-is-enabled`, `evalResult` JSON `true`). Its first, last and last active
 *   instants are all the rollup needs of those records (min/max: the catalog
 *   decides at export time which keys are which feature's uses).
 * - `kind = 'record'`: a verbatim copy of each kept company call and feedback of
 *   the day (few: the rollup replays them, so they stay records).
 * Nothing else of a day counts in the rollup (user calls, prompt events, flag
 * events that are no use), so nothing else is kept.
 *
 * Layout: `company_facts/shard=<0..63>/<app_id>/<build_id>/<files>.parquet`. `shard` is the
 * only partition key (the events table's `lakeShard`, projected 0..63 as there);
 * `app_id`, `dt` and `build_id` are columns. Each build writes under a prefix of its
 * own that nothing else writes to (Athena's UNLOAD needs an empty destination; it
 * also allows at most 100 partitions, so a build over many days cannot be a
 * partitioned UNLOAD), and becomes current only when the manifest item names it: a
 * build that dies half-written is never read, and `cleanup` deletes it later.
 * Not `app_id=`/`dt=` partitions: an `app_id` partition could only be an injected
 * projection, which Athena evaluates only for constants of the query text (issue 11,
 * finding 8; execution parameters are not promised to be), and a `build_id` one
 * likewise. The app and build folders have no `key=` form, so DuckDB's hive reading
 * sees the same single partition key Glue does; the app folder lets cleanup list one
 * environment's builds (the shard is shared).
 */
import type { LakeColumn } from './lake.ts';

export const COMPANY_FACTS_TABLE_NAME = 'company_facts';

/** The columns, in file order (the partition key `shard` comes from the path). */
export const COMPANY_FACT_COLUMNS = [
  { name: 'app_id', type: 'string', comment: 'the environment id' },
  { name: 'dt', type: 'string', comment: 'the UTC day the row summarises, YYYY-MM-DD' },
  { name: 'build_id', type: 'string', comment: 'the build that wrote the row (the manifest says which is current)' },
  { name: 'kind', type: 'string', comment: 'use (tracks and counting flag checks, aggregated) | record (verbatim)' },
  {
    name: 'event_type',
    type: 'string',
    comment: 'use: track | feature_flag; record: identify_company | feedback',
  },
  { name: 'company_id', type: 'string', comment: 'the company (use: null when the records carried none)' },
  { name: 'user_id', type: 'string', comment: 'use: the user when the records carried no company; record: userId' },
  { name: 'use_key', type: 'string', comment: 'use: the track event_name, or the checked flag key' },
  { name: 'first_ts', type: 'timestamp', comment: 'use: earliest timestamp of the records' },
  { name: 'last_ts', type: 'timestamp', comment: 'use: latest timestamp of the records' },
  {
    name: 'last_active_ts',
    type: 'timestamp',
    comment: 'use: latest timestamp of the records with context_active true (null: none)',
  },
  { name: 'records', type: 'int', comment: 'use: how many kept records the row summarises' },
  { name: 'event_id', type: 'string', comment: 'record: the event id' },
  { name: 'feature_id', type: 'string', comment: 'record: a feedback’s featureId' },
  { name: 'score', type: 'int', comment: 'record: a feedback’s score' },
  { name: 'attributes', type: 'string', comment: 'record: the attributes as the events table has them (JSON text)' },
  { name: 'context_active', type: 'boolean', comment: 'record: context.active' },
  { name: 'timestamp', type: 'timestamp', comment: 'record: event time' },
  { name: 'received_at', type: 'timestamp', comment: 'record: when the tracking API accepted it' },
] as const satisfies readonly LakeColumn[];

/** Hive partition keys, in path order: `shard=<0..63>`. */
export const COMPANY_FACT_PARTITION_COLUMNS = [
  { name: 'shard', type: 'int', comment: 'lakeShard(app_id), as in the events table' },
] as const satisfies readonly LakeColumn[];

/** Build ids: `<cutoff as YYYYMMDDTHHMMSSZ>-<8 hex>`, unique per build, safe in a path and a DynamoDB map key. */
export const FACTS_BUILD_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** Environment ids that may name a folder (UUIDs, and the ids tests use): anything else is refused a build. */
export const FACTS_APP_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** The prefix (relative to the lake's root) a build writes into; it ends with `/`. */
export function factsBuildPrefix(shard: number, environmentId: string, buildId: string): string {
  if (!Number.isInteger(shard) || shard < 0 || shard > 63) throw new RangeError(`shard must be 0..63, not ${shard}`);
  if (!FACTS_APP_ID_PATTERN.test(environmentId)) {
    throw new RangeError(`environment id cannot name a facts folder: ${JSON.stringify(environmentId.slice(0, 40))}`);
  }
  if (!FACTS_BUILD_ID_PATTERN.test(buildId)) throw new RangeError(`not a facts build id: ${JSON.stringify(buildId)}`);
  return `${COMPANY_FACTS_TABLE_NAME}/shard=${shard}/${environmentId}/${buildId}/`;
}

/**
 * How long after the tracking API accepted a call it may take to be readable in
 * the lake (Firehose buffers up to 900 s; locally the log is flushed before every
 * query). A build at instant `now` counts the records received before `now` minus
 * this (its cutoff); later ones reach exports as late records and the next build.
 */
export const FACTS_RECEIVED_LAG_MS = 30 * 60 * 1000;

/**
 * How long a build's files are kept after the manifest stops naming it (an export
 * prepared before the flip may still read it), and how old an unnamed build (one
 * that died before its commit) must be before cleanup deletes it.
 */
export const FACTS_RETIRED_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * The manifest: one item per environment in the state table,
 * `pk = ENV#<environment id>`, `sk = FACTS#MANIFEST`. It is replaced by one
 * conditional write (`version` must still be the one the build planned from), so
 * a commit flips every day of a build at once or none (dynalite has no
 * transactions, and one item needs none). Size: a span per run of days with the
 * same build (a first build over all history is one span); DynamoDB's 400 KB item
 * limit is thousands of spans away.
 */
export const FACTS_MANIFEST_SORT_KEY = 'FACTS#MANIFEST';
export const factsManifestPartitionKey = (environmentId: string) => `ENV#${environmentId}`;

/** The workflow's Task/Choice state names (local task handlers are keyed by state name: keep them unique). */
export const FACTS_WORKFLOW_STATES = {
  plan: 'PlanCompanyFacts',
  hasDays: 'HasCompanyFactsToBuild',
  build: 'BuildCompanyFacts',
  commit: 'CommitCompanyFacts',
  cleanup: 'CleanupCompanyFacts',
} as const;
