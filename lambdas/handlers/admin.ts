import { lazyHandler } from '../config.ts';
import { schedulerTickRequest } from '../core/automatic-export/automatic-export.ts';
import { type DispatchReport, dispatchAutomaticExports } from '../core/automatic-export/dispatch.ts';
import { factsBuildRequest, factsBuildStatus, startFactsBuild } from '../core/daily-facts/orchestration.ts';
import { assertAdmin, runAdminSql, sqlRequest } from '../core/environments/admin.ts';
import { environmentAuthenticator } from '../core/environments/api-auth.ts';
import { rotateApiKey } from '../core/environments/api-key-rotation.ts';
import { createEnvironment } from '../core/environments/create.ts';
import { createEnvironmentRequest, environmentView, listedEnvironment } from '../core/environments/environments.ts';
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
  readonly environments: Pick<EnvironmentStore, 'create' | 'findByApiKeyHash' | 'get' | 'list' | 'replaceApiKeyHash'>;
  readonly queryEngine: Pick<QueryEngine, 'readRows'>;
  readonly adminToken: SecretSource;
  readonly clock?: Clock;
  /** The export dispatcher, as the daily schedule runs it (`POST /admin/v1/scheduler/tick`). */
  readonly dispatch?: (at: Date) => Promise<DispatchReport>;
  /** How long a found API key is remembered (capped at one minute). @default 30 s */
  readonly keyCacheMs?: number;
  /** Starts and watches the daily facts workflow (`POST /admin/v1/facts/build`, `GET …/facts/builds/{name}`). */
  readonly facts?: WorkflowStarter & WorkflowMonitor;
}

/**
 * The admin API (`Authorization: Bearer <admin token>`): environments, lake SQL, the
 * schedule and the facts; and, with an API key, the key's own environment
 * (`/api/v1/environment`): this Lambda is the one that holds the environment store.
 */
export function makeHandler(deps: AdminDeps) {
  const clock = deps.clock ?? systemClock;
  const authenticate = environmentAuthenticator(deps);
  return httpHandler(async (event) => {
    if (event.routeKey === 'GET /api/v1/environment') {
      return json(200, environmentView(await authenticate(event.headers)));
    }
    if (event.routeKey === 'POST /api/v1/environment/api-key') {
      return json(201, await rotateApiKey(deps.environments, await authenticate(event.headers)));
    }
    assertAdmin(header(event, 'authorization'), await deps.adminToken.value());
    switch (event.routeKey) {
      case 'POST /admin/v1/environments': {
        const request = parseRequestBody('admin', createEnvironmentRequest, event.body, event.isBase64Encoded);
        return json(201, await createEnvironment(deps.environments, request, clock.now()));
      }
      case 'GET /admin/v1/environments':
        return json(200, { environments: (await deps.environments.list()).map(listedEnvironment) });
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
    adminToken: aws.adminToken(),
    // The same dispatch the daily schedule runs, in this Lambda: a tick is an admin's backfill.
    dispatch: (at) => dispatchAutomaticExports(dispatchDeps, at),
    facts: aws.workflows('daily-facts'),
    queryEngine: aws.queryEngine(),
  });
});
