import { lazyHandler } from '../config.ts';
import { schedulerTickRequest } from '../core/automatic-export/automatic-export.ts';
import { type DispatchReport, dispatchAutomaticExports } from '../core/automatic-export/dispatch.ts';
import { factsBuildRequest, factsBuildStatus, startFactsBuild } from '../core/daily-facts/orchestration.ts';
import { assertAdmin, runAdminSql, sqlRequest } from '../core/environments/admin.ts';
import { createEnvironment } from '../core/environments/create.ts';
import { createEnvironmentRequest } from '../core/environments/environments.ts';
import { systemClock } from '../core/shared/clock.ts';
import { NotFoundError } from '../core/shared/errors.ts';
import { parseRequestBody } from '../core/shared/request-body.ts';
import type { Clock } from '../ports/clock.ts';
import type { EnvironmentStore } from '../ports/environment-store.ts';
import type { QueryEngine } from '../ports/query-engine.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import type { WorkflowMonitor, WorkflowStarter } from '../ports/workflow-starter.ts';
import { awsDeps } from './aws-deps.ts';
import { header, httpHandler, json } from './http.ts';

export interface AdminDeps {
  readonly environments: Pick<EnvironmentStore, 'create' | 'get'>;
  readonly queryEngine: Pick<QueryEngine, 'readRows'>;
  readonly adminToken: SecretSource;
  readonly clock?: Clock;
  /** The export dispatcher, as the daily schedule runs it (`POST /admin/v1/scheduler/tick`). */
  readonly dispatch?: (at: Date) => Promise<DispatchReport>;
  /** Starts and watches the daily facts workflow (`POST /admin/v1/facts/build`, `GET …/facts/builds/{name}`). */
  readonly facts?: WorkflowStarter & WorkflowMonitor;
}

/** The admin API (`Authorization: Bearer <admin token>`): environments, lake SQL, the schedule and the facts. */
export function makeHandler(deps: AdminDeps) {
  const clock = deps.clock ?? systemClock;
  return httpHandler(async (event) => {
    assertAdmin(header(event, 'authorization'), await deps.adminToken.value());
    switch (event.routeKey) {
      case 'POST /admin/v1/environments': {
        const request = parseRequestBody('admin', createEnvironmentRequest, event.body, event.isBase64Encoded);
        return json(201, await createEnvironment(deps.environments, request, clock.now()));
      }
      case 'POST /admin/v1/sql': {
        const request = parseRequestBody('admin', sqlRequest, event.body, event.isBase64Encoded);
        return json(200, await runAdminSql(deps.queryEngine, request));
      }
      case 'POST /admin/v1/scheduler/tick': {
        if (!deps.dispatch) throw new NotFoundError('The export scheduler is not configured here.');
        const request = parseRequestBody('admin', schedulerTickRequest, event.body ?? '{}', event.isBase64Encoded);
        return json(200, await deps.dispatch(request.at ? new Date(request.at) : clock.now()));
      }
      case 'POST /admin/v1/facts/build': {
        if (!deps.facts) throw new NotFoundError('The daily facts workflow is not configured here.');
        const request = parseRequestBody('admin', factsBuildRequest, event.body ?? '{}', event.isBase64Encoded);
        return json(
          202,
          await startFactsBuild({ environments: deps.environments, workflows: deps.facts, clock }, request),
        );
      }
      case 'GET /admin/v1/facts/builds/{execution_name}': {
        if (!deps.facts) throw new NotFoundError('The daily facts workflow is not configured here.');
        const name = event.pathParameters?.execution_name ?? '';
        return json(200, await factsBuildStatus({ workflows: deps.facts, clock }, name));
      }
      default:
        throw new NotFoundError(`No admin route ${event.routeKey}.`);
    }
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('admin');
  const dispatchDeps = {
    settings: aws.automaticExports(),
    environments: aws.environments(),
    jobs: aws.companyExportJobs(),
    workflows: aws.workflows('company-export', 'daily-facts'),
    clock: systemClock,
  };
  return makeHandler({
    environments: aws.environments(),
    // The same dispatch the daily schedule runs, in this Lambda: a tick is an admin's backfill.
    dispatch: (at) => dispatchAutomaticExports(dispatchDeps, at),
    facts: aws.workflows('daily-facts'),
    queryEngine: aws.queryEngine(),
    adminToken: aws.adminToken(),
  });
});
