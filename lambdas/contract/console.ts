/**
 * The web console's place on the one origin it shares with the API, and the
 * security headers its files are served with: CloudFront's response headers
 * policy (lib/console.ts) and the local server (bin/local/console-site.ts) both
 * read these, so the console runs under the same rules in both.
 */

/** Where the console's files are served; `/` redirects here. */
export const CONSOLE_PATH = '/console/';

/**
 * The console's Content-Security-Policy: its own script and style files only (no
 * inline script: the build emits a separate JS file), API calls to its own origin,
 * and no framing by any page.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** One year: the console is only ever served over HTTPS on AWS (browsers ignore HSTS on plain-HTTP localhost). */
export const CONSOLE_HSTS_SECONDS = 31_536_000;

/** Sent with every console file, by CloudFront and by the local server. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'strict-transport-security': `max-age=${CONSOLE_HSTS_SECONDS}; includeSubDomains`,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** The header with which an admin token acts inside one environment on the `Token` routes. */
export const ENVIRONMENT_HEADER = 'Featurelake-Environment';
