/**
 * What the export workflows' code and their buckets, schedule and key agree on:
 * where files and query results live, how long they are kept, when automatic
 * exports run, and the purpose their sealed secrets are bound to.
 */

/** How long a finished company export job (and its file) stays readable. */
export const COMPANY_EXPORT_RETENTION_DAYS = 7;

/** Athena writes the company export's query results under this prefix of the results bucket. */
export const COMPANY_EXPORT_RESULTS_PREFIX = 'company-exports/';

/** Where every events export file lives in the exports bucket; grants and the expiry rule are scoped to it. */
export const EVENTS_EXPORTS_PREFIX = 'events-exports/';

/** Athena writes the events export's partition queries' results under this prefix of the results bucket. */
export const EVENTS_EXPORT_RESULTS_PREFIX = 'events-exports/';
/** Where each week's UNLOAD writes (`<prefix><job id>/<week>/`) in the results bucket, inside the workgroup's prefix. */
export const EVENTS_EXPORT_UNLOAD_PREFIX = `${EVENTS_EXPORT_RESULTS_PREFIX}unload/`;

/** Seed 002: events export files (and their URLs) expire 2 days after the job completes. */
export const FILES_VISIBLE_DAYS = 2;

/**
 * The events export state machine's TimeoutSeconds. A run that hits it gets no
 * Catch, so the lock and the job's deadline expire a little later on their own.
 */
export const RUN_TIME_LIMIT_SECONDS = 6 * 60 * 60;

/**
 * When the AWS schedule fires: every day at 00:15 UTC. Not at 00:00: Firehose holds
 * records for up to its buffering interval (at most 900 s) before they reach the lake,
 * so a snapshot "as of 00:00" taken at 00:00 would miss the last calls of the day.
 * The local stack flushes its event log before every query and fires at 00:00.
 */
export const AUTOMATIC_EXPORT_SCHEDULE = { hourUtc: 0, minuteUtc: 15 } as const;

/**
 * The `purpose` every automatic-export secret's context carries. The KMS key
 * policy refuses any use of the key without it (lib/export-secrets-key.ts).
 */
export const AUTOMATIC_EXPORT_SECRET_PURPOSE = 'featurelake-automatic-export-secret';
