import type { AutomaticExportStore } from '../../ports/automatic-export-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CustomerBuckets } from '../../ports/customer-buckets.ts';
import type { SecretBox } from '../../ports/secret-box.ts';
import { ValidationError } from '../shared/errors.ts';
import {
  type AutomaticExportSettings,
  BucketCheckError,
  type ReplaceRequest,
  type StoredAutomaticExport,
  type ToggleRequest,
} from './automatic-export.ts';
import { type BucketDestination, bucketTarget, CustomerBucketError } from './customer-bucket.ts';
import { automaticExportSecretContext } from './secret-envelope.ts';

export interface SaveAutomaticExportSettingsDeps {
  readonly settings: Pick<AutomaticExportStore, 'get' | 'saveSettings' | 'setEnabled'>;
  readonly secrets: Pick<SecretBox, 'seal' | 'open'>;
  readonly buckets: Pick<CustomerBuckets, 'verify'>;
  readonly clock: Clock;
}

export interface SaveAutomaticExportSettingsInput {
  readonly environmentId: string;
  readonly request: ToggleRequest | ReplaceRequest;
}

/**
 * `PUT /api/v1/company-exports/automatic`: switches automatic exports on or off, or
 * replaces their settings. A save that leaves them on lists the bucket with the keys
 * first and stores nothing if that fails (a BucketCheckError naming the field to fix);
 * a save that switches them off stores the settings unchecked, so a broken bucket can
 * always be turned off. The secret is sealed before it is stored. Returns the settings
 * as stored now (undefined when there are none).
 */
export async function saveAutomaticExportSettings(
  deps: SaveAutomaticExportSettingsDeps,
  input: SaveAutomaticExportSettingsInput,
): Promise<StoredAutomaticExport | undefined> {
  const { environmentId, request } = input;
  const context = automaticExportSecretContext(environmentId);
  const stored = await deps.settings.get(environmentId);
  const now = deps.clock.now().toISOString();

  if (request.kind === 'toggle') {
    if (!stored) {
      if (!request.enabled) return undefined;
      throw new ValidationError(
        ['cadence', 'provider', 'access_key_id', 'secret_access_key'].map((field) => ({
          field,
          problem: 'is required: no automatic export settings are saved yet',
        })),
      );
    }
    if (request.enabled) {
      // Switching on again: the stored keys may have been revoked since they were saved.
      await verifyBucket(
        deps,
        stored.destination,
        stored.access_key_id,
        await deps.secrets.open(stored.secret, context),
      );
    }
    await deps.settings.setEnabled(environmentId, request.enabled, now);
    return deps.settings.get(environmentId);
  }

  // Leaving the secret out keeps the stored one, but only for the same access key:
  // a new key id with the old secret cannot be right.
  const kept = request.secret_access_key === undefined ? stored : undefined;
  if (request.secret_access_key === undefined && (!kept || kept.access_key_id !== request.access_key_id)) {
    throw new ValidationError([
      {
        field: 'secret_access_key',
        problem: stored
          ? 'is required when access_key_id changes'
          : 'is required: no secret is saved for this environment yet',
      },
    ]);
  }
  if (request.enabled) {
    const secret = kept ? await deps.secrets.open(kept.secret, context) : (request.secret_access_key ?? '');
    await verifyBucket(deps, request.destination, request.access_key_id, secret);
  }
  const sealed = kept ? kept.secret : await deps.secrets.seal(request.secret_access_key ?? '', context);
  const settings: AutomaticExportSettings = {
    environment_id: environmentId,
    enabled: request.enabled,
    cadence: request.cadence,
    destination: request.destination,
    access_key_id: request.access_key_id,
    secret: sealed,
    created_at: stored?.created_at ?? now,
    updated_at: now,
  };
  await deps.settings.saveSettings(settings);
  return deps.settings.get(environmentId);
}

/** Lists the bucket with these keys; a refusal becomes the 400 that names the field to fix. */
async function verifyBucket(
  deps: Pick<SaveAutomaticExportSettingsDeps, 'buckets'>,
  destination: BucketDestination,
  accessKeyId: string,
  secretAccessKey: string,
): Promise<void> {
  try {
    await deps.buckets.verify(bucketTarget(destination), { accessKeyId, secretAccessKey });
  } catch (error) {
    if (error instanceof CustomerBucketError) throw new BucketCheckError(error, destination.provider);
    throw error;
  }
}
