import type { FactsManifest } from '../core/company-export/facts/manifest.ts';
import type { QueryParam } from '../core/shared/query-param.ts';

/**
 * The manifest of an environment's daily facts (which build of each day is current):
 * one item, read whole and replaced whole by a conditional write.
 */
export interface FactsManifestStore {
  /** The environment's manifest; undefined before its first commit. */
  readFactsManifest(environmentId: string): Promise<FactsManifest | undefined>;
  /**
   * Replaces the manifest with `next` (whose `version` is `expectedVersion + 1`) if
   * its stored version is still `expectedVersion` (0: no manifest yet). Rejects with
   * `FactsManifestConflictError` otherwise: another build committed in between.
   */
  commitFactsManifest(environmentId: string, expectedVersion: number, next: FactsManifest): Promise<void>;
}

/** The build folders of the facts table (`factsBuildPrefix`): S3 on AWS, the lake folder locally. */
export interface FactsBuildFiles {
  /** The build ids that have a folder for the environment. */
  listFactsBuilds(environmentId: string): Promise<string[]>;
  /** Deletes a build's folder and everything in it (a no-op when it is gone already). */
  deleteFactsBuild(environmentId: string, buildId: string): Promise<void>;
}

/**
 * Runs the facts build's query and writes its rows as the build's Parquet files,
 * visible all at once or not at all. Locally DuckDB's COPY; on AWS the workflow's
 * Athena UNLOAD state does this instead (no Lambda in the data path).
 */
export interface FactsBuildWriter {
  writeFactsBuild(
    sql: string,
    params: readonly QueryParam[],
    environmentId: string,
    buildId: string,
  ): Promise<{ rows: number }>;
}
