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
import type { Clock } from '../../../ports/clock.ts';
import type { FactsBuildFiles, FactsBuildWriter, FactsManifestStore } from '../../../ports/company-facts.ts';
import type { LakeInputsWriter } from '../../../ports/lake-inputs.ts';
import type { QueryEngine } from '../../../ports/query-engine.ts';
import type { QueryParam } from '../../shared/query-param.ts';
import type { FactsSpan } from './manifest.ts';

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
  /** Restrict the run to these days (an on-demand rebuild); the watermark then stays where it is. */
  readonly days?: { readonly from: string; readonly to: string };
}

/**
 * Decides what a run builds: every closed day (before the UTC date of now, from
 * LAKE_FIRST_DATE) that no build covers, and every day that received records since
 * the watermark; picks the build id and cutoff; writes the build's inputs.
 */
export async function planCompanyFacts(
  _deps: PlanCompanyFactsDeps,
  _input: PlanCompanyFactsInput,
): Promise<CompanyFactsPlan> {
  throw new Error('facts: planCompanyFacts not yet implemented');
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
  _deps: CommitCompanyFactsDeps,
  _plan: CompanyFactsPlan,
): Promise<{ committed: boolean; spans: FactsSpan[] }> {
  throw new Error('facts: commitCompanyFacts not yet implemented');
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
  _deps: CleanupCompanyFactsDeps,
  _input: { readonly app_id: string },
): Promise<{ deleted: string[] }> {
  throw new Error('facts: cleanupCompanyFacts not yet implemented');
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
  _deps: RunCompanyFactsBuildDeps,
  _input: PlanCompanyFactsInput,
): Promise<{ plan: CompanyFactsPlan; committed: boolean }> {
  throw new Error('facts: runCompanyFactsBuild not yet implemented');
}
