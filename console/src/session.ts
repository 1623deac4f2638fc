/**
 * The signed-in credentials, in the tab's sessionStorage only: closing the tab or
 * "Sign out" forgets them, and no other tab or later visit sees them.
 */

/** An environment's API key, or the admin token (acting inside one environment at a time). */
export type Credentials =
  | { readonly kind: 'api-key'; readonly apiKey: string }
  | { readonly kind: 'admin'; readonly adminToken: string };

const STORAGE_KEY = 'featurelake.credentials';

/** Every API key starts with this (lambdas/core/environments/environments.ts API_KEY_PREFIX); an admin token never does. */
const API_KEY_PREFIX = 'fl_';

/** What the sign-in field holds: an API key by its prefix, anything else is taken as the admin token. */
export function credentialsFrom(secret: string): Credentials {
  const value = secret.trim();
  return value.startsWith(API_KEY_PREFIX) ? { kind: 'api-key', apiKey: value } : { kind: 'admin', adminToken: value };
}

export function loadCredentials(): Credentials | undefined {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as Credentials;
    if (parsed.kind === 'api-key' && typeof parsed.apiKey === 'string') return parsed;
    if (parsed.kind === 'admin' && typeof parsed.adminToken === 'string') return parsed;
  } catch {
    // unreadable: as if signed out
  }
  sessionStorage.removeItem(STORAGE_KEY);
  return undefined;
}

export function saveCredentials(credentials: Credentials): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
}

export function forgetCredentials(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
