import { lazyHandler } from '../config.ts';
import { cachedApiKeyLookup } from '../core/environments/api-auth.ts';
import { API_KEY_PREFIX, type Environment, hashApiKey } from '../core/environments/environments.ts';
import { systemClock } from '../core/shared/clock.ts';
import { TtlCache } from '../core/shared/ttl-cache.ts';
import type { KeyLookup, KeyPlaces } from '../core/tracking/keys.ts';
import { isSdkRead, sdkRead, sseClient, track } from '../core/tracking/track.ts';
import type { SdkCallType } from '../core/tracking/tracking.ts';
import type { Clock } from '../ports/clock.ts';
import type { EnvironmentStore } from '../ports/environment-store.ts';
import type { EventSink } from '../ports/event-sink.ts';
import { awsDeps } from './aws-deps.ts';
import { header, httpHandler, json } from './http.ts';

export interface TrackingDeps {
  readonly sink: EventSink;
  readonly environments: Pick<EnvironmentStore, 'findByTrackingKey' | 'findByApiKeyHash'>;
  readonly clock?: Clock;
  /** How long a found tracking key is remembered (an unknown key is looked up every time). @default 60 s */
  readonly keyCacheMs?: number;
}

/** The SDK routes that carry one call of their own type. */
const SDK_CALL_ROUTES: Readonly<Record<string, SdkCallType>> = {
  'POST /features/events': 'feature-flag-event',
  'POST /feedback/prompt-events': 'prompt-event',
  'POST /{trackingKey}/feedback/prompt-events': 'prompt-event',
};

/**
 * Every `tracking` route of ROUTES: seed 001's `POST /{trackingKey}/{method}`, the
 * same methods on `POST /{method}` with the key in a header or the query, and what
 * the SDKs read (DESIGN "Tracking: SDK wire compatibility"). A 200 on a call that
 * carries events means every event of it is durable.
 */
export function makeHandler(deps: TrackingDeps) {
  const clock = deps.clock ?? systemClock;
  // Tracking keys never change owner, so a short cache spares a DynamoDB read per call.
  // Misses are not cached (TtlCache keeps no `undefined`): a key created a second ago
  // works at once, even where the key index is still catching up.
  const trackingKeys = new TtlCache<Environment | undefined>(deps.keyCacheMs ?? 60_000);
  // A server SDK's secret key is the environment's API key: found by its hash, as
  // `Authorization: Token` is, with the same capped cache of hits only.
  const apiKeys = cachedApiKeyLookup((hash) => deps.environments.findByApiKeyHash(hash), { ttlMs: deps.keyCacheMs });
  const byTrackingKey = (key: string) => trackingKeys.get(key, (k) => deps.environments.findByTrackingKey(k));
  const byApiKey = (key: string) => apiKeys(hashApiKey(key));
  // The index the key's shape points to first, so a valid key of either kind is a cache
  // hit (misses are never cached: trying the other index first would cost a read per call).
  const environmentOf: KeyLookup = async (key) =>
    key.startsWith(API_KEY_PREFIX)
      ? ((await byApiKey(key)) ?? byTrackingKey(key))
      : ((await byTrackingKey(key)) ?? byApiKey(key));
  return httpHandler(async (event) => {
    const keys: KeyPlaces = {
      path: event.pathParameters?.trackingKey,
      authorization: header(event, 'authorization'),
      publishableKey: event.queryStringParameters?.publishableKey,
    };
    const routeKey = event.routeKey;
    if (isSdkRead(routeKey)) return json(200, await sdkRead({ environmentOf }, routeKey, keys));
    if (routeKey === 'GET /sse/client') {
      await sseClient({ environmentOf }, keys);
      return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
    }
    const call = SDK_CALL_ROUTES[routeKey];
    const request = {
      keys,
      // `POST /user` and its kin: the route's own path is the method.
      method: event.pathParameters?.method ?? routeKey.slice(routeKey.indexOf('/') + 1),
      ...(call === undefined ? {} : { call }),
      contentType: header(event, 'content-type'),
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
    };
    return json(200, await track({ sink: deps.sink, environmentOf }, request, clock.now()));
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('tracking');
  return makeHandler({ sink: aws.eventSink(), environments: aws.environments() });
});
