import { z } from 'zod';
import { LAST_STATUSES } from '../automatic-export/automatic-export.ts';
import { PROVIDERS } from '../automatic-export/customer-bucket.ts';
import { AGGREGATIONS } from '../company-export/job.ts';
import { PLANS } from '../environments/environments.ts';
import { FILTER_OPERATORS } from '../shared/filters.ts';

/**
 * The JSON each route answers with, as zod schemas the OpenAPI document renders
 * (`z.toJSONSchema`, output side). The handlers build their answers with the view
 * functions next to their core (companyExportView, detailView, automaticExportView,
 * …); these schemas describe those views, and every end-to-end exchange is checked
 * against them (test/support/openapi-exchanges.ts), so a view that changes without
 * its schema fails the suite. Objects are closed (`additionalProperties: false`): a
 * field added to a view must be added here too.
 */

const instant = z.string().describe('ISO 8601 instant, UTC');
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

/** Seed 002's error shape, shared by every JSON API (lambdas/core/shared/errors.ts). */
export const errorBody = z
  .object({
    errors: z
      .array(
        z.object({
          error: z.string().describe('The status reason, e.g. "Bad Request"'),
          error_code: z.string().describe('The HTTP status as a string, e.g. "400"'),
          message: z.string(),
          details: z.string().nullable(),
          field: z.string().optional().describe('The request field the error is about, as the client wrote it'),
        }),
      )
      .min(1),
  })
  .describe("Seed 002's error shape: one entry per problem, each naming its field when there is one");

/** seed 001's answer to a tracking call; a bulk call adds how many calls it held. */
export const trackAnswer = z.object({
  success: z.literal(true),
  accepted: z.int().min(1).optional().describe('bulk only: how many calls the request held'),
});

/** The SDKs' reads, answered empty (lambdas/core/tracking/track.ts SDK_READ_ANSWERS). */
export const successAnswer = z.object({ success: z.literal(true) });
const flagStateVersion = z.int().min(0);
export const flagDefinitions = z.object({
  success: z.literal(true),
  features: z.array(z.unknown()),
  flagStateVersion,
});
export const evaluatedFlags = z.object({
  success: z.literal(true),
  features: z.record(z.string(), z.unknown()),
  flagStateVersion,
});
export const trackingSdkFlags = z.object({ success: z.literal(true), flags: z.record(z.string(), z.unknown()) });
export const flagOptIn = z.object({ success: z.literal(true), flagStateVersion });

export const healthAnswer = z.object({ status: z.literal('ok') });

export const createdEnvironment = z.object({
  environment_id: z.string(),
  name: z.string(),
  plan: z.enum(PLANS),
  app_token: z.string(),
  tracking_key: z.string(),
  api_key: z.string().describe('Shown this once: only its hash is stored'),
});

/** An environment as its API key (or the admin) sees it: never a key's hash. */
export const environmentView = z.object({
  environment_id: z.string(),
  name: z.string(),
  plan: z.enum(PLANS),
  app_token: z.string(),
  tracking_key: z.string(),
});

export const listedEnvironments = z.object({
  environments: z.array(environmentView.extend({ created_at: instant })),
});

export const newApiKey = z.object({
  api_key: z.string().describe('Shown this once: only its hash is stored. The previous key no longer works.'),
});

export const sqlAnswer = z.object({
  rows: z.array(z.record(z.string(), z.unknown())),
  row_count: z.int().min(0),
  truncated: z.boolean(),
  truncated_reason: z.string().nullable(),
});

export const dispatchReport = z.object({
  at: instant,
  snapshot_at: instant,
  snapshot_date: z.string(),
  started: z.array(z.object({ environment_id: z.string(), job_id: z.string(), execution_name: z.string() })),
  skipped: z.array(z.object({ environment_id: z.string(), reason: z.string() })),
  failed: z.array(z.object({ environment_id: z.string(), error: z.string() })),
  facts: z
    .object({ execution_name: z.string(), started: z.boolean(), error: z.string().nullable() })
    .describe("The fire's daily facts build, started before the exports (which wait for it, bounded)"),
});

export const factsBuildStarted = z.object({
  workflow: z.literal('daily-facts'),
  execution_name: z.string(),
  environment_id: z.string().nullable().describe('The one environment built; null: every environment'),
  days: z
    .object({ from: z.string(), to: z.string() })
    .nullable()
    .describe('The days rebuilt; null: every closed day that is stale'),
  requested_at: instant,
  links: z.string().describe("The build's status path"),
});

export const factsBuildStatus = z.object({
  execution_name: z.string(),
  status: z
    .enum(['running', 'ended', 'timed-out', 'unknown'])
    .describe(
      'ended: succeeded or failed (a failed build leaves those days as they were; the next build does them); unknown: no such build, or one a restarted local stack ran',
    ),
});

const thresholds = z.object({ min_active_days: z.int(), window_days: z.int() });
const stamps = { created_at: instant, updated_at: instant };
const filter = z.object({
  attribute: z.string(),
  operator: z.enum(FILTER_OPERATORS),
  value: z.unknown().describe('Any JSON value; null for is_set and is_not_set'),
});

export const feature = z.discriminatedUnion('type', [
  z.object({
    id: z.string(),
    name: z.string(),
    type: z.literal('event'),
    event_names: z.array(z.string()),
    flag_checks: z.boolean().describe('Whether an enabled flag check of the feature id is a use'),
    adoption: thresholds,
    retention: thresholds,
    ...stamps,
  }),
  z.object({
    id: z.string(),
    name: z.string(),
    type: z.literal('attribute'),
    attribute: z.string(),
    operator: z.enum(FILTER_OPERATORS),
    value: z.unknown(),
    adoption: thresholds,
    retention: thresholds,
    ...stamps,
  }),
]);

export const segment = z.object({ id: z.string(), name: z.string(), filters: z.array(filter), ...stamps });

export const exclusions = z.object({ user_ids: z.array(z.string()), company_ids: z.array(z.string()) });

const jobStatus = z.enum(['running', 'completed', 'failed']);

export const companyExportStarted = z.object({
  job_id: z.string(),
  status: jobStatus,
  links: z.string().describe('The job path'),
});

export const companyExportJob = z.object({
  job_id: z.string(),
  status: jobStatus,
  aggregation: z.enum(AGGREGATIONS),
  as_of: instant,
  created_at: instant,
  completed_at: nullable(instant),
  rows: z.int().nullable(),
  download_url: z.string().nullable().describe('A link that works for an hour, once completed'),
  error: z.string().nullable(),
});

export const automaticExportSettings = z.object({
  enabled: z.boolean(),
  cadence: z.enum(['daily', 'weekly']).nullable(),
  provider: z.enum(PROVIDERS).nullable(),
  bucket_url: z.string().nullable(),
  bucket: z.string().nullable(),
  region: z.string().nullable(),
  key: z.string().nullable(),
  endpoint: z.string().nullable(),
  access_key_id: z.string().nullable(),
  secret_access_key_set: z.boolean(),
  destination: z.string().nullable(),
  file_name: z.string(),
  created_at: nullable(instant),
  updated_at: nullable(instant),
  status: z.object({
    last_run_at: nullable(instant),
    last_status: z.enum(LAST_STATUSES),
    next_run_at: nullable(instant),
    error: z.string().nullable(),
    snapshot_at: nullable(instant),
    finished_at: nullable(instant),
    job_id: z.string().nullable(),
  }),
});

/** Seed 002 prints instants with microseconds, some without a zone. */
const seedInstant = z.string().describe('e.g. 2024-05-02T11:20:14.730000 (with a Z where the seed has one)');

export const eventsExportStarted = z.object({
  environment_app_token: z.string(),
  environment_name: z.string(),
  job_id: z.string(),
  links: z.string(),
  start_time: seedInstant,
});

export const eventsExportListed = z.array(
  z.object({
    elapsed_time: z.string(),
    elapsed_time_seconds: z.int().min(0),
    end_time: seedInstant.nullable(),
    job_id: z.string(),
    progress: z.string(),
    start_time: seedInstant,
    status: jobStatus,
  }),
);

export const eventsExportDetail = z.object({
  app_token: z.string(),
  completed_chunks: z.array(z.string()),
  current_chunk: z.string().nullable(),
  end_time: seedInstant.nullable(),
  job_id: z.string(),
  presigned_urls: z.array(z.object({ filename: z.string(), url: z.string() })),
  progress: z.string(),
  start_time: seedInstant,
  status: jobStatus,
  all_chunks: z.array(z.string()),
  type: z.literal('export'),
  error: z.string().nullable(),
});

/** `GET /openapi.json` answers the document itself. */
export const openApiAnswer = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) });

/** `GET /api/v1/tracking/events` (lambdas/core/insights/lake-insights.ts). */
export const recentEventsAnswer = z.object({
  events: z.array(
    z.object({
      event_id: z.string(),
      event_type: z.string(),
      event_name: nullable(z.string()),
      user_id: nullable(z.string()),
      company_id: nullable(z.string()),
      feature_id: nullable(z.string()),
      attributes: nullable(z.string()).describe('The attributes JSON, cut to its first 500 characters'),
      attributes_truncated: z.boolean().describe('Whether `attributes` was cut'),
      context_active: z.boolean(),
      timestamp: instant,
      received_at: instant,
      source: z.string(),
    }),
  ),
  limit: z.int(),
  received_since: instant.describe(
    'The earliest received_at read: the last hour, or from the start of yesterday (UTC) when the hour holds fewer events than asked for',
  ),
});

/** `GET /api/v1/tracking/unassociated`. */
export const unassociatedAnswer = z.object({
  since: instant,
  until: instant,
  window_days: z.int(),
  unassociated_tracks: z.int().describe('Tracks of the window that count for no company'),
  unassociated_users: z.int().describe('Users who sent them'),
  users: z.array(z.object({ user_id: z.string(), tracks: z.int(), last_seen: instant })),
  limit: z.int(),
});

/** `GET /api/v1/stars-funnel`. */
export const starsFunnelAnswer = z.object({
  as_of: instant,
  features: z.array(
    z.object({
      feature_id: z.string(),
      feature_name: z.string(),
      never: z.int(),
      tried: z.int(),
      retained: z.int(),
      churned: z.int(),
    }),
  ),
});
