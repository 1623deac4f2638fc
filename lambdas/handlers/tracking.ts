import { lazyHandler } from '../config.ts';
import type { Environment } from '../core/environments/environments.ts';
import { systemClock } from '../core/shared/clock.ts';
import { TtlCache } from '../core/shared/ttl-cache.ts';
import { track } from '../core/tracking/track.ts';
import type { Clock } from '../ports/clock.ts';
import type { EnvironmentStore } from '../ports/environment-store.ts';
import type { EventSink } from '../ports/event-sink.ts';
import { awsDeps } from './aws-deps.ts';
import { header, httpHandler, json } from './http.ts';

export interface TrackingDeps {
  readonly sink: EventSink;
  readonly environments: Pick<EnvironmentStore, 'findByTrackingKey'>;
  readonly clock?: Clock;
  /** How long a found tracking key is remembered (an unknown key is looked up every time). @default 60 s */
  readonly keyCacheMs?: number;
}

/** `POST /{trackingKey}/{method}`: seed 001. A 200 means every event of the call is durable. */
export function makeHandler(deps: TrackingDeps) {
  const clock = deps.clock ?? systemClock;
  // Tracking keys never change owner, so a short cache spares a DynamoDB read per call.
  // Misses are not cached (TtlCache keeps no `undefined`): a key created a second ago
  // works at once, even where the key index is still catching up.
  const keys = new TtlCache<Environment | undefined>(deps.keyCacheMs ?? 60_000);
  const environmentOf = (key: string) => keys.get(key, (k) => deps.environments.findByTrackingKey(k));
  return httpHandler(async (event) => {
    const request = {
      trackingKey: event.pathParameters?.trackingKey ?? '',
      method: event.pathParameters?.method ?? '',
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
