import { lazyHandler } from '../config.ts';
import { AUTOMATIC_EXPORT_SCHEDULE } from '../contract/exports.ts';
import {
  automaticExportRequest,
  automaticExportView,
  type StoredAutomaticExport,
} from '../core/automatic-export/automatic-export.ts';
import {
  type SaveAutomaticExportSettingsDeps,
  saveAutomaticExportSettings,
} from '../core/automatic-export/settings.ts';
import { type EnvironmentAuthDeps, environmentAuthenticator, requirePlan } from '../core/environments/api-auth.ts';
import { systemClock } from '../core/shared/clock.ts';
import { parseRequestBody } from '../core/shared/request-body.ts';
import type { Clock } from '../ports/clock.ts';
import { awsDeps } from './aws-deps.ts';
import { httpHandler, json } from './http.ts';

export interface AutomaticExportsDeps extends Omit<SaveAutomaticExportSettingsDeps, 'clock'> {
  readonly environments: EnvironmentAuthDeps['environments'];
  /** Also opens these routes, acting in the environment the Featurelake-Environment header names. */
  readonly adminToken?: EnvironmentAuthDeps['adminToken'];
  readonly clock?: Clock;
  /**
   * Minutes after 00:00 UTC at which the schedule fires, for `next_run_at`.
   * @default AUTOMATIC_EXPORT_SCHEDULE.minuteUtc (the AWS schedule); the local stack fires at 0
   */
  readonly scheduleOffsetMinutes?: number;
}

/**
 * `PUT`/`GET /api/v1/company-exports/automatic` (seed 000, "Automatic export"):
 * Enterprise only. The secret is sealed by the SecretBox before it is stored and
 * never leaves again: the answer says only whether one is set.
 */
export function makeHandler(deps: AutomaticExportsDeps) {
  const clock = deps.clock ?? systemClock;
  const offset = deps.scheduleOffsetMinutes ?? AUTOMATIC_EXPORT_SCHEDULE.minuteUtc;
  const authenticate = environmentAuthenticator(deps);
  const view = (stored: StoredAutomaticExport | undefined) => automaticExportView(stored, clock.now(), offset);

  return httpHandler(async (event) => {
    const environment = await authenticate(event.headers);
    // Before the body is read: another plan gets its 403 whatever it sent.
    requirePlan(environment, 'automatic_exports');
    const environmentId = environment.environment_id;

    if (event.routeKey === 'GET /api/v1/company-exports/automatic') {
      return json(200, view(await deps.settings.get(environmentId)));
    }

    const request = parseRequestBody('automaticExport', automaticExportRequest, event.body, event.isBase64Encoded);
    const saved = await saveAutomaticExportSettings({ ...deps, clock }, { environmentId, request });
    return json(200, view(saved));
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('automatic-exports');
  return makeHandler({
    environments: aws.environments(),
    adminToken: aws.adminToken(),
    settings: aws.automaticExports(),
    secrets: aws.secrets(),
    buckets: aws.customerBuckets(),
  });
});
