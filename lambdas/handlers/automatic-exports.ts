import { lazyHandler } from '../config.ts';
import {
  AUTOMATIC_EXPORT_SCHEDULE,
  type AutomaticExportSettings,
  automaticExportRequest,
  automaticExportView,
  BucketCheckError,
  type ReplaceRequest,
  type StoredAutomaticExport,
} from '../core/automatic-export/automatic-export.ts';
import { bucketTarget, CustomerBucketError } from '../core/automatic-export/customer-bucket.ts';
import { automaticExportSecretContext } from '../core/automatic-export/secret-envelope.ts';
import { authenticate, cachedApiKeyLookup, requirePlan } from '../core/environments/api-auth.ts';
import { systemClock } from '../core/shared/clock.ts';
import { ValidationError } from '../core/shared/errors.ts';
import { parseRequestBody } from '../core/shared/request-body.ts';
import type { AutomaticExportStore } from '../ports/automatic-export-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { CustomerBuckets } from '../ports/customer-buckets.ts';
import type { EnvironmentStore } from '../ports/environment-store.ts';
import type { SecretBox } from '../ports/secret-box.ts';
import { awsDeps } from './aws-deps.ts';
import { header, httpHandler, json } from './http.ts';

export interface AutomaticExportsDeps {
  readonly environments: Pick<EnvironmentStore, 'findByApiKeyHash'>;
  readonly settings: AutomaticExportStore;
  readonly secrets: SecretBox;
  readonly buckets: Pick<CustomerBuckets, 'verify'>;
  readonly clock?: Clock;
  /**
   * Minutes after 00:00 UTC at which the schedule fires, for `next_run_at`.
   * @default AUTOMATIC_EXPORT_SCHEDULE.minuteUtc (the AWS schedule); the local stack fires at 0
   */
  readonly scheduleOffsetMinutes?: number;
}

/**
 * `PUT`/`GET /api/v1/company-exports/automatic` (seed 000, "Automatic export"):
 * Enterprise only. A save that switches exports on lists the bucket with the given
 * keys first, and stores nothing if that fails. The secret is sealed by the
 * SecretBox before it is stored and never leaves again.
 */
export function makeHandler(deps: AutomaticExportsDeps) {
  const clock = deps.clock ?? systemClock;
  const offset = deps.scheduleOffsetMinutes ?? AUTOMATIC_EXPORT_SCHEDULE.minuteUtc;
  const lookup = cachedApiKeyLookup((hash) => deps.environments.findByApiKeyHash(hash));
  const view = (stored: StoredAutomaticExport | undefined) => automaticExportView(stored, clock.now(), offset);

  /** Lists the bucket with these keys; a refusal becomes the 400 that names the field to fix. */
  async function verify(destination: ReplaceRequest['destination'], accessKeyId: string, secretAccessKey: string) {
    try {
      await deps.buckets.verify(bucketTarget(destination), { accessKeyId, secretAccessKey });
    } catch (error) {
      if (error instanceof CustomerBucketError) throw new BucketCheckError(error, destination.provider);
      throw error;
    }
  }

  return httpHandler(async (event) => {
    const environment = await authenticate(header(event, 'authorization'), lookup);
    requirePlan(environment, 'automatic_exports');
    const environmentId = environment.environment_id;
    const context = automaticExportSecretContext(environmentId);

    if (event.routeKey === 'GET /api/v1/company-exports/automatic') {
      return json(200, view(await deps.settings.get(environmentId)));
    }

    const request = parseRequestBody('automaticExport', automaticExportRequest, event.body, event.isBase64Encoded);
    const stored = await deps.settings.get(environmentId);
    const now = clock.now().toISOString();

    if (request.kind === 'toggle') {
      if (!stored) {
        if (!request.enabled) return json(200, view(undefined));
        throw new ValidationError(
          ['cadence', 'provider', 'access_key_id', 'secret_access_key'].map((field) => ({
            field,
            problem: 'is required: no automatic export settings are saved yet',
          })),
        );
      }
      if (request.enabled) {
        // Switching on again: the stored keys may have been revoked since they were saved.
        await verify(stored.destination, stored.access_key_id, await deps.secrets.open(stored.secret, context));
      }
      await deps.settings.setEnabled(environmentId, request.enabled, now);
      return json(200, view(await deps.settings.get(environmentId)));
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
    // Saving switched off stores the settings unchecked, so a broken bucket can always be turned off.
    if (request.enabled) {
      const secret = kept ? await deps.secrets.open(kept.secret, context) : (request.secret_access_key ?? '');
      await verify(request.destination, request.access_key_id, secret);
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
    return json(200, view(await deps.settings.get(environmentId)));
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps();
  return makeHandler({
    environments: aws.environments(),
    settings: aws.automaticExports(),
    secrets: aws.secrets(),
    buckets: aws.customerBuckets(),
  });
});
