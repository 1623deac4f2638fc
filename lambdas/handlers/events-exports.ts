import { lazyHandler } from '../config.ts';
import { type EnvironmentAuthDeps, environmentAuthenticator, requirePlan } from '../core/environments/api-auth.ts';
import type { ExportFilesDeps } from '../core/events-export/downloads.ts';
import { startedView } from '../core/events-export/job.ts';
import {
  eventsExportFileUrl,
  listEventsExports,
  type ReadEventsExportsDeps,
  showEventsExport,
} from '../core/events-export/read.ts';
import { eventsExportRequest } from '../core/events-export/request.ts';
import { type StartEventsExportDeps, startEventsExport } from '../core/events-export/start.ts';
import { systemClock } from '../core/shared/clock.ts';
import { type DownloadLinkDeps, presentsDownloadLink, verifyDownloadLink } from '../core/shared/download-links.ts';
import { NotFoundError } from '../core/shared/errors.ts';
import { parseRequestBody } from '../core/shared/request-body.ts';
import type { Clock } from '../ports/clock.ts';
import { awsDeps } from './aws-deps.ts';
import { type HttpResult, httpHandler, json, redirect } from './http.ts';

export type EventsExportsDeps = Omit<
  StartEventsExportDeps & ReadEventsExportsDeps & ExportFilesDeps & DownloadLinkDeps,
  'clock'
> & {
  readonly environments: EnvironmentAuthDeps['environments'];
  /** Also opens these routes, acting in the environment the Featurelake-Environment header names. */
  readonly adminToken?: EnvironmentAuthDeps['adminToken'];
  readonly clock?: Clock;
  /** How long a found API key is remembered (capped at one minute). @default 30 s */
  readonly keyCacheMs?: number;
};

const FILE_ROUTE = 'GET /api/v1/analytics/exports/jobs/{job_id}/files/{filename}';

/**
 * The bulk raw-event export API (seed 002): start a job, list the token's jobs,
 * show one with a signed link to each file, and redirect to one file: asked with
 * the environment's API key, or through a link (no key: the link names the
 * environment, and its signature and expiry are checked instead).
 */
export function makeHandler(deps: EventsExportsDeps) {
  const core = { ...deps, clock: deps.clock ?? systemClock };
  const authenticate = environmentAuthenticator(deps);

  return httpHandler(async (event): Promise<HttpResult> => {
    if (event.routeKey === FILE_ROUTE && presentsDownloadLink(event.queryStringParameters)) {
      const now = core.clock.now();
      const request = { jobId: event.pathParameters?.job_id ?? '', filename: event.pathParameters?.filename ?? '' };
      const query = event.queryStringParameters;
      const environmentId = await verifyDownloadLink(core, { kind: 'events-export', ...request, query }, now);
      return redirect(await eventsExportFileUrl(core, environmentId, request, now));
    }
    const environment = await authenticate(event.headers);
    requirePlan(environment, 'exports');
    const environmentId = environment.environment_id;
    const jobId = event.pathParameters?.job_id ?? '';
    const now = core.clock.now();

    switch (event.routeKey) {
      case 'POST /api/v1/analytics/exports': {
        const request = parseRequestBody('eventsExport', eventsExportRequest, event.body, event.isBase64Encoded);
        const job = await startEventsExport(core, { environmentId, appToken: environment.app_token, request });
        // 201, as Userpilot's API reference answers this call (the seed shows only the body).
        return json(201, startedView(job, environment.name));
      }
      case 'GET /api/v1/analytics/exports/jobs':
        return json(200, await listEventsExports(core, environmentId, now));
      case 'GET /api/v1/analytics/exports/jobs/{job_id}':
        return json(200, await showEventsExport(core, environmentId, jobId, now));
      case FILE_ROUTE: {
        const filename = event.pathParameters?.filename ?? '';
        return redirect(await eventsExportFileUrl(core, environmentId, { jobId, filename }, now));
      }
      default:
        throw new NotFoundError(`No route ${event.routeKey}`);
    }
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('events-exports');
  const publicApiUrl = aws.setting('publicApiUrl');
  return makeHandler({
    environments: aws.environments(),
    adminToken: aws.adminToken(),
    jobs: aws.eventsExportJobs(),
    catalog: aws.catalog(),
    workflows: aws.workflows('events-export'),
    files: aws.objects(),
    exportsBucket: aws.setting('exportsBucket'),
    linkKey: aws.downloadLinkKey(),
    apiBaseUrl: () => publicApiUrl,
  });
});
