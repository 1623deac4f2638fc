import { pipeline } from 'node:stream/promises';
import type { AutomaticExportStore } from '../../ports/automatic-export-store.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CompanyExportJobs } from '../../ports/company-export-jobs.ts';
import type { FactsManifestStore } from '../../ports/company-facts.ts';
import type { LakeInputsWriter } from '../../ports/lake-inputs.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { type AutomaticDelivery, automaticRunFailure } from '../automatic-export/automatic-export.ts';
import { toAthenaLiteral } from '../shared/athena-literals.ts';
import { ExportCsvEncoder } from '../shared/export-csv.ts';
import { parseS3Url } from '../shared/s3-url.ts';
import {
  type CompanyExportWorkflowInput,
  companyExportCsvKey,
  readableWorkflowFailure,
  type WorkflowFailure,
} from './job.ts';
import { COMPANY_EXPORT_HEADER } from './rollup/index.ts';
import { prepareCompanyRollup } from './rollup/prepare.ts';

/**
 * The company export workflow's steps (its Task states other than the query), each
 * run with the job as the workflow carries it (`app_id` is the environment id there).
 * What a step returns lands at its state's ResultPath; what it throws ends the run
 * through the Catch, whose failure step records the job as failed.
 */

export interface PrepareCompanyExportDeps {
  readonly catalog: Pick<CatalogStore, 'listFeatures' | 'listSegments'>;
  readonly inputs: LakeInputsWriter;
  /**
   * Given (FEATURELAKE_ROLLUP_FROM_FACTS=1, the default), the export snapshots the
   * environment's facts manifest into its inputs and runs the facts-reading text;
   * absent, the full recompute. The result's `from_facts` says which query to run.
   */
  readonly facts?: Pick<FactsManifestStore, 'readFactsManifest'>;
}

/**
 * Snapshots the environment's catalog and the aggregation's dates into the job's
 * `export_inputs` rows, and returns the rollup query's parameters.
 */
export async function prepareCompanyExport(deps: PrepareCompanyExportDeps, job: CompanyExportWorkflowInput) {
  const environmentId = job.app_id;
  const [features, segments, manifest] = await Promise.all([
    deps.catalog.listFeatures(environmentId),
    deps.catalog.listSegments(environmentId),
    deps.facts?.readFactsManifest(environmentId),
  ]);
  const prepared = prepareCompanyRollup({
    jobId: job.job_id,
    environmentId,
    aggregation: job.aggregation,
    asOf: new Date(job.as_of),
    features,
    segments,
    ...(deps.facts ? { facts: { manifest } } : {}),
  });
  await deps.inputs.writeInputs(job.job_id, prepared.inputRows);
  // Athena takes execution parameters as SQL literal texts (and only in WHERE clauses).
  // `from_facts`, `one_date` and `weekly` pick the query state (the text `preparedRollupSql` names).
  return {
    athena_params: prepared.params.map(toAthenaLiteral),
    dates: prepared.dates,
    from_facts: prepared.fromFacts,
    one_date: prepared.shape === 'one-date',
    weekly: prepared.shape === 'weeks',
  };
}

export interface PublishCompanyExportDeps {
  /** Where the rollup query's result is read from (Athena's results bucket). */
  readonly results: Pick<ObjectStore, 'read'>;
  readonly files: Pick<ObjectStore, 'write'>;
  readonly exportsBucket: string;
  readonly jobs: Pick<CompanyExportJobs, 'markCompleted' | 'releaseExportLock'>;
  readonly clock: Clock;
}

export interface PublishCompanyExportInput extends CompanyExportWorkflowInput {
  /** Where the query wrote its result (an `s3://` URL). */
  readonly query: { readonly output_location: string };
}

/**
 * Re-encodes the query's result as the export CSV in the exports bucket, completes
 * the job, and frees the environment's export slot.
 */
export async function publishCompanyExport(deps: PublishCompanyExportDeps, job: PublishCompanyExportInput) {
  const environmentId = job.app_id;
  const { bucket, key } = parseS3Url(job.query.output_location);
  const csvKey = companyExportCsvKey(environmentId, job.job_id);
  const csv = new ExportCsvEncoder(COMPANY_EXPORT_HEADER);
  // The result first: were it missing, an upload already started would wait forever on the encoder.
  const result = await deps.results.read(bucket, key);
  // A failed upload stops reading the encoder; destroying it ends the pipeline rather than leaving it stalled.
  const upload = deps.files
    .write(deps.exportsBucket, csvKey, csv, 'text/csv; charset=utf-8')
    .catch((error: unknown) => {
      csv.destroy(error as Error);
      throw error;
    });
  await Promise.all([pipeline(result, csv), upload]);
  await deps.jobs.markCompleted(environmentId, job.job_id, {
    rows: csv.rows,
    csv_key: csvKey,
    completed_at: deps.clock.now().toISOString(),
  });
  // A requested export frees its environment's one slot (a no-op for an automatic run, which holds none).
  await deps.jobs.releaseExportLock(environmentId, job.job_id);
  return { rows: csv.rows, csv_key: csvKey };
}

export interface FailCompanyExportDeps {
  readonly jobs: Pick<CompanyExportJobs, 'markFailed' | 'releaseExportLock'>;
  /** Where an automatic run's status is recorded; a run with `delivery` cannot fail without it. */
  readonly settings?: Pick<AutomaticExportStore, 'recordRun'>;
  readonly clock: Clock;
}

export interface FailCompanyExportInput extends CompanyExportWorkflowInput {
  /** What the Catch caught (`{Error, Cause}`). */
  readonly failure?: WorkflowFailure;
  /** Present on an automatic run. */
  readonly delivery?: AutomaticDelivery;
}

/**
 * The Catch's step: fails the job with a message the user can act on (without the
 * machine's paths), frees the export slot, and for an automatic run records the
 * failure as its last status.
 */
export async function failCompanyExport(deps: FailCompanyExportDeps, job: FailCompanyExportInput) {
  const environmentId = job.app_id;
  const error = job.delivery
    ? automaticRunFailure(job.failure, readableWorkflowFailure)
    : readableWorkflowFailure(job.failure);
  const completedAt = deps.clock.now().toISOString();
  await deps.jobs.markFailed(environmentId, job.job_id, { error, completed_at: completedAt });
  await deps.jobs.releaseExportLock(environmentId, job.job_id);
  if (job.delivery) {
    if (!deps.settings)
      throw new Error('export-steps: an automatic export failed, but no settings store is configured');
    await deps.settings.recordRun(environmentId, job.job_id, { status: 'failed', error, finished_at: completedAt });
  }
  return {};
}
