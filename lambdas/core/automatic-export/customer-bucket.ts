/**
 * The customer's S3-compatible bucket (seed 000, automatic export): where it is,
 * how to reach it, and what a failure to reach it means in words a user can act on.
 * Pure: the S3 adapter turns SDK errors into `BucketFailureFacts` and back.
 */

export const PROVIDERS = ['aws', 'gcp', 'custom'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Google Cloud Storage's S3-compatible (XML API) endpoint, used with HMAC keys. */
export const GCS_ENDPOINT = 'https://storage.googleapis.com';
/** SigV4 region for providers that have none of their own (GCS, R2 accept it). */
export const DEFAULT_CUSTOM_REGION = 'auto';

/** Where automatic exports go, as stored (the fields the user gave, normalised). */
export interface BucketDestination {
  readonly provider: Provider;
  readonly bucket: string;
  readonly region: string;
  /** The key prefix, `''` or ending with `/`. */
  readonly prefix: string;
  /** Custom provider only: the S3 API's base URL. */
  readonly endpoint: string | null;
  /** AWS only: the bucket URL as the user gave it (normalised). */
  readonly bucket_url: string | null;
}

/** How an S3 client reaches a destination. */
export interface BucketTarget {
  /** Undefined for AWS: the SDK picks the regional endpoint (and path style for dotted names). */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  /** How messages name the service: `AWS S3 (eu-west-1)`, `Google Cloud Storage`, or the endpoint URL. */
  readonly label: string;
}

export interface BucketCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export function bucketTarget(destination: BucketDestination): BucketTarget {
  const common = { region: destination.region, bucket: destination.bucket, prefix: destination.prefix };
  switch (destination.provider) {
    case 'aws':
      return { ...common, endpoint: undefined, forcePathStyle: false, label: `AWS S3 (${destination.region})` };
    case 'gcp':
      // Path style: GCS serves both, and path style keeps dotted bucket names under its TLS certificate.
      return { ...common, endpoint: GCS_ENDPOINT, forcePathStyle: true, label: 'Google Cloud Storage' };
    case 'custom':
      // Path style: every S3-compatible service we know serves it (R2, MinIO, Ceph, Wasabi,
      // Backblaze, s3rver); not all serve virtual-hosted names on custom domains.
      return {
        ...common,
        endpoint: destination.endpoint ?? '',
        forcePathStyle: true,
        label: destination.endpoint ?? '',
      };
  }
}

/** `s3://bucket/prefix/` as the user would write it. */
export function describeBucketLocation(target: Pick<BucketTarget, 'bucket' | 'prefix'>, key = ''): string {
  return `s3://${target.bucket}/${target.prefix}${key}`;
}

// ---------------------------------------------------------------------------
// AWS bucket URLs
// ---------------------------------------------------------------------------

const AWS_REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;

/** S3's bucket naming rules (general purpose buckets). */
export function bucketNameProblem(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) return `bucket name "${bucket}" must be 3 to 63 characters long`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) {
    return `bucket name "${bucket}" may hold only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit`;
  }
  if (/\.\.|\.-|-\./.test(bucket)) return `bucket name "${bucket}" must not have two dots, or a dot beside a hyphen`;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return `bucket name "${bucket}" must not look like an IP address`;
  return undefined;
}

/** Most characters a key prefix may have (S3 keys are at most 1,024 bytes; the file name needs room). */
export const MAX_PREFIX_LENGTH = 900;

/**
 * A key prefix as stored: no leading or trailing `/`, then one `/` appended, so
 * `exports/daily`, `/exports/daily/` and `exports/daily/` are the same prefix.
 */
export function normalisePrefix(key: string | undefined): { prefix: string } | { problem: string } {
  const trimmed = (key ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return { prefix: '' };
  if (trimmed.length > MAX_PREFIX_LENGTH) return { problem: `must be at most ${MAX_PREFIX_LENGTH} characters` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return { problem: 'must not contain control characters' };
  if (trimmed.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return { problem: 'must not contain empty, "." or ".." path segments' };
  }
  return { prefix: `${trimmed}/` };
}

export interface ParsedAwsBucketUrl {
  readonly bucket: string;
  readonly region: string;
  readonly prefix: string;
  /** The URL rewritten in the seed's form: `https://<bucket>.s3.<region>.amazonaws.com[/key]`. */
  readonly normalised: string;
}

/**
 * Parses an AWS bucket URL. Virtual-hosted (the seed's form, with or without a key,
 * dotted names included), the older `s3-<region>` host, the global
 * `<bucket>.s3.amazonaws.com` (a us-east-1 bucket), and path style
 * (`s3.<region>.amazonaws.com/<bucket>`). Returns the problem in words otherwise.
 */
export function parseAwsBucketUrl(input: string): ParsedAwsBucketUrl | { problem: string } {
  const text = input.trim();
  const expected = `expected https://<bucket>.s3.<region>.amazonaws.com[/key]`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `is not a URL; ${expected}` };
  }
  if (url.protocol !== 'https:') return { problem: `must start with https://; ${expected}` };
  if (url.username || url.password) return { problem: 'must not contain credentials; give access_key_id instead' };
  if (url.port) return { problem: `must not name a port; ${expected}` };
  if (url.search || url.hash) return { problem: `must not have a query or fragment; ${expected}` };
  const host = url.hostname.toLowerCase();
  if (!host.endsWith('.amazonaws.com')) return { problem: `is not an amazonaws.com URL; ${expected}` };
  if (/(^|\.)s3-website[.-]/.test(host)) {
    return { problem: `is a static website endpoint, not the S3 API; ${expected}` };
  }
  if (/(^|\.)s3[.-](dualstack|fips|accesspoint|control|outposts|express)/.test(host) || /s3-fips/.test(host)) {
    return {
      problem: `uses an endpoint variant featurelake does not support (dual-stack, FIPS, access points); ${expected}`,
    };
  }

  let segments: string[];
  try {
    segments = url.pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map(decodeURIComponent);
  } catch {
    return { problem: 'has a path that is not valid percent-encoding' };
  }

  let bucket: string;
  let region: string;
  let keySegments: string[];
  const virtualHosted = /^(.+)\.s3[.-]([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  const virtualHostedGlobal = /^(.+)\.s3\.amazonaws\.com$/.exec(host);
  const pathStyle = /^s3[.-]([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  if (virtualHosted?.[1] && virtualHosted[2]) {
    [bucket, region, keySegments] = [virtualHosted[1], virtualHosted[2], segments];
  } else if (virtualHostedGlobal?.[1]) {
    [bucket, region, keySegments] = [virtualHostedGlobal[1], 'us-east-1', segments];
  } else if (host === 's3.amazonaws.com' || pathStyle?.[1]) {
    if (!segments[0])
      return { problem: 'is a path-style URL without a bucket: https://s3.<region>.amazonaws.com/<bucket>' };
    [bucket, region, keySegments] = [segments[0], pathStyle?.[1] ?? 'us-east-1', segments.slice(1)];
  } else {
    return { problem: `does not name a bucket; ${expected}` };
  }
  if (!AWS_REGION.test(region)) return { problem: `names "${region}", which is not an AWS region; ${expected}` };
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) return { problem: bucketProblem };
  const normalised = normalisePrefix(keySegments.join('/'));
  if ('problem' in normalised) return { problem: `key ${normalised.problem}` };
  const encodedKey = normalised.prefix.split('/').filter(Boolean).map(encodeURIComponent).join('/');
  return {
    bucket,
    region,
    prefix: normalised.prefix,
    normalised: `https://${bucket}.s3.${region}.amazonaws.com${encodedKey ? `/${encodedKey}` : ''}`,
  };
}

/** A custom endpoint: an http(s) base URL, nothing after the host but an optional path. */
export function parseEndpoint(input: string): { endpoint: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return { problem: 'is not a URL; e.g. https://<account id>.r2.cloudflarestorage.com' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: 'must be an http:// or https:// URL' };
  if (url.username || url.password) return { problem: 'must not contain credentials; give access_key_id instead' };
  if (url.search || url.hash) return { problem: 'must not have a query or fragment' };
  return { endpoint: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

// ---------------------------------------------------------------------------
// Bounds on a customer's endpoint
// ---------------------------------------------------------------------------

/** How long a request to a customer's endpoint may take: to connect, and from its start to the answer's last byte. */
export interface EndpointTimeouts {
  readonly connectMs: number;
  readonly answerMs: number;
}

/**
 * What featurelake reads from a customer's endpoint at most (docs/automatic-exports.md
 * states these; a test holds the two together). An endpoint is the customer's to
 * choose, so whatever it answers must not cost this server unbounded memory or time.
 */
export const CUSTOMER_ENDPOINT_LIMITS = {
  /** The save-time listing: one request, and the user is waiting for "Save". */
  verify: { connectMs: 5_000, answerMs: 10_000 },
  /** Each request of a delivery (its body is one multipart part of at most 16 MiB). */
  upload: { connectMs: 10_000, answerMs: 300_000 },
  /** Any one answer: an S3 listing page or upload answer takes a few kilobytes. */
  maxAnswerBytes: 1024 * 1024,
} as const satisfies { verify: EndpointTimeouts; upload: EndpointTimeouts; maxAnswerBytes: number };

/** Why an endpoint's address is not a delivery target. */
export type AddressRefusal =
  /** One of this server's own listeners (its storage, its state table, its API). */
  | { readonly why: 'own'; readonly address: string; readonly port: number; readonly name: string }
  /** Not a public address (loopback, private network, link-local, …), where those are refused. */
  | { readonly why: 'private'; readonly address: string; readonly port: number; readonly range: string };

/** What featurelake itself stopped an exchange with an endpoint for. */
export type EndpointGuardFacts =
  | { readonly reason: 'too_large'; readonly limitBytes: number }
  | { readonly reason: 'timeout'; readonly phase: 'connect' | 'answer'; readonly ms: number }
  | ({ readonly reason: 'forbidden_address' } & AddressRefusal);

/** `1 MiB`, `64 KiB`, `300 B`. */
export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** `10 s`, `5 minutes`, `300 ms`. */
export function describeDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return ms === 60_000 ? '1 minute' : `${ms / 60_000} minutes`;
  if (ms >= 1_000 && ms % 1_000 === 0) return `${ms / 1_000} s`;
  return `${ms} ms`;
}

/** ipaddr.js's range names, in words. */
const RANGE_WORDS: Readonly<Record<string, string>> = {
  loopback: 'loopback',
  private: 'private network',
  linkLocal: 'link-local',
  uniqueLocal: 'unique local',
  unspecified: 'unspecified',
  carrierGradeNat: 'carrier-grade NAT',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

// ---------------------------------------------------------------------------
// What a failure means
// ---------------------------------------------------------------------------

/** What the adapter could read off a failed request (an S3 error, a network error). */
export interface BucketFailureFacts {
  /** S3 error code (`NoSuchBucket`, `SignatureDoesNotMatch`, …) or the SDK error name. */
  readonly code?: string;
  readonly httpStatus?: number;
  readonly message?: string;
  /** Node's network error code (`ECONNREFUSED`, `ENOTFOUND`, …), or `TimeoutError`. */
  readonly networkCode?: string;
  /** The region S3 says the bucket is in (a redirect's `x-amz-bucket-region`). */
  readonly bucketRegion?: string;
  /** The endpoint answered, but nothing like an S3 API answer. */
  readonly notS3?: boolean;
  /** featurelake stopped the exchange itself: an answer too large or too slow, or an address not allowed. */
  readonly guard?: EndpointGuardFacts;
}

export type BucketProblemKind =
  | 'unknown_access_key'
  | 'wrong_secret'
  | 'no_such_bucket'
  | 'access_denied'
  | 'wrong_region'
  | 'unreachable'
  | 'tls'
  | 'not_s3'
  | 'throttled'
  | 'server_error'
  | 'too_large'
  | 'timeout'
  | 'forbidden_address'
  | 'rejected';

/** Where retrying can help: the service was busy, briefly failing, or out of reach. */
const RETRYABLE: ReadonlySet<BucketProblemKind> = new Set(['unreachable', 'throttled', 'server_error', 'timeout']);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'TimeoutError',
  'RequestTimeout',
]);
const TLS_CODES =
  /^(?:CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT)/;
const THROTTLING = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'RequestLimitExceeded',
]);
const SERVER_ERRORS = new Set(['InternalError', 'ServiceUnavailable', 'RequestTimeout', 'InternalServerError']);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'AccountProblem',
  'Forbidden',
  'InvalidObjectState',
]);

export function classifyBucketFailure(facts: BucketFailureFacts): BucketProblemKind {
  const code = facts.code ?? '';
  if (facts.guard) return facts.guard.reason;
  if (facts.networkCode && TLS_CODES.test(facts.networkCode)) return 'tls';
  if (facts.networkCode && NETWORK_CODES.has(facts.networkCode)) return 'unreachable';
  if (code === 'InvalidAccessKeyId' || code === 'InvalidAccessKey') return 'unknown_access_key';
  if (code === 'SignatureDoesNotMatch') return 'wrong_secret';
  if (code === 'NoSuchBucket' || code === 'InvalidBucketName') return 'no_such_bucket';
  if (ACCESS_DENIED.has(code)) return 'access_denied';
  if (
    code === 'PermanentRedirect' ||
    code === 'AuthorizationHeaderMalformed' ||
    code === 'IllegalLocationConstraintException'
  ) {
    return 'wrong_region';
  }
  if (facts.httpStatus === 301 || (facts.httpStatus === 400 && facts.bucketRegion)) return 'wrong_region';
  if (THROTTLING.has(code) || facts.httpStatus === 429) return 'throttled';
  // A 5xx is the service (or a load balancer in front of it) failing, whatever its body says.
  if (SERVER_ERRORS.has(code) || (facts.httpStatus !== undefined && facts.httpStatus >= 500)) return 'server_error';
  if (facts.notS3) return 'not_s3';
  if (facts.httpStatus === 401) return 'unknown_access_key';
  if (facts.httpStatus === 403) return 'access_denied';
  return 'rejected';
}

/** What the user named in the settings that each problem is about. */
export function bucketProblemField(kind: BucketProblemKind, provider: Provider): string {
  const location = provider === 'aws' ? 'bucket_url' : 'bucket';
  const service = provider === 'custom' ? 'endpoint' : location;
  switch (kind) {
    case 'unknown_access_key':
    case 'access_denied':
      return 'access_key_id';
    case 'wrong_secret':
      return 'secret_access_key';
    case 'no_such_bucket':
      return location;
    case 'wrong_region':
      return provider === 'aws' ? 'bucket_url' : 'region';
    default:
      return service;
  }
}

/** A sentence saying what is wrong, naming the bucket, key and service as the user gave them. */
export function bucketProblemMessage(
  kind: BucketProblemKind,
  facts: BucketFailureFacts,
  context: { readonly target: BucketTarget; readonly accessKeyId: string },
): string {
  const { target, accessKeyId } = context;
  const where = target.label;
  const detail = [facts.code, facts.message].filter(Boolean).join(': ');
  switch (kind) {
    case 'unknown_access_key':
      return `${where} does not know the access key id "${accessKeyId}".`;
    case 'wrong_secret':
      return `The secret access key is not the one of access key id "${accessKeyId}": ${where} rejected the request signature.`;
    case 'no_such_bucket':
      return `There is no bucket "${target.bucket}" at ${where}.`;
    case 'access_denied':
      return `Access denied: the access key "${accessKeyId}" may not list or write ${describeBucketLocation(target)} at ${where}. It needs s3:ListBucket on the bucket and s3:PutObject on the prefix.`;
    case 'wrong_region': {
      const actual = facts.bucketRegion;
      if (target.endpoint === undefined && actual) {
        return `Bucket "${target.bucket}" is in ${actual}, not ${target.region}: use https://${target.bucket}.s3.${actual}.amazonaws.com${target.prefix ? `/${target.prefix.replace(/\/$/, '')}` : ''}.`;
      }
      return `Bucket "${target.bucket}" is not in region ${target.region}${actual ? `; it is in ${actual}` : ''}.`;
    }
    case 'unreachable':
      return `Could not reach ${target.endpoint ?? where} (${facts.networkCode ?? 'no answer'}). Check the endpoint, and that it accepts connections from here.`;
    case 'tls':
      return `Could not make a trusted TLS connection to ${target.endpoint ?? where} (${facts.networkCode}).`;
    case 'not_s3':
      return `${target.endpoint ?? where} answered${facts.httpStatus ? ` with HTTP ${facts.httpStatus}` : ''}, but not as an S3-compatible API does. Check the endpoint URL.`;
    case 'throttled':
      return `${where} is throttling requests (${detail || `HTTP ${facts.httpStatus}`}); try again in a moment.`;
    case 'server_error':
      return `${where} failed with HTTP ${facts.httpStatus ?? '5xx'}${detail ? ` (${detail})` : ''}; try again later.`;
    case 'too_large':
      return `The answer of ${target.endpoint ?? where} was too large: more than ${describeBytes(facts.guard?.reason === 'too_large' ? facts.guard.limitBytes : CUSTOMER_ENDPOINT_LIMITS.maxAnswerBytes)}, where an S3 bucket listing takes a few kilobytes. Check the endpoint URL.`;
    case 'timeout': {
      const guard = facts.guard?.reason === 'timeout' ? facts.guard : undefined;
      const within = guard ? ` within ${describeDuration(guard.ms)}` : '';
      return guard?.phase === 'connect'
        ? `Could not connect to ${target.endpoint ?? where}${within}. Check the endpoint, and that it accepts connections from here.`
        : `${target.endpoint ?? where} did not answer${within}. Check the endpoint, and that it is an S3-compatible API reachable from here.`;
    }
    case 'forbidden_address': {
      const guard = facts.guard?.reason === 'forbidden_address' ? facts.guard : undefined;
      const endpoint = target.endpoint ?? where;
      if (guard?.why === 'private') {
        return `${endpoint} resolves to a private address (${guard.address}, ${RANGE_WORDS[guard.range] ?? guard.range}); automatic exports go only to public addresses.`;
      }
      const own = guard ? `${guard.address.includes(':') ? `[${guard.address}]` : guard.address}:${guard.port}` : '';
      return `${endpoint} is this server's own ${guard?.name ?? 'storage'}${own ? ` (${own})` : ''}, which is never a delivery target.`;
    }
    case 'rejected':
      return `${where} refused the request${facts.httpStatus ? ` with HTTP ${facts.httpStatus}` : ''}${detail ? `: ${detail}` : ''}.`;
  }
}

/** The error names the delivery step throws; the state machine retries only the first. */
export const DELIVERY_ERRORS = {
  /** Throttling, 5xx, the network: trying again later can help. */
  retryable: 'CustomerBucketUnavailable',
  /** Credentials, bucket, permissions, endpoint: only the user can fix these. */
  refused: 'CustomerBucketRefused',
} as const;

/**
 * A request to the customer's bucket failed. `message` is the readable sentence;
 * `name` is one of DELIVERY_ERRORS, which is how Step Functions' Retry tells them apart.
 */
export class CustomerBucketError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly kind: BucketProblemKind,
    message: string,
    readonly facts: BucketFailureFacts,
  ) {
    super(message);
    this.retryable = RETRYABLE.has(kind);
    this.name = this.retryable ? DELIVERY_ERRORS.retryable : DELIVERY_ERRORS.refused;
  }
}

/** Builds the error for a failure, with its kind and sentence. */
export function customerBucketError(
  facts: BucketFailureFacts,
  context: { readonly target: BucketTarget; readonly accessKeyId: string },
): CustomerBucketError {
  const kind = classifyBucketFailure(facts);
  return new CustomerBucketError(kind, bucketProblemMessage(kind, facts, context), facts);
}
