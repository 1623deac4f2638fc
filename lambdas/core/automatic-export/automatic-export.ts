import { z } from 'zod';
import { DAY_MS } from '../../contract/lake.ts';
import type { WorkflowFailure } from '../company-export/job.ts';
import { DomainError, type ErrorBody } from '../shared/errors.ts';
import {
  type BucketDestination,
  bucketNameProblem,
  bucketProblemField,
  type CustomerBucketError,
  DEFAULT_CUSTOM_REGION,
  DELIVERY_ERRORS,
  describeBucketLocation,
  normalisePrefix,
  PROVIDERS,
  type Provider,
  parseAwsBucketUrl,
  parseEndpoint,
} from './customer-bucket.ts';
import type { SealedSecret } from './secret-envelope.ts';

/**
 * Automatic company exports (seed 000, "Automatic export"; DESIGN "Automatic
 * exports"): the settings an environment saves, when a run is due, where its file
 * goes, and what `GET /api/v1/company-exports/automatic` shows.
 */

export const CADENCES = ['daily', 'weekly'] as const;
export type Cadence = (typeof CADENCES)[number];

export const LAST_STATUSES = ['never ran before', 'running', 'successful', 'failed'] as const;
export type LastStatus = (typeof LAST_STATUSES)[number];

/** 00:00 UTC of the date holding `at`: the instant the run's snapshot is "as of". */
export function snapshotInstant(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

export const isoDate = (instant: Date): string => instant.toISOString().slice(0, 10);

/** Daily exports run every day; weekly ones on Mondays (seed 000). */
export function isDue(cadence: Cadence, snapshot: Date): boolean {
  return cadence === 'daily' || snapshot.getUTCDay() === 1;
}

/**
 * The next time the schedule will start an export for this cadence, strictly after
 * `now`: the next due midnight plus the schedule's delay (`offsetMinutes`, 15 on AWS,
 * 0 locally).
 */
export function nextRunAt(cadence: Cadence, now: Date, offsetMinutes: number): Date {
  let snapshot = snapshotInstant(now);
  for (let day = 0; day < 8; day += 1) {
    const fire = new Date(snapshot.getTime() + offsetMinutes * 60_000);
    if (fire.getTime() > now.getTime() && isDue(cadence, snapshot)) return fire;
    snapshot = new Date(snapshot.getTime() + DAY_MS);
  }
  throw new Error('unreachable: some day of any week is due');
}

/** The CSV's name in the customer's bucket: fixed per snapshot date, so a re-run overwrites it. */
export function automaticExportFileName(snapshotDate: string): string {
  return `company-export-${snapshotDate}.csv`;
}

export function automaticExportObjectKey(prefix: string, snapshotDate: string): string {
  return `${prefix}${automaticExportFileName(snapshotDate)}`;
}

/**
 * The Step Functions execution name of an environment's run for a date. Names are
 * unique per state machine for 90 days, so a second fire for the same date starts
 * nothing. Environment ids are UUIDs: 5 + 36 + 1 + 10 characters, under the 80 allowed.
 */
export function automaticExportExecutionName(environmentId: string, snapshotDate: string): string {
  return `auto-${environmentId}-${snapshotDate}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

/** What the workflow carries for a run that delivers (no credentials: the step reads them itself). */
export interface AutomaticDelivery {
  environment_id: string;
  snapshot_date: string;
  /**
   * The fire's daily facts build, which the run waits for (a bounded wait, for cost
   * only) before it reads the lake. Absent when the build could not be started.
   */
  facts_build?: { execution_name: string; started_at: string };
}

// ---------------------------------------------------------------------------
// Stored settings and status
// ---------------------------------------------------------------------------

export interface AutomaticExportSettings {
  environment_id: string;
  enabled: boolean;
  cadence: Cadence;
  destination: BucketDestination;
  access_key_id: string;
  /** The secret access key, sealed by the SecretBox; never returned or logged. */
  secret: SealedSecret;
  created_at: string;
  updated_at: string;
}

/** The last run, as the dispatcher and the workflow write it back. */
export interface AutomaticExportStatus {
  last_status: LastStatus;
  /** When the last run started. */
  last_run_at: string | null;
  /** The instant its snapshot is as of (00:00 UTC of its date). */
  last_snapshot_at: string | null;
  last_finished_at: string | null;
  last_error: string | null;
  last_job_id: string | null;
  /** The snapshot date last dispatched: the guard against a second run for one date. */
  last_dispatched_date: string | null;
}

export const NEVER_RAN: AutomaticExportStatus = {
  last_status: 'never ran before',
  last_run_at: null,
  last_snapshot_at: null,
  last_finished_at: null,
  last_error: null,
  last_job_id: null,
  last_dispatched_date: null,
};

export type StoredAutomaticExport = AutomaticExportSettings & AutomaticExportStatus;

// ---------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------

const text = (max: number) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

const body = z.object({
  enabled: z.boolean({
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be true or false'),
  }),
  cadence: z.enum(CADENCES, { error: `must be one of ${CADENCES.join(', ')}` }).optional(),
  provider: z.enum(PROVIDERS, { error: `must be one of ${PROVIDERS.join(', ')}` }).optional(),
  bucket_url: text(2048).optional(),
  bucket: text(63).optional(),
  region: text(64).optional(),
  key: z.string({ error: 'must be a string' }).max(2048, 'must be at most 2048 characters').optional(),
  endpoint: text(2048).optional(),
  // Sent in the Authorization header of every request to the bucket: printable ASCII only.
  access_key_id: text(256)
    .regex(/^\S+$/, 'must not contain spaces')
    .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII characters (letters, digits and symbols)')
    .optional(),
  // Not trimmed: a secret is taken exactly as given.
  secret_access_key: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(1024, 'must be at most 1024 characters')
    .optional(),
});

/** A PUT that only switches automatic exports on or off, keeping the stored settings. */
export interface ToggleRequest {
  readonly kind: 'toggle';
  readonly enabled: boolean;
}

/** A PUT that replaces the settings. `secret_access_key` may be left out to keep the stored one. */
export interface ReplaceRequest {
  readonly kind: 'replace';
  readonly enabled: boolean;
  readonly cadence: Cadence;
  readonly destination: BucketDestination;
  readonly access_key_id: string;
  readonly secret_access_key: string | undefined;
}

const PROVIDER_FIELDS: Record<Provider, readonly string[]> = {
  aws: ['bucket_url'],
  gcp: ['bucket', 'region', 'key'],
  custom: ['bucket', 'region', 'key', 'endpoint'],
};
const LOCATION_FIELDS = ['bucket_url', 'bucket', 'region', 'key', 'endpoint'] as const;

/**
 * `PUT /api/v1/company-exports/automatic`. `{"enabled": false}` (or `true`) alone
 * toggles; anything more replaces the settings and must be whole. Every problem
 * names its field as the client wrote it.
 */
export const automaticExportRequest = body.transform((input, ctx): ToggleRequest | ReplaceRequest => {
  const given = Object.entries(input).filter(([name, value]) => name !== 'enabled' && value !== undefined);
  if (given.length === 0) return { kind: 'toggle', enabled: input.enabled };
  const problem = (field: string, message: string) => {
    ctx.addIssue({ code: 'custom', path: [field], message });
  };
  if (input.cadence === undefined) problem('cadence', 'is required');
  if (input.provider === undefined) problem('provider', 'is required');
  if (input.access_key_id === undefined) problem('access_key_id', 'is required');
  const provider = input.provider;
  let destination: BucketDestination | undefined;
  if (provider !== undefined) {
    for (const field of LOCATION_FIELDS) {
      if (input[field] !== undefined && !PROVIDER_FIELDS[provider].includes(field)) {
        problem(
          field,
          provider === 'aws'
            ? 'is not used with provider aws: give the bucket, region and key in bucket_url'
            : `is not used with provider ${provider}${field === 'endpoint' ? ' (only custom takes an endpoint)' : ': give bucket, region and key'}`,
        );
      }
    }
    destination = parseDestination(provider, input, problem);
  }
  if (ctx.issues.length > 0 || !destination || !input.cadence || !input.access_key_id) return z.NEVER;
  return {
    kind: 'replace',
    enabled: input.enabled,
    cadence: input.cadence,
    destination,
    access_key_id: input.access_key_id,
    secret_access_key: input.secret_access_key,
  };
});

function parseDestination(
  provider: Provider,
  input: z.infer<typeof body>,
  problem: (field: string, message: string) => void,
): BucketDestination | undefined {
  if (provider === 'aws') {
    if (input.bucket_url === undefined) {
      problem('bucket_url', 'is required: https://<bucket>.s3.<region>.amazonaws.com[/key]');
      return undefined;
    }
    const parsed = parseAwsBucketUrl(input.bucket_url);
    if ('problem' in parsed) {
      problem('bucket_url', parsed.problem);
      return undefined;
    }
    return {
      provider,
      bucket: parsed.bucket,
      region: parsed.region,
      prefix: parsed.prefix,
      endpoint: null,
      bucket_url: parsed.normalised,
    };
  }
  let ok = true;
  if (input.bucket === undefined) {
    problem('bucket', 'is required');
    ok = false;
  } else {
    const bucketProblem = bucketNameProblem(input.bucket);
    if (bucketProblem) {
      problem('bucket', bucketProblem);
      ok = false;
    }
  }
  const region = input.region ?? DEFAULT_CUSTOM_REGION;
  if (!/^[A-Za-z0-9-]+$/.test(region)) {
    problem('region', 'may hold only letters, digits and hyphens (e.g. auto, us-east-1)');
    ok = false;
  }
  const prefix = normalisePrefix(input.key);
  if ('problem' in prefix) {
    problem('key', prefix.problem);
    ok = false;
  }
  let endpoint: string | null = null;
  if (provider === 'custom') {
    if (input.endpoint === undefined) {
      problem('endpoint', 'is required for provider custom, e.g. https://<account id>.r2.cloudflarestorage.com');
      ok = false;
    } else {
      const parsed = parseEndpoint(input.endpoint);
      if ('problem' in parsed) {
        problem('endpoint', parsed.problem);
        ok = false;
      } else {
        endpoint = parsed.endpoint;
      }
    }
  }
  if (!ok || input.bucket === undefined || 'problem' in prefix) return undefined;
  return { provider, bucket: input.bucket, region, prefix: prefix.prefix, endpoint, bucket_url: null };
}

// ---------------------------------------------------------------------------
// The view
// ---------------------------------------------------------------------------

/** What GET and PUT answer. The secret appears only as whether one is set. */
export function automaticExportView(
  stored: StoredAutomaticExport | undefined,
  now: Date,
  scheduleOffsetMinutes: number,
) {
  const status = stored ?? NEVER_RAN;
  const destination = stored?.destination;
  return {
    enabled: stored?.enabled ?? false,
    cadence: stored?.cadence ?? null,
    provider: destination?.provider ?? null,
    bucket_url: destination?.bucket_url ?? null,
    bucket: destination?.bucket ?? null,
    region: destination?.region ?? null,
    key: destination ? destination.prefix.replace(/\/$/, '') : null,
    endpoint: destination?.endpoint ?? null,
    access_key_id: stored?.access_key_id ?? null,
    secret_access_key_set: stored !== undefined,
    destination: destination ? describeBucketLocation(destination) : null,
    file_name: `company-export-<YYYY-MM-DD>.csv`,
    created_at: stored?.created_at ?? null,
    updated_at: stored?.updated_at ?? null,
    status: {
      last_run_at: status.last_run_at,
      last_status: status.last_status,
      next_run_at:
        stored?.enabled === true ? nextRunAt(stored.cadence, now, scheduleOffsetMinutes).toISOString() : null,
      error: status.last_status === 'failed' ? status.last_error : null,
      snapshot_at: status.last_snapshot_at,
      finished_at: status.last_finished_at,
      job_id: status.last_job_id,
    },
  };
}

/**
 * The status message of a failed run. A delivery failure is already a sentence
 * about the customer's bucket; anything before it is the export's own failure.
 */
export function automaticRunFailure(
  failure: WorkflowFailure | undefined,
  readableExportFailure: (failure: WorkflowFailure | undefined) => string,
): string {
  const error = failure?.Error ?? '';
  if (error !== DELIVERY_ERRORS.retryable && error !== DELIVERY_ERRORS.refused) return readableExportFailure(failure);
  const cause = failure?.Cause ?? '';
  try {
    // On AWS the Lambda's error arrives as {errorType, errorMessage, trace}; locally as the message itself.
    return (JSON.parse(cause) as { errorMessage?: string }).errorMessage ?? cause;
  } catch {
    return cause;
  }
}

/**
 * Saving settings whose bucket cannot be listed: a 400 in the seed-002 shape whose
 * `message` says what is wrong, `field` names the setting to fix, and `details`
 * carries the provider's own code and words.
 */
export class BucketCheckError extends DomainError {
  readonly status = 400;
  override readonly field: string;
  constructor(
    readonly failure: CustomerBucketError,
    provider: Provider,
  ) {
    super(failure.message);
    this.field = bucketProblemField(failure.kind, provider);
  }
  override toBody(): ErrorBody {
    const { code, message, httpStatus, networkCode } = this.failure.facts;
    const details = [code ?? networkCode, message].filter(Boolean).join(': ');
    return {
      errors: [
        {
          error: 'Bad Request',
          error_code: '400',
          message: this.message,
          details: details || (httpStatus ? `HTTP ${httpStatus}` : null),
          field: this.field,
        },
      ],
    };
  }
}

/** `POST /admin/v1/scheduler/tick`: the instant to fire the schedule for (default: now). */
export const schedulerTickRequest = z.object({
  at: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 instant with a time zone, e.g. 2025-12-01T00:05:00Z' })
    .optional(),
});
