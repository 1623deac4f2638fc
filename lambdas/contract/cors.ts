/**
 * What browsers may send the API cross-origin: the HTTP API's `corsPreflight`
 * (lib/http-api.ts) and the local server both read these, so a page on any
 * origin can run Bucket's and Reflag's browser SDKs against either.
 *
 * Allowing `Authorization` from any origin is safe here because nothing is
 * ambient: featurelake sets no cookies and allows no credentials mode, so a
 * browser never attaches a key by itself. A page can only send a key it already
 * holds (a tracking key is public; an API or admin token is a secret its owner
 * would have to put in that page).
 */
export const CORS_ALLOW_HEADERS = [
  'content-type',
  'authorization',
  // Bucket's SDKs (the deprecated tracking SDK and @bucketco/*) and Reflag's current ones name their version.
  'bucket-sdk-version',
  'reflag-sdk-version',
] as const;

/** The methods of ROUTES: tracking and exports POST, the catalog and settings PUT and DELETE. */
export const CORS_ALLOW_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;

/** How long a browser may reuse a preflight answer (browsers cap it: Chromium at 2 hours). */
export const CORS_MAX_AGE_SECONDS = 3600;
