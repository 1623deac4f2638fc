import type { EventSink } from '../../ports/event-sink.ts';
import { environmentOfRequest, type KeyLookup, type KeyPlaces } from './keys.ts';
import { type TrackingRequest, trackingEvents } from './tracking.ts';

export interface TrackDeps {
  readonly sink: Pick<EventSink, 'putEvents'>;
  /** The environment a key belongs to (the caller may cache hits: keys never change owner). */
  readonly environmentOf: KeyLookup;
}

/** seed 001's answer: `{"success": true}`, and how many calls a bulk request held. */
export type TrackAnswer = { success: true } | { success: true; accepted: number };

/**
 * A tracking call (seed 001's `/{trackingKey}/{method}`, the SDKs' `/{method}` and
 * their `/features/events` and `/feedback/prompt-events`): the call's events made
 * durable in the lake, all or none. The answer is sent only once every event is durable.
 */
export async function track(
  deps: TrackDeps,
  request: TrackingRequest & { readonly keys: KeyPlaces },
  now: Date,
): Promise<TrackAnswer> {
  const environment = await environmentOfRequest(request.keys, deps.environmentOf);
  const events = trackingEvents(request, { environmentId: environment.environment_id }, now);
  await deps.sink.putEvents(events);
  return request.method === 'bulk' && request.call === undefined
    ? { success: true, accepted: events.length }
    : { success: true };
}

/**
 * What the SDKs read, answered (DESIGN "Tracking: SDK wire compatibility"):
 * featurelake evaluates no flags and runs no live feedback prompts, so each answer
 * is the empty one in the shape the SDK's source checks, and the SDK runs on quietly.
 */
export const SDK_READ_ANSWERS = {
  /** Node SDK flag definitions: `flagStateVersion` is required (an integer ≥ 0), or it falls back and logs. */
  'GET /features': { success: true, features: [], flagStateVersion: 0 },
  /** Browser SDK (and Node SDK remote evaluation): evaluated flags by key. */
  'GET /features/evaluated': { success: true, features: {}, flagStateVersion: 0 },
  /** Earlier browser SDK releases' name for the same. */
  'GET /features/enabled': { success: true, features: {}, flagStateVersion: 0 },
  /** `@bucketco/tracking-sdk`'s getFeatureFlags: its flags are under `flags`. */
  'GET /{trackingKey}/features/enabled': { success: true, flags: {} },
  /** Live feedback prompts: no `channel` turns them off. */
  'POST /feedback/prompting-init': { success: true },
  'POST /{trackingKey}/feedback/prompting-init': { success: true },
  /** Flag opt-in (browser SDK): flags are not featurelake's; answered so the SDK reads a version and goes on. */
  'POST /flags/opt-in': { success: true, flagStateVersion: 0 },
} as const;

export type SdkRead = keyof typeof SDK_READ_ANSWERS;

export function isSdkRead(routeKey: string): routeKey is SdkRead {
  return Object.hasOwn(SDK_READ_ANSWERS, routeKey);
}

/** A read is key-checked like a tracking call (401 none, 404 unknown, 400 two that disagree), then answered. */
export async function sdkRead(
  deps: Pick<TrackDeps, 'environmentOf'>,
  routeKey: SdkRead,
  keys: KeyPlaces,
): Promise<(typeof SDK_READ_ANSWERS)[SdkRead]> {
  await environmentOfRequest(keys, deps.environmentOf);
  return SDK_READ_ANSWERS[routeKey];
}

/**
 * The browser SDK's live-updates stream (`GET /sse/client`): after the key check,
 * the handler answers 204, which tells an EventSource to stop reconnecting (WHATWG
 * HTML, server-sent events), so the SDK closes it with a debug line, no warning.
 */
export async function sseClient(deps: Pick<TrackDeps, 'environmentOf'>, keys: KeyPlaces): Promise<void> {
  await environmentOfRequest(keys, deps.environmentOf);
}
