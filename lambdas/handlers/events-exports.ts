import { randomUUID } from 'node:crypto';
import { lazyHandler } from '../config.ts';
import { authenticate, cachedApiKeyLookup, requirePlan } from '../core/environments/api-auth.ts';
import {
  byNewest,
  detailView,
  downloadableFiles,
  type EventsExportJob,
  type EventsExportWorkflowInput,
  effectiveJob,
  exportFileKey,
  isJobVisible,
  listedView,
  lockExpiry,
  newEventsExportJob,
  presignSeconds,
  startedView,
} from '../core/events-export/job.ts';
import { eventsExportRequest } from '../core/events-export/request.ts';
import { systemClock } from '../core/shared/clock.ts';
import { ExportInProgressError, NotFoundError, ValidationError } from '../core/shared/errors.ts';
import { settleEventsExport, takeExportLock } from '../core/shared/export-settlement.ts';
import { parseRequestBody } from '../core/shared/request-body.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { EnvironmentStore } from '../ports/environment-store.ts';
import type { EventsExportJobs } from '../ports/events-export-jobs.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { WorkflowMonitor, WorkflowStarter } from '../ports/workflow-starter.ts';
import { awsDeps } from './aws-deps.ts';
import { type HttpResult, header, httpHandler, json } from './http.ts';

export interface EventsExportsDeps {
  readonly environments: Pick<EnvironmentStore, 'findByApiKeyHash'>;
  readonly jobs: EventsExportJobs;
  readonly catalog: Pick<CatalogStore, 'getSegment'>;
  /** Starts runs, and says whether a job's run still runs (a job whose run died is settled when read). */
  readonly workflows: WorkflowStarter & WorkflowMonitor;
  readonly files: Pick<ObjectStore, 'signedGetUrl'>;
  readonly exportsBucket: string;
  readonly clock?: Clock;
  /** How long a found API key is remembered (capped at one minute). @default 30 s */
  readonly keyCacheMs?: number;
}

const notFound = (jobId: string) => new NotFoundError(`Failed to retrieve job with id ${jobId}: job not found`);

/**
 * The bulk raw-event export API (seed 002): start a job, list the token's jobs,
 * show one with freshly signed download URLs, and redirect to one file.
 */
export function makeHandler(deps: EventsExportsDeps) {
  const clock = deps.clock ?? systemClock;
  const lookup = cachedApiKeyLookup((hash) => deps.environments.findByApiKeyHash(hash), { ttlMs: deps.keyCacheMs });

  const settlement = { jobs: deps.jobs, workflows: deps.workflows, clock };

  /** The job as its environment may see it now, or 404: another environment's job, or one past its 3 days. */
  async function visibleJob(environmentId: string, jobId: string | undefined, now: Date): Promise<EventsExportJob> {
    const stored = jobId ? await deps.jobs.get(environmentId, jobId) : undefined;
    if (!stored || !isJobVisible(stored, now)) throw notFound(jobId ?? '');
    return effectiveJob(await settleEventsExport(settlement, stored), now);
  }

  return httpHandler(async (event): Promise<HttpResult> => {
    const environment = await authenticate(header(event, 'authorization'), lookup);
    requirePlan(environment, 'exports');
    const env = environment.environment_id;
    const now = clock.now();

    switch (event.routeKey) {
      case 'POST /api/v1/analytics/exports': {
        const request = parseRequestBody('eventsExport', eventsExportRequest, event.body, event.isBase64Encoded);
        if (request.segment_id && !(await deps.catalog.getSegment(env, request.segment_id))) {
          throw new ValidationError([{ field: 'segment_id', problem: `no segment has the id ${request.segment_id}` }]);
        }
        const job = newEventsExportJob({
          jobId: randomUUID(),
          environmentId: env,
          appToken: environment.app_token,
          request,
          now,
        });
        const taken = await takeExportLock(
          {
            ...settlement,
            lock: deps.jobs,
            workflow: 'events-export',
            settledHolder: async (holderId) => {
              const holder = await deps.jobs.get(env, holderId);
              return holder && settleEventsExport(settlement, holder);
            },
          },
          { environmentId: env, jobId: job.job_id, until: lockExpiry(job), now },
        );
        if (!taken) throw new ExportInProgressError();
        try {
          await deps.jobs.create(job);
          const input: EventsExportWorkflowInput = { job_id: job.job_id, app_id: env };
          await deps.workflows.start('events-export', job.job_id, { ...input });
        } catch (error) {
          // Nothing runs: the job (if written) is failed and the lock given back, so a retry can start.
          await deps.jobs
            .markFailed(env, job.job_id, {
              error: 'The export could not be started; try again.',
              completed_at: clock.now().toISOString(),
            })
            .catch(() => false);
          await deps.jobs.releaseExportLock(env, job.job_id);
          throw error;
        }
        // 201, as Userpilot's API reference answers this call (the seed shows only the body).
        return json(201, startedView(job, environment.name));
      }

      case 'GET /api/v1/analytics/exports/jobs': {
        const visible = (await deps.jobs.list(env)).filter((job) => isJobVisible(job, now));
        const jobs = (await Promise.all(visible.map((job) => settleEventsExport(settlement, job))))
          .map((job) => effectiveJob(job, now))
          .sort(byNewest);
        return json(
          200,
          jobs.map((job) => listedView(job, now)),
        );
      }

      case 'GET /api/v1/analytics/exports/jobs/{job_id}': {
        const job = await visibleJob(env, event.pathParameters?.job_id, now);
        const seconds = presignSeconds(job, now);
        const urls = await Promise.all(
          downloadableFiles(job, now).map(async (filename) => ({
            filename,
            url: await deps.files.signedGetUrl(deps.exportsBucket, exportFileKey(env, job.job_id, filename), {
              expiresInSeconds: seconds,
              fileName: filename,
            }),
          })),
        );
        return json(200, detailView(job, urls));
      }

      case 'GET /api/v1/analytics/exports/jobs/{job_id}/files/{filename}': {
        const job = await visibleJob(env, event.pathParameters?.job_id, now);
        const filename = event.pathParameters?.filename ?? '';
        if (!downloadableFiles(job, now).includes(filename)) {
          throw new NotFoundError(
            job.status === 'completed'
              ? `Failed to retrieve file ${filename} of job ${job.job_id}: no such file, or its 2 days have passed`
              : `Failed to retrieve file ${filename} of job ${job.job_id}: the job is ${job.status}`,
          );
        }
        const url = await deps.files.signedGetUrl(deps.exportsBucket, exportFileKey(env, job.job_id, filename), {
          expiresInSeconds: presignSeconds(job, now),
          fileName: filename,
        });
        return { statusCode: 302, headers: { location: url, 'cache-control': 'no-store' }, body: '' };
      }

      default:
        throw new NotFoundError(`No route ${event.routeKey}`);
    }
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps();
  return makeHandler({
    environments: aws.environments(),
    jobs: aws.eventsExportJobs(),
    catalog: aws.catalog(),
    workflows: aws.workflows('events-export'),
    files: aws.objects(),
    exportsBucket: aws.setting('exportsBucket'),
  });
});
