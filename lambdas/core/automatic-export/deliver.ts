import type { AutomaticExportStore } from '../../ports/automatic-export-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CustomerBuckets } from '../../ports/customer-buckets.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { SecretBox } from '../../ports/secret-box.ts';
import type { CompanyExportWorkflowInput } from '../company-export/job.ts';
import { type AutomaticDelivery, automaticExportFileName, automaticExportObjectKey } from './automatic-export.ts';
import { bucketTarget, CustomerBucketError, DELIVERY_ERRORS, describeBucketLocation } from './customer-bucket.ts';
import { automaticExportSecretContext } from './secret-envelope.ts';

export interface DeliverAutomaticExportDeps {
  readonly settings: Pick<AutomaticExportStore, 'get' | 'recordRun'>;
  readonly secrets: Pick<SecretBox, 'open'>;
  readonly buckets: Pick<CustomerBuckets, 'upload'>;
  /** Where the published CSV is read from. */
  readonly files: Pick<ObjectStore, 'read'>;
  readonly exportsBucket: string;
  readonly clock: Clock;
}

/** An automatic run's job after its CSV was published (the DeliverToCustomerBucket state's input). */
export interface DeliverAutomaticExportInput extends CompanyExportWorkflowInput {
  readonly delivery: Pick<AutomaticDelivery, 'snapshot_date'>;
  readonly published: { readonly csv_key: string };
}

/**
 * Uploads the published CSV to the customer's bucket with the keys saved in the
 * settings as they are now (not as they were when the run was dispatched), under
 * `<prefix>company-export-<snapshot date>.csv`, so a re-run overwrites the same file,
 * and records the run as successful. A failure keeps its DELIVERY_ERRORS name, which
 * is how the state machine's Retry tells a refusal from a passing outage.
 */
export async function deliverAutomaticExport(deps: DeliverAutomaticExportDeps, job: DeliverAutomaticExportInput) {
  const environmentId = job.app_id;
  const settings = await deps.settings.get(environmentId);
  if (!settings) {
    const refused = new Error('The automatic export settings were removed before the file could be delivered.');
    refused.name = DELIVERY_ERRORS.refused;
    throw refused;
  }
  const target = bucketTarget(settings.destination);
  const key = automaticExportObjectKey(target.prefix, job.delivery.snapshot_date);
  const secretAccessKey = await deps.secrets.open(settings.secret, automaticExportSecretContext(environmentId));
  try {
    await deps.buckets.upload(
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
  await deps.settings.recordRun(environmentId, job.job_id, {
    status: 'successful',
    error: null,
    finished_at: deps.clock.now().toISOString(),
  });
  return { bucket: target.bucket, key };
}
