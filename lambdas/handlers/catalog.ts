import { lazyHandler } from '../config.ts';
import {
  exclusionsRequest,
  exclusionsView,
  featureRequest,
  notFoundMessage,
  parseCatalogId,
  parseCatalogPut,
  segmentRequest,
} from '../core/catalog/catalog.ts';
import { type EnvironmentAuthDeps, environmentAuthenticator } from '../core/environments/api-auth.ts';
import { systemClock } from '../core/shared/clock.ts';
import { NotFoundError } from '../core/shared/errors.ts';
import { parseRequestBody } from '../core/shared/request-body.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { Clock } from '../ports/clock.ts';
import { awsDeps } from './aws-deps.ts';
import { type HttpEvent, type HttpResult, httpHandler, json } from './http.ts';

export interface CatalogDeps {
  readonly environments: EnvironmentAuthDeps['environments'];
  /** Also opens these routes, acting in the environment the Featurelake-Environment header names. */
  readonly adminToken?: EnvironmentAuthDeps['adminToken'];
  readonly catalog: CatalogStore;
  readonly clock?: Clock;
  /** How long a found API key is remembered (capped at one minute). @default 30 s */
  readonly keyCacheMs?: number;
}

const noContent = (): HttpResult => ({ statusCode: 204 });

/**
 * Features, segments and exclusions (`Authorization: Token <api_key>`), on every
 * plan: the catalog describes the data, only exports of it are gated.
 */
export function makeHandler(deps: CatalogDeps) {
  const clock = deps.clock ?? systemClock;
  const authenticate = environmentAuthenticator(deps);
  return httpHandler(async (event: HttpEvent) => {
    const { environment_id: env } = await authenticate(event.headers);
    const rawId = event.pathParameters?.id;
    const id = () => parseCatalogId(rawId);

    switch (event.routeKey) {
      case 'GET /api/v1/features':
        return json(200, { features: await deps.catalog.listFeatures(env) });
      case 'PUT /api/v1/features/{id}': {
        const put = parseCatalogPut(featureRequest, rawId, event.body, event.isBase64Encoded);
        const { item, created } = await deps.catalog.putFeature(env, put.id, put.definition, clock.now());
        return json(created ? 201 : 200, item);
      }
      case 'GET /api/v1/features/{id}': {
        const featureId = id();
        const feature = await deps.catalog.getFeature(env, featureId);
        if (!feature) throw new NotFoundError(notFoundMessage('retrieve', 'feature', featureId));
        return json(200, feature);
      }
      case 'DELETE /api/v1/features/{id}': {
        const featureId = id();
        if (!(await deps.catalog.deleteFeature(env, featureId))) {
          throw new NotFoundError(notFoundMessage('delete', 'feature', featureId));
        }
        return noContent();
      }
      case 'GET /api/v1/segments':
        return json(200, { segments: await deps.catalog.listSegments(env) });
      case 'PUT /api/v1/segments/{id}': {
        const put = parseCatalogPut(segmentRequest, rawId, event.body, event.isBase64Encoded);
        const { item, created } = await deps.catalog.putSegment(env, put.id, put.definition, clock.now());
        return json(created ? 201 : 200, item);
      }
      case 'GET /api/v1/segments/{id}': {
        const segmentId = id();
        const segment = await deps.catalog.getSegment(env, segmentId);
        if (!segment) throw new NotFoundError(notFoundMessage('retrieve', 'segment', segmentId));
        return json(200, segment);
      }
      case 'DELETE /api/v1/segments/{id}': {
        const segmentId = id();
        if (!(await deps.catalog.deleteSegment(env, segmentId))) {
          throw new NotFoundError(notFoundMessage('delete', 'segment', segmentId));
        }
        return noContent();
      }
      case 'GET /api/v1/exclusions':
        return json(200, exclusionsView(await deps.catalog.getExclusions(env)));
      case 'PUT /api/v1/exclusions': {
        // Exclusions always exist (empty until set), so a PUT replaces them: 200, never 201.
        const exclusions = parseRequestBody('catalog', exclusionsRequest, event.body, event.isBase64Encoded);
        const stored = await deps.catalog.putExclusions(env, exclusions, clock.now());
        return json(200, exclusionsView(stored));
      }
      default:
        throw new NotFoundError(`No catalog route ${event.routeKey}.`);
    }
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('catalog');
  return makeHandler({ environments: aws.environments(), adminToken: aws.adminToken(), catalog: aws.catalog() });
});
