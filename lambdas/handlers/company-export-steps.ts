import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { lazyHandler } from '../config.ts';
import {
  automaticExportFileName,
  automaticExportObjectKey,
  automaticRunFailure,
} from '../core/automatic-export/automatic-export.ts';
import {
  bucketTarget,
  CustomerBucketError,
  DELIVERY_ERRORS,
  describeBucketLocation,
} from '../core/automatic-export/customer-bucket.ts';
import { automaticExportSecretContext } from '../core/automatic-export/secret-envelope.ts';
import {
  AGGREGATIONS,
  type CompanyExportWorkflowInput,
  companyExportCsvKey,
  readableWorkflowFailure,
} from '../core/company-export/job.ts';
import { COMPANY_EXPORT_HEADER } from '../core/company-export/rollup/index.ts';
import { prepareCompanyRollup } from '../core/company-export/rollup/prepare.ts';
import { EXPORT_STEPS } from '../core/company-export/step-names.ts';
import { toAthenaLiteral } from '../core/shared/athena-literals.ts';
import { systemClock } from '../core/shared/clock.ts';
import { ExportCsvEncoder } from '../core/shared/export-csv.ts';
import { parseS3Url } from '../core/shared/s3-url.ts';
import type { AutomaticExportStore } from '../ports/automatic-export-store.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { CompanyExportJobs } from '../ports/company-export-jobs.ts';
import type { CustomerBuckets } from '../ports/customer-buckets.ts';
import type { LakeInputsWriter } from '../ports/lake-inputs.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { SecretBox } from '../ports/secret-box.ts';
import { awsDeps } from './aws-deps.ts';
import { workflowStep, workflowStepsHandler } from './workflow-steps.ts';

/** What delivering automatic exports to the customer's bucket needs. */
export interface DeliveryDeps {
  readonly settings: Pick<AutomaticExportStore, 'get' | 'recordRun'>;
  readonly secrets: Pick<SecretBox, 'open'>;
  readonly buckets: Pick<CustomerBuckets, 'upload'>;
}

export interface ExportStepsDeps {
  readonly catalog: Pick<CatalogStore, 'listFeatures' | 'listSegments'>;
  readonly inputs: LakeInputsWriter;
  readonly jobs: Pick<CompanyExportJobs, 'markCompleted' | 'markFailed' | 'releaseExportLock'>;
  readonly files: Pick<ObjectStore, 'read' | 'write'>;
  /** Where the rollup query's result is read from (Athena's results bucket). @default files */
  readonly results?: Pick<ObjectStore, 'read'>;
  readonly exportsBucket: string;
  readonly clock?: Clock;
  /** Automatic exports (the DeliverToCustomerBucket state, and their status on failure). */
  readonly delivery?: DeliveryDeps;
}

const workflowInput = z.object({
  job_id: z.string().min(1),
  app_id: z.string().min(1),
  aggregation: z.enum(AGGREGATIONS),
  as_of: z.iso.datetime(),
});

const delivery = z.object({ environment_id: z.string().min(1), snapshot_date: z.iso.date() });

const publishInput = workflowInput.extend({ query: z.object({ output_location: z.string() }) });
const failInput = workflowInput.extend({
  failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  delivery: delivery.optional(),
});
const deliverInput = workflowInput.extend({ delivery, published: z.object({ csv_key: z.string().min(1) }) });

/**
 * The Lambda behind the export workflows' Task states. Step Functions calls it with
 * `{step, job}`; what it returns lands at the state's ResultPath. Errors it throws
 * end the workflow through its Catch, which records the job as failed.
 */
export function makeHandler(deps: ExportStepsDeps) {
  const clock = deps.clock ?? systemClock;

  async function prepare(job: CompanyExportWorkflowInput) {
    const [features, segments] = await Promise.all([
      deps.catalog.listFeatures(job.app_id),
      deps.catalog.listSegments(job.app_id),
    ]);
    const prepared = prepareCompanyRollup({
      jobId: job.job_id,
      appId: job.app_id,
      aggregation: job.aggregation,
      asOf: new Date(job.as_of),
      features,
      segments,
    });
    await deps.inputs.writeInputs(job.job_id, prepared.inputRows);
    // Athena takes execution parameters as SQL literal texts (and only in WHERE clauses).
    return { athena_params: prepared.params.map(toAthenaLiteral), dates: prepared.dates };
  }

  async function publish(job: CompanyExportWorkflowInput & { query: { output_location: string } }) {
    const { bucket, key } = parseS3Url(job.query.output_location);
    const csvKey = companyExportCsvKey(job.app_id, job.job_id);
    const csv = new ExportCsvEncoder(COMPANY_EXPORT_HEADER);
    // The result first, and a failed upload ends the pipeline: see events-export-steps' writeWeek.
    const result = await (deps.results ?? deps.files).read(bucket, key);
    const upload = deps.files
      .write(deps.exportsBucket, csvKey, csv, 'text/csv; charset=utf-8')
      .catch((error: unknown) => {
        csv.destroy(error as Error);
        throw error;
      });
    await Promise.all([pipeline(result, csv), upload]);
    await deps.jobs.markCompleted(job.app_id, job.job_id, {
      rows: csv.rows,
      csv_key: csvKey,
      completed_at: clock.now().toISOString(),
    });
    // A requested export frees its environment's one slot (a no-op for an automatic run, which holds none).
    await deps.jobs.releaseExportLock(job.app_id, job.job_id);
    return { rows: csv.rows, csv_key: csvKey };
  }

  async function fail(
    job: CompanyExportWorkflowInput & {
      failure?: { Error?: string; Cause?: string };
      delivery?: { environment_id: string };
    },
  ) {
    // The user reads a message without the machine's paths; the whole failure stays in the log.
    console.error(
      JSON.stringify({ level: 'error', step: 'fail-company-export', job_id: job.job_id, failure: job.failure }),
    );
    const error = job.delivery
      ? automaticRunFailure(job.failure, readableWorkflowFailure)
      : readableWorkflowFailure(job.failure);
    const completedAt = clock.now().toISOString();
    await deps.jobs.markFailed(job.app_id, job.job_id, { error, completed_at: completedAt });
    await deps.jobs.releaseExportLock(job.app_id, job.job_id);
    if (job.delivery) {
      if (!deps.delivery)
        throw new Error('export-steps: an automatic export failed, but no settings store is configured');
      await deps.delivery.settings.recordRun(job.app_id, job.job_id, {
        status: 'failed',
        error,
        finished_at: completedAt,
      });
    }
    return {};
  }

  /**
   * Uploads the published CSV to the customer's bucket with the keys saved in the
   * settings as they are now (not as they were when the run was dispatched), under
   * `<prefix>company-export-<snapshot date>.csv`, so a re-run overwrites the same file.
   */
  async function deliver(
    job: CompanyExportWorkflowInput & { delivery: { snapshot_date: string }; published: { csv_key: string } },
  ) {
    if (!deps.delivery) throw new Error('export-steps: delivery to customer buckets is not configured');
    const settings = await deps.delivery.settings.get(job.app_id);
    if (!settings) {
      const refused = new Error('The automatic export settings were removed before the file could be delivered.');
      refused.name = DELIVERY_ERRORS.refused;
      throw refused;
    }
    const target = bucketTarget(settings.destination);
    const key = automaticExportObjectKey(target.prefix, job.delivery.snapshot_date);
    const secretAccessKey = await deps.delivery.secrets.open(settings.secret, automaticExportSecretContext(job.app_id));
    try {
      await deps.delivery.buckets.upload(
        target,
        { accessKeyId: settings.access_key_id, secretAccessKey },
        key,
        await deps.files.read(deps.exportsBucket, job.published.csv_key),
        'text/csv; charset=utf-8',
      );
    } catch (error) {
      if (error instanceof CustomerBucketError) {
        // Same name (so the Retry still tells them apart), with where it was going.
        error.message = `Could not deliver ${automaticExportFileName(job.delivery.snapshot_date)} to ${describeBucketLocation(target)}: ${error.message}`;
      }
      throw error;
    }
    await deps.delivery.settings.recordRun(job.app_id, job.job_id, {
      status: 'successful',
      error: null,
      finished_at: clock.now().toISOString(),
    });
    return { bucket: target.bucket, key };
  }

  return workflowStepsHandler({
    [EXPORT_STEPS.prepareCompanyExport]: workflowStep(workflowInput, prepare),
    [EXPORT_STEPS.publishCompanyExport]: workflowStep(publishInput, publish),
    [EXPORT_STEPS.failCompanyExport]: workflowStep(failInput, fail),
    [EXPORT_STEPS.deliverCompanyExport]: workflowStep(deliverInput, deliver),
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('export-steps');
  return makeHandler({
    catalog: aws.catalog(),
    inputs: aws.lakeInputs(),
    jobs: aws.companyExportJobs(),
    files: aws.objects(),
    exportsBucket: aws.setting('exportsBucket'),
    delivery: { settings: aws.automaticExports(), secrets: aws.secrets(), buckets: aws.customerBuckets() },
  });
});
