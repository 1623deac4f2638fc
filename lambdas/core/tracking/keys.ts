import type { Environment } from '../environments/environments.ts';
import { NotFoundError, UnauthorizedError, ValidationError } from '../shared/errors.ts';

/**
 * Where a tracking request carries the environment's key (DESIGN "Tracking: SDK
 * wire compatibility"): seed 001's path (`/{trackingKey}/{method}`), the current
 * SDKs' `Authorization: Bearer <key>`, or the browser SDK's `?publishableKey=<key>`.
 * The key is the tracking key (the SDKs' publishable key) or, from a server SDK, the
 * environment's API key (the SDKs' secret key).
 */
export interface KeyPlaces {
  /** The `{trackingKey}` path segment, on the routes that have one. */
  readonly path?: string | undefined;
  /** The raw `Authorization` header. */
  readonly authorization?: string | undefined;
  /** The `publishableKey` query parameter. */
  readonly publishableKey?: string | undefined;
}

/** How each place is named in a 400: the way the client wrote it. */
const PLACE_NAMES = {
  path: 'trackingKey',
  authorization: 'Authorization',
  publishableKey: 'publishableKey',
} as const satisfies Record<keyof KeyPlaces, string>;

const PLACE_WORDS = {
  path: 'the path',
  authorization: 'the Authorization header',
  publishableKey: 'the publishableKey query parameter',
} as const satisfies Record<keyof KeyPlaces, string>;

export const MISSING_KEY =
  'No environment key: send the tracking key (or, from a server, the API key) as "Authorization: Bearer <key>", ' +
  'as the publishableKey query parameter, or in the path /{trackingKey}/{method}.';

/** A presented key, and the request field a 404 names: the place it came from. */
export interface PresentedKey {
  readonly key: string;
  readonly field: string;
}

/**
 * The one key a request presents. An empty place counts as absent; an
 * `Authorization` header of another scheme is a 400 naming it; two places holding
 * different keys are a 400 naming both; no key at all is a 401.
 */
export function presentedKey(places: KeyPlaces): PresentedKey {
  const found: Array<{ place: keyof KeyPlaces; key: string }> = [];
  if (places.path !== undefined && places.path !== '') found.push({ place: 'path', key: places.path });
  const authorization = places.authorization?.trim();
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1]) {
      throw new ValidationError([{ field: 'Authorization', problem: 'must be "Bearer <key>"' }]);
    }
    found.push({ place: 'authorization', key: match[1] });
  }
  if (places.publishableKey !== undefined && places.publishableKey !== '') {
    found.push({ place: 'publishableKey', key: places.publishableKey });
  }
  const [first, ...others] = found;
  if (!first) throw new UnauthorizedError(MISSING_KEY);
  const other = others.find((candidate) => candidate.key !== first.key);
  if (other) {
    throw new ValidationError([
      {
        field: PLACE_NAMES[other.place],
        problem: `holds a different key than ${PLACE_WORDS[first.place]} (${PLACE_NAMES[first.place]}); send one key`,
      },
    ]);
  }
  return { key: first.key, field: PLACE_NAMES[first.place] };
}

/** Finds the environment of a key: its tracking key, or its API key (by hash). Callers may cache hits. */
export type KeyLookup = (key: string) => Promise<Environment | undefined>;

/**
 * The environment of the key a request presents, or seed 001's 404 naming the place.
 * A key longer than any tracking key may be an API key (secret): it is not echoed whole.
 */
export async function environmentOfRequest(places: KeyPlaces, lookup: KeyLookup): Promise<Environment> {
  const { key, field } = presentedKey(places);
  const environment = await lookup(key);
  if (!environment) {
    const shown = key.length <= 32 ? `"${key}"` : `"${key.slice(0, 4)}…" (${key.length} characters)`;
    throw new NotFoundError(`Unknown key ${shown}: no environment has this tracking key or API key.`, field);
  }
  return environment;
}
