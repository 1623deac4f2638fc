/**
 * The facts workflow's steps (DESIGN "Daily facts"), one environment per run:
 *
 *   PlanCompanyFacts (steps Lambda: planCompanyFacts)
 *   → HasCompanyFactsToBuild (Choice on `$.plan.days_count` > 0)
 *   → BuildCompanyFacts (Athena UNLOAD of companyFactsBuildSql('trino') with
 *     `$.plan.athena_params`, TO `s3://<lake bucket>/<$.plan.destination>`, format
 *     PARQUET, compression SNAPPY; locally FactsBuildWriter.writeFactsBuild with
 *     the DuckDB text and `$.plan.params`)
 *   → CommitCompanyFacts (commitCompanyFacts: flips the manifest; also run when
 *     there is nothing to build, so the watermark advances)
 *   → CleanupCompanyFacts (cleanupCompanyFacts).
 *
 * Running the workflow twice builds nothing new the second time (no day is stale),
 * and a run that dies anywhere before the commit leaves the manifest as it was: the
 * next run plans the same days again under a new build id.
 */
import { randomBytes } from 'node:crypto';
import {
  FACTS_APP_ID_PATTERN,
  FACTS_RECEIVED_LAG_MS,
  FACTS_RETIRED_GRACE_MS,
  factsBuildPrefix,
} from '../../../contract/facts.ts';
import { addDays, LAKE_FIRST_DATE, lakeShard } from '../../../contract/lake.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { FactsBuildFiles, FactsBuildWriter, FactsManifestStore } from '../../../ports/company-facts.ts';
import type { LakeInputsWriter } from '../../../ports/lake-inputs.ts';
import type { QueryEngine } from '../../../ports/query-engine.ts';
import { toAthenaLiteral } from '../../shared/athena-literals.ts';
import { FactsManifestConflictError } from '../../shared/errors.ts';
import type { QueryParam } from '../../shared/query-param.ts';
import { buildSpanInputRows } from '../rollup/inputs.ts';
import { applyFactsBuild, daysBetween, daysToRuns, type FactsSpan, manifestDays } from './manifest.ts';
import { companyFactsBuildParams, companyFactsBuildSql, companyFactsPlanParams, companyFactsPlanSql } from './sql.ts';

/** What the plan step returns (the workflow carries it at `$.plan`): JSON only. */
export interface CompanyFactsPlan {
  readonly app_id: string;
  readonly build_id: string;
  readonly shard: number;
  /** Records received before this instant are counted (now − FACTS_RECEIVED_LAG_MS). */
  readonly cutoff: string;
  /** The manifest version planned from (0: none); the commit requires it unchanged. */
  readonly manifest_version: number;
  /** The days to (re)build, as spans (all of them written by this build). */
  readonly spans: readonly { readonly from: string; readonly to: string }[];
  readonly days_count: number;
  /** False when the run was restricted to some days: then the watermark does not advance. */
  readonly complete: boolean;
  /** The build query's parameters, for DuckDB (the local writer). */
  readonly params: QueryParam[];
  /** The same as Athena execution-parameter literals. */
  readonly athena_params: string[];
  /** Where the build writes, relative to the lake bucket/folder (`company_facts/shard=<n>/<app_id>/<build_id>/`). */
  readonly destination: string;
}

export interface PlanCompanyFactsDeps {
  readonly manifest: Pick<FactsManifestStore, 'readFactsManifest'>;
  /** Runs the plan query (small result: at most one row per day). */
  readonly query: Pick<QueryEngine, 'readRows'>;
  /** Writes the build's `build_span` rows to export_inputs (job id = build id). */
  readonly inputs: LakeInputsWriter;
  readonly clock: Clock;
}

export interface PlanCompanyFactsInput {
  readonly app_id: string;
  /** Rebuild exactly these closed days, stale or not (an admin's rebuild); the watermark then stays where it is. */
  readonly days?: { readonly from: string; readonly to: string };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `<cutoff as YYYYMMDDTHHMMSSZ>-<8 hex>`: sortable by time, and never the same twice. */
function newBuildId(cutoff: Date): string {
  const stamp = cutoff
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replaceAll('-', '')
    .replaceAll(':', '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** The instant a build id was made for (its cutoff, to the second). */
function buildIdTime(buildId: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(buildId);
  return m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : Number.NaN;
}

/**
 * Decides what a run builds: every closed day (before the UTC date of now, from
 * LAKE_FIRST_DATE) that no build covers, and every day that received records since
 * the watermark; picks the build id and cutoff; writes the build's inputs.
 */
export async function planCompanyFacts(
  deps: PlanCompanyFactsDeps,
  input: PlanCompanyFactsInput,
): Promise<CompanyFactsPlan> {
  const appId = input.app_id;
  if (!FACTS_APP_ID_PATTERN.test(appId)) throw new RangeError('app_id cannot name a facts folder');
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - FACTS_RECEIVED_LAG_MS);
  const through = addDays(now.toISOString().slice(0, 10), -1);
  if (input.days && !(DAY.test(input.days.from) && DAY.test(input.days.to) && input.days.from <= input.days.to)) {
    throw new RangeError('days must be {from, to}, YYYY-MM-DD, from <= to');
  }
  const manifest = await deps.manifest.readFactsManifest(appId);
  const covered = manifestDays(manifest);
  const wanted = new Set<string>();
  if (input.days) {
    // An admin's rebuild: every closed day named, stale or not (what the CLI and the API promise).
    const from = input.days.from > LAKE_FIRST_DATE ? input.days.from : LAKE_FIRST_DATE;
    const to = input.days.to < through ? input.days.to : through;
    if (from <= to) for (const day of daysBetween(from, to)) wanted.add(day);
  } else if (through >= LAKE_FIRST_DATE) {
    for (const day of daysBetween(LAKE_FIRST_DATE, through)) if (!covered.has(day)) wanted.add(day);
    if (manifest?.watermark) {
      const since = manifest.watermark < cutoff.toISOString() ? manifest.watermark : cutoff.toISOString();
      const stale = await deps.query.readRows(
        companyFactsPlanSql('duckdb'),
        companyFactsPlanParams({ environmentId: appId, since, cutoff: cutoff.toISOString(), through }),
      );
      for (const row of stale) wanted.add(String(row.dt));
    } else {
      // No complete run yet: every covered day may have received records since its build.
      for (const day of covered.keys()) if (day <= through) wanted.add(day);
    }
  }
  const days = [...wanted].sort();
  const buildId = newBuildId(cutoff);
  const shard = lakeShard(appId);
  const spans = daysToRuns(days);
  const params =
    days.length === 0
      ? []
      : companyFactsBuildParams({
          environmentId: appId,
          buildId,
          cutoff: cutoff.toISOString(),
          firstDay: days[0] as string,
          lastDay: days[days.length - 1] as string,
        });
  if (days.length > 0) await deps.inputs.writeInputs(buildId, buildSpanInputRows(buildId, spans));
  return {
    app_id: appId,
    build_id: buildId,
    shard,
    cutoff: cutoff.toISOString(),
    manifest_version: manifest?.version ?? 0,
    spans,
    days_count: days.length,
    complete: input.days === undefined,
    params,
    athena_params: params.map(toAthenaLiteral),
    destination: factsBuildPrefix(shard, appId, buildId),
  };
}

export interface CommitCompanyFactsDeps {
  readonly manifest: FactsManifestStore;
  readonly clock: Clock;
}

/**
 * Makes the build current for all its days at once (one conditional write on the
 * manifest item), and advances the watermark to its cutoff when the plan was
 * complete. Rejects with FactsManifestConflictError when another build committed
 * since the plan (this build's files are then left for cleanup).
 */
export async function commitCompanyFacts(
  deps: CommitCompanyFactsDeps,
  plan: CompanyFactsPlan,
): Promise<{ committed: boolean; spans: FactsSpan[] }> {
  const manifest = await deps.manifest.readFactsManifest(plan.app_id);
  if ((manifest?.version ?? 0) !== plan.manifest_version) {
    // A retried commit of this very build has nothing left to do.
    if (manifest?.builds[plan.build_id] || plan.days_count === 0)
      return { committed: false, spans: [...(manifest?.spans ?? [])] };
    throw new FactsManifestConflictError(plan.app_id, plan.manifest_version);
  }
  const days = plan.spans.flatMap((s) => daysBetween(s.from, s.to));
  const next = applyFactsBuild(manifest, {
    buildId: plan.build_id,
    cutoff: plan.cutoff,
    days,
    complete: plan.complete,
    committedAt: deps.clock.now().toISOString(),
  });
  await deps.manifest.commitFactsManifest(plan.app_id, plan.manifest_version, next);
  return { committed: true, spans: [...next.spans] };
}

export interface CleanupCompanyFactsDeps {
  readonly manifest: FactsManifestStore;
  readonly files: FactsBuildFiles;
  readonly clock: Clock;
}

/**
 * Deletes the environment's builds that the manifest retired more than
 * FACTS_RETIRED_GRACE_MS ago, and its builds the manifest never named (runs that died
 * before their commit, or lost it to a conflict) once their id's time is older than that.
 */
export async function cleanupCompanyFacts(
  deps: CleanupCompanyFactsDeps,
  input: { readonly app_id: string },
): Promise<{ deleted: string[] }> {
  const now = deps.clock.now().getTime();
  const manifest = await deps.manifest.readFactsManifest(input.app_id);
  const named = new Set(Object.keys(manifest?.builds ?? {}));
  const retired = manifest?.retired ?? {};
  const deleted: string[] = [];
  for (const buildId of await deps.files.listFactsBuilds(input.app_id)) {
    if (named.has(buildId)) continue;
    const since = retired[buildId] !== undefined ? Date.parse(retired[buildId]) : buildIdTime(buildId);
    if (!(now - since > FACTS_RETIRED_GRACE_MS)) continue;
    await deps.files.deleteFactsBuild(input.app_id, buildId);
    deleted.push(buildId);
  }
  // Forget retired builds once their files are gone (best effort: a concurrent commit wins, the next cleanup retries).
  const forget = Object.keys(retired).filter((id) => now - Date.parse(retired[id] as string) > FACTS_RETIRED_GRACE_MS);
  if (manifest && forget.length > 0) {
    const kept = Object.fromEntries(Object.entries(retired).filter(([id]) => !forget.includes(id)));
    await deps.manifest
      .commitFactsManifest(input.app_id, manifest.version, {
        ...manifest,
        version: manifest.version + 1,
        retired: kept,
      })
      .catch((error: unknown) => {
        if (!(error instanceof FactsManifestConflictError)) throw error;
      });
  }
  return { deleted };
}

export interface RunCompanyFactsBuildDeps {
  readonly manifest: FactsManifestStore;
  readonly query: Pick<QueryEngine, 'readRows'>;
  readonly inputs: LakeInputsWriter;
  readonly files: FactsBuildFiles;
  readonly writer: FactsBuildWriter;
  readonly clock: Clock;
}

/**
 * The whole run in one call, with the local writer: plan, build, commit, cleanup.
 * For the local stack's CLI/admin command, the benchmark and tests; the workflow runs
 * the same steps as states.
 */
export async function runCompanyFactsBuild(
  deps: RunCompanyFactsBuildDeps,
  input: PlanCompanyFactsInput,
): Promise<{ plan: CompanyFactsPlan; committed: boolean; rows: number }> {
  const plan = await planCompanyFacts(deps, input);
  let rows = 0;
  if (plan.days_count > 0) {
    rows = (await deps.writer.writeFactsBuild(companyFactsBuildSql('duckdb'), plan.params, plan.app_id, plan.build_id))
      .rows;
  }
  const { committed } = await commitCompanyFacts(deps, plan);
  await cleanupCompanyFacts(deps, { app_id: plan.app_id });
  return { plan, committed, rows };
}
