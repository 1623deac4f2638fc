import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretSource } from '../../ports/secret-source.ts';
import { type FieldProblem, ForbiddenError, ValidationError } from './errors.ts';

/**
 * Download links that live exactly as long as they say (DESIGN "On AWS at scale").
 *
 * An S3 URL presigned by a Lambda dies with the role's session, hours before the
 * 2 days seed 002 promises ("Download and upload objects with presigned URLs",
 * Amazon S3 User Guide: with IAM role credentials "the presigned URL expires when
 * the role session expires, even if you specify a longer expiration time"). So
 * every URL the API returns or emails points at featurelake's own file route,
 * with `environment_id`, `expires` (Unix seconds) and an HMAC-SHA256 `signature`
 * over what the link grants: one file of one job of one environment, of one kind,
 * until `expires`. The route checks the signature (constant time) and the expiry,
 * re-checks the job, and answers 302 to an S3 URL presigned there and then.
 *
 * The key is a secret (Secrets Manager on AWS, a file locally): replacing it
 * invalidates every outstanding link.
 */

/** What a link may grant; each kind signs in its own domain, so a link of one kind is never valid for another. */
export type DownloadKind = 'events-export' | 'company-export';

export interface DownloadGrant {
  readonly kind: DownloadKind;
  readonly environmentId: string;
  readonly jobId: string;
  readonly filename: string;
  /** Unix seconds: the link works while the clock is before this instant. */
  readonly expires: number;
}

export interface DownloadLinkDeps {
  /** The signing key. */
  readonly linkKey: SecretSource;
  /** featurelake's public base URL (the HTTP API's, or the custom domain's), e.g. https://api.example.com. */
  readonly apiBaseUrl: () => string;
}

/**
 * How long the S3 URL a link redirects to lives. S3 checks a presigned URL's expiry
 * when a request starts, not while the object streams (same page, "Expiration time
 * for presigned URLs": a download begun before the expiry continues past it), and a
 * client follows a 302 at once; a resumed download asks our link again and gets a
 * fresh one. Five minutes leave room for clock skew and a slow client, and stay far
 * inside any role session the signing Lambda still holds.
 */
export const REDIRECT_URL_SECONDS = 5 * 60;

/** The query parameters a link adds to its file route. */
const PARAMS = { environment: 'environment_id', expires: 'expires', signature: 'signature' } as const;

/** HMAC-SHA256 in base64url, without padding: always 43 characters. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
/** Unix seconds, no leading zero: one text per instant, so the signed text is the one sent. */
const EXPIRES = /^[1-9]\d{0,11}$/;
/** Environment ids are UUIDs; any id the state table could hold fits. */
const ENVIRONMENT_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** A key shorter than this is a deploy mistake, not a key (the deployed one has 64 characters, the local one 43). */
const MIN_KEY_LENGTH = 32;

async function signature(linkKey: SecretSource, grant: DownloadGrant): Promise<string> {
  const key = await linkKey.value();
  if (key.length < MIN_KEY_LENGTH) {
    throw new Error(`the download-link key is shorter than ${MIN_KEY_LENGTH} characters: replace the secret`);
  }
  // A JSON array: unambiguous whatever the fields hold, and the first element separates this use of the key.
  const signed = JSON.stringify([
    'featurelake download link v1',
    grant.kind,
    grant.environmentId,
    grant.jobId,
    grant.filename,
    String(grant.expires),
  ]);
  return createHmac('sha256', key).update(signed).digest('base64url');
}

/** The absolute URL of a link granting `grant`, on its file route `path` (e.g. `/api/v1/…/files/x.json.gz`). */
export async function downloadLink(deps: DownloadLinkDeps, grant: DownloadGrant, path: string): Promise<string> {
  if (!Number.isSafeInteger(grant.expires) || !EXPIRES.test(String(grant.expires))) {
    throw new Error(`a download link's expiry must be a positive whole number of seconds, got ${grant.expires}`);
  }
  const query = new URLSearchParams({
    [PARAMS.environment]: grant.environmentId,
    [PARAMS.expires]: String(grant.expires),
    [PARAMS.signature]: await signature(deps.linkKey, grant),
  });
  return `${deps.apiBaseUrl().replace(/\/+$/, '')}${path}?${query}`;
}

type Query = Readonly<Record<string, string | undefined>> | undefined;

/** Whether a request to a file route presents a link (rather than an `Authorization: Token`). */
export function presentsDownloadLink(query: Query): boolean {
  return Object.values(PARAMS).some((name) => query?.[name] !== undefined);
}

/**
 * The environment a link's request may read, once its signature matches what it
 * names and its expiry has not passed; otherwise a 400 naming the malformed
 * parameter, or a 403 naming the one refused. A link changed in any way names
 * nothing: no environment's file is looked up for it.
 */
export async function verifyDownloadLink(
  deps: Pick<DownloadLinkDeps, 'linkKey'>,
  request: { readonly kind: DownloadKind; readonly jobId: string; readonly filename: string; readonly query: Query },
  now: Date,
): Promise<string> {
  const environmentId = request.query?.[PARAMS.environment] ?? '';
  const expiresText = request.query?.[PARAMS.expires] ?? '';
  const presented = request.query?.[PARAMS.signature] ?? '';
  const problems: FieldProblem[] = [];
  if (!ENVIRONMENT_ID.test(environmentId)) {
    problems.push({ field: PARAMS.environment, problem: 'must be the environment id the link was made with' });
  }
  if (!EXPIRES.test(expiresText)) {
    problems.push({ field: PARAMS.expires, problem: 'must be the Unix time in seconds the link was made with' });
  }
  if (!SIGNATURE.test(presented)) {
    problems.push({ field: PARAMS.signature, problem: 'must be the 43-character signature the link was made with' });
  }
  if (problems.length > 0) throw new ValidationError(problems);

  const expires = Number(expiresText);
  const expected = await signature(deps.linkKey, { ...request, environmentId, expires });
  // Compared as text, not as decoded bytes: base64url decoding ignores the last character's low bits.
  if (!timingSafeEqual(Buffer.from(presented), Buffer.from(expected))) {
    throw new ForbiddenError(
      'This download link is not valid: it was changed or cut. Use the link exactly as the API or the email gave it.',
      PARAMS.signature,
    );
  }
  if (now.getTime() >= expires * 1000) {
    throw new ForbiddenError(
      `This download link expired at ${new Date(expires * 1000).toISOString()}. Read the job again for a new link while its files are kept.`,
      PARAMS.expires,
    );
  }
  return environmentId;
}
