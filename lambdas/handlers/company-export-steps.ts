import { z } from 'zod';
import { lazyHandler } from '../config.ts';
import { type DeliverAutomaticExportDeps, deliverAutomaticExport } from '../core/automatic-export/deliver.ts';
import { AGGREGATIONS } from '../core/company-export/job.ts';
import { EXPORT_STEPS } from '../core/company-export/step-names.ts';
import { failCompanyExport, prepareCompanyExport, publishCompanyExport } from '../core/company-export/steps.ts';
import { awaitFactsInput, CHECK_DAILY_FACTS_STEP, checkDailyFacts } from '../core/daily-facts/orchestration.ts';
import { systemClock } from '../core/shared/clock.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { CompanyExportJobs } from '../ports/company-export-jobs.ts';
import type { FactsManifestStore } from '../ports/company-facts.ts';
import type { LakeInputsWriter } from '../ports/lake-inputs.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { WorkflowMonitor } from '../ports/workflow-starter.ts';
import { awsDeps } from './aws-deps.ts';
import { workflowStep, workflowStepsHandler } from './workflow-steps.ts';

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
  readonly delivery?: Pick<DeliverAutomaticExportDeps, 'settings' | 'secrets' | 'buckets'>;
  /** Automatic exports wait for their fire's daily facts build (the CheckDailyFacts state). */
  readonly factsBuilds?: WorkflowMonitor;
  /**
   * The daily facts' manifests: given (FEATURELAKE_ROLLUP_FROM_FACTS=1, the default),
   * the prepare step snapshots the environment's into the job's inputs and the export
   * reads the facts; absent, the full recompute.
   */
  readonly factsManifest?: Pick<FactsManifestStore, 'readFactsManifest'>;
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
 * The Lambda behind the company export workflow's Task states: each step's input
 * parsed, then its use case. Errors it throws end the workflow through its Catch,
 * which records the job as failed.
 */
export function makeHandler(deps: ExportStepsDeps) {
  const clock = deps.clock ?? systemClock;
  const { catalog, inputs, jobs, files, exportsBucket, delivery } = deps;
  return workflowStepsHandler({
    [CHECK_DAILY_FACTS_STEP]: workflowStep(awaitFactsInput, async (after) => {
      if (!deps.factsBuilds) return { wait: false, facts: 'unknown' };
      return checkDailyFacts({ workflows: deps.factsBuilds, clock }, after);
    }),
    [EXPORT_STEPS.prepareCompanyExport]: workflowStep(workflowInput, (job) =>
      prepareCompanyExport({ catalog, inputs, ...(deps.factsManifest ? { facts: deps.factsManifest } : {}) }, job),
    ),
    [EXPORT_STEPS.publishCompanyExport]: workflowStep(publishInput, (job) =>
      publishCompanyExport({ results: deps.results ?? files, files, exportsBucket, jobs, clock }, job),
    ),
    [EXPORT_STEPS.failCompanyExport]: workflowStep(failInput, (job) => {
      // The user reads a message without the machine's paths; the whole failure stays in the log.
      console.error(
        JSON.stringify({ level: 'error', step: 'fail-company-export', job_id: job.job_id, failure: job.failure }),
      );
      return failCompanyExport({ jobs, settings: delivery?.settings, clock }, job);
    }),
    [EXPORT_STEPS.deliverCompanyExport]: workflowStep(deliverInput, async (job) => {
      if (!delivery) throw new Error('export-steps: delivery to customer buckets is not configured');
      return deliverAutomaticExport({ ...delivery, files, exportsBucket, clock }, job);
    }),
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
    factsBuilds: aws.workflows('daily-facts'),
    ...(aws.setting('rollupFromFacts') === '0' ? {} : { factsManifest: aws.factsManifest() }),
  });
});
