import { lazyHandler } from '../config.ts';
import type { SqlDialectName } from '../core/company-export/rollup/index.ts';
import { type EnvironmentAuthDeps, environmentAuthenticator } from '../core/environments/api-auth.ts';
import { recentEvents, starsFunnel, unassociatedEvents } from '../core/insights/lake-insights.ts';
import { systemClock } from '../core/shared/clock.ts';
import { NotFoundError } from '../core/shared/errors.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { FactsManifestStore } from '../ports/company-facts.ts';
import type { LakeInputsWriter } from '../ports/lake-inputs.ts';
import type { QueryEngine } from '../ports/query-engine.ts';
import { awsDeps } from './aws-deps.ts';
import { httpHandler, json } from './http.ts';

export interface LakeInsightsDeps {
  readonly environments: EnvironmentAuthDeps['environments'];
  /** Also opens these routes, acting in the environment the Featurelake-Environment header names. */
  readonly adminToken?: EnvironmentAuthDeps['adminToken'];
  readonly queryEngine: Pick<QueryEngine, 'readRows'>;
  /** Which SQL dialect `queryEngine` speaks (the funnel runs the rollup's text for it). */
  readonly dialect: SqlDialectName;
  readonly catalog: Pick<CatalogStore, 'listFeatures' | 'listSegments'>;
  readonly inputs: LakeInputsWriter;
  /** The daily facts' manifests, which the funnel reads as exports do (absent: FEATURELAKE_ROLLUP_FROM_FACTS=0). */
  readonly factsManifest?: Pick<FactsManifestStore, 'readFactsManifest'>;
  readonly clock?: Clock;
}

/**
 * The console's reads of the lake (`Authorization: Token <api_key>`), on every plan:
 * recent events and unassociated tracks (the Tracking page), the STARS funnel (the
 * Features page). Each answer is one query scoped to the key's environment.
 */
export function makeHandler(deps: LakeInsightsDeps) {
  const clock = deps.clock ?? systemClock;
  const authenticate = environmentAuthenticator(deps);
  return httpHandler(async (event) => {
    const { environment_id: env } = await authenticate(event.headers);
    const query = event.queryStringParameters;
    switch (event.routeKey) {
      case 'GET /api/v1/tracking/events':
        return json(200, await recentEvents(deps.queryEngine, env, query, clock.now()));
      case 'GET /api/v1/tracking/unassociated':
        return json(200, await unassociatedEvents(deps.queryEngine, env, query, clock.now()));
      case 'GET /api/v1/stars-funnel':
        return json(
          200,
          await starsFunnel(
            {
              engine: deps.queryEngine,
              dialect: deps.dialect,
              catalog: deps.catalog,
              inputs: deps.inputs,
              ...(deps.factsManifest ? { facts: deps.factsManifest } : {}),
            },
            env,
            query,
            clock.now(),
          ),
        );
      default:
        throw new NotFoundError(`No lake insights route ${event.routeKey}.`);
    }
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('lake-insights');
  return makeHandler({
    environments: aws.environments(),
    adminToken: aws.adminToken(),
    queryEngine: aws.queryEngine(),
    dialect: 'trino',
    catalog: aws.catalog(),
    inputs: aws.lakeInputs(),
    ...(aws.setting('rollupFromFacts') === '0' ? {} : { factsManifest: aws.factsManifest() }),
  });
});
