import type { EventSink } from '../../ports/event-sink.ts';
import type { Environment } from '../environments/environments.ts';
import { NotFoundError } from '../shared/errors.ts';
import { type TrackingRequest, trackingEvents } from './tracking.ts';

export interface TrackDeps {
  readonly sink: Pick<EventSink, 'putEvents'>;
  /** The environment a tracking key belongs to (the caller may cache: keys never change owner). */
  readonly environmentOf: (trackingKey: string) => Promise<Environment | undefined>;
}

/** seed 001's answer: `{"success": true}`, and how many calls a bulk request held. */
export type TrackAnswer = { success: true } | { success: true; accepted: number };

/**
 * `POST /{trackingKey}/{method}` (seed 001): the call's events made durable in the
 * lake, all or none. The answer is sent only once every event is durable.
 */
export async function track(
  deps: TrackDeps,
  request: TrackingRequest & { readonly trackingKey: string },
  now: Date,
): Promise<TrackAnswer> {
  const environment = await deps.environmentOf(request.trackingKey);
  if (!environment) throw new NotFoundError(`Unknown tracking key "${request.trackingKey}".`, 'trackingKey');
  const events = trackingEvents(request, { environmentId: environment.environment_id }, now);
  await deps.sink.putEvents(events);
  return request.method === 'bulk' ? { success: true, accepted: events.length } : { success: true };
}
