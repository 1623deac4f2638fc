import { lazyHandler } from '../config.ts';
import { companyExportRequest } from '../core/company-export/job.ts';
import { companyExportFileUrl, readCompanyExport } from '../core/company-export/read.ts';
import { startRequestedCompanyExport } from '../core/company-export/start.ts';
import { type EnvironmentAuthDeps, environmentAuthenticator, requirePlan } from '../core/environments/api-auth.ts';
import { systemClock } from '../core/shared/clock.ts';
import { type DownloadLinkDeps, presentsDownloadLink, verifyDownloadLink } from '../core/shared/download-links.ts';
import { parseRequestBody } from '../core/shared/request-body.ts';
import type { AutomaticExportStore } from '../ports/automatic-export-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { CompanyExportJobs } from '../ports/company-export-jobs.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { WorkflowMonitor, WorkflowStarter } from '../ports/workflow-starter.ts';
import { awsDeps } from './aws-deps.ts';
import { httpHandler, json, redirect } from './http.ts';

const FILE_ROUTE = 'GET /api/v1/company-exports/jobs/{job_id}/files/{filename}';

export interface CompanyExportsDeps extends DownloadLinkDeps {
  readonly environments: EnvironmentAuthDeps['environments'];
  /** Also opens these routes, acting in the environment the Featurelake-Environment header names. */
  readonly adminToken?: EnvironmentAuthDeps['adminToken'];
  readonly jobs: CompanyExportJobs;
  /** Starts runs, and says whether a job's run still runs (a job whose run died is settled when read). */
  readonly workflows: WorkflowStarter & WorkflowMonitor;
  /** Where an automatic run's status is settled along with its job. */
  readonly settings?: Pick<AutomaticExportStore, 'recordRun'>;
  readonly files: Pick<ObjectStore, 'signedGetUrl'>;
  readonly exportsBucket: string;
  readonly clock?: Clock;
}

/**
 * `POST /api/v1/company-exports`, `GET /api/v1/company-exports/jobs/{job_id}`
 * (seed 000, manual export) and its file's redirect: asked with the environment's
 * API key, or through the job's download link (no key: the link names the
 * environment, and its signature and expiry are checked instead).
 */
export function makeHandler(deps: CompanyExportsDeps) {
  const clock = deps.clock ?? systemClock;
  const authenticate = environmentAuthenticator(deps);
  return httpHandler(async (event) => {
    const jobId = event.pathParameters?.job_id ?? '';
    const filename = event.pathParameters?.filename ?? '';
    if (event.routeKey === FILE_ROUTE && presentsDownloadLink(event.queryStringParameters)) {
      const query = event.queryStringParameters;
      const environmentId = await verifyDownloadLink(
        deps,
        { kind: 'company-export', jobId, filename, query },
        clock.now(),
      );
      return redirect(await companyExportFileUrl({ ...deps, clock }, { environmentId, jobId, filename }));
    }
    const environment = await authenticate(event.headers);
    requirePlan(environment, 'exports');
    const environmentId = environment.environment_id;

    if (event.routeKey === 'POST /api/v1/company-exports') {
      const request = parseRequestBody(
        'companyExport',
        companyExportRequest,
        event.body ?? '{}',
        event.isBase64Encoded,
      );
      const { job } = await startRequestedCompanyExport(
        { jobs: deps.jobs, workflows: deps.workflows, settings: deps.settings, clock },
        {
          environmentId,
          aggregation: request.aggregation,
          ...(request.as_of ? { asOf: new Date(request.as_of) } : {}),
        },
      );
      return json(202, { job_id: job.job_id, status: job.status, links: `/api/v1/company-exports/jobs/${job.job_id}` });
    }

    if (event.routeKey === FILE_ROUTE) {
      return redirect(await companyExportFileUrl({ ...deps, clock }, { environmentId, jobId, filename }));
    }
    return json(200, await readCompanyExport({ ...deps, clock }, { environmentId, jobId }));
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('company-exports');
  const publicApiUrl = aws.setting('publicApiUrl');
  return makeHandler({
    environments: aws.environments(),
    adminToken: aws.adminToken(),
    jobs: aws.companyExportJobs(),
    settings: aws.automaticExports(),
    workflows: aws.workflows('company-export'),
    files: aws.objects(),
    exportsBucket: aws.setting('exportsBucket'),
    linkKey: aws.downloadLinkKey(),
    apiBaseUrl: () => publicApiUrl,
  });
});
