import { z } from 'zod';
import { ENVIRONMENT_HEADER } from '../../contract/console.ts';
import { MAX_BULK_CALLS, TRACKING_METHOD_PATHS } from '../../contract/routes.ts';
import { automaticExportRequest, schedulerTickRequest } from '../automatic-export/automatic-export.ts';
import { CATALOG_ID_PATTERN, exclusionsRequest, featureRequest, segmentRequest } from '../catalog/catalog.ts';
import { companyExportRequest } from '../company-export/job.ts';
import { factsBuildRequest } from '../daily-facts/orchestration.ts';
import { sqlRequest } from '../environments/admin.ts';
import { createEnvironmentRequest } from '../environments/environments.ts';
import { eventsExportRequest } from '../events-export/request.ts';
import {
  RECENT_EVENTS_DEFAULT_LIMIT,
  RECENT_EVENTS_MAX_LIMIT,
  UNASSOCIATED_DEFAULT_USERS,
  UNASSOCIATED_MAX_USERS,
  UNASSOCIATED_WINDOW_DAYS,
} from '../insights/lake-insights.ts';
import type { SDK_READ_ANSWERS } from '../tracking/track.ts';
import { CALL_TYPES, SCHEMAS as TRACKING_CALLS, TRACKING_METHODS, type TrackingMethod } from '../tracking/tracking.ts';
import {
  automaticExportSettings,
  companyExportJob,
  companyExportStarted,
  createdEnvironment,
  dispatchReport,
  environmentView,
  errorBody,
  evaluatedFlags,
  eventsExportDetail,
  eventsExportListed,
  eventsExportStarted,
  exclusions,
  factsBuildStarted,
  factsBuildStatus,
  feature,
  flagDefinitions,
  flagOptIn,
  healthAnswer,
  listedEnvironments,
  newApiKey,
  openApiAnswer,
  recentEventsAnswer,
  segment,
  sqlAnswer,
  starsFunnelAnswer,
  successAnswer,
  trackAnswer,
  trackingSdkFlags,
  unassociatedAnswer,
} from './responses.ts';

/**
 * The OpenAPI 3.1 document of every route (issue 12): built from the very zod
 * schemas that parse the requests (`z.toJSONSchema`, draft 2020-12, which OpenAPI
 * 3.1 uses; input side, so a schema's transforms and defaults show what a client
 * sends) and the response schemas of ./responses.ts. Pure: no I/O. The test suite
 * checks that its operations are exactly ROUTES, lints it with Redocly and validates
 * every end-to-end exchange against it.
 */

type JsonSchema = Record<string, unknown>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Security = 'none' | 'apiToken' | 'apiTokenOrLink' | 'admin' | 'trackingPath' | 'trackingKey';
type Tag =
  | 'Tracking'
  | 'SDK'
  | 'Catalog'
  | 'Company exports'
  | 'Raw-event exports'
  | 'Environment'
  | 'Admin'
  | 'Service';

interface ResponseSpec {
  readonly description: string;
  /** A JSON body's schema; none for 204 and redirects. */
  readonly body?: z.ZodType;
  /** A 302's `Location`. */
  readonly redirect?: true;
}

export interface OperationSpec {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: Tag;
  readonly security: Security;
  readonly body?: { readonly schema: z.ZodType; readonly required?: boolean; readonly description?: string };
  readonly query?: readonly { readonly name: string; readonly schema: z.ZodType; readonly description: string }[];
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** The 4xx and 5xx statuses this operation answers with seed 002's error body. */
  readonly errors: readonly number[];
}

/** Renders a zod schema as the JSON Schema (draft 2020-12) OpenAPI 3.1 embeds. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    // Tracking attributes are a z.custom check (an object kept as JSON.parse made it): any JSON value here.
    unrepresentable: 'any',
    override: (ctx) => {
      // A date-time that may leave out its offset (tracking's `timestamp`, UTC then) is
      // not RFC 3339's date-time: the pattern zod writes says exactly what is taken.
      const def = (ctx.zodSchema as unknown as { _zod: { def: { local?: boolean } } })._zod.def;
      if (def.local === true && ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.format;
    },
  }) as JsonSchema;
  return rest;
}

/** What API Gateway itself answers (throttling), before any Lambda runs. */
const gatewayMessage = z.object({ message: z.string() });

const ERROR_REF = { $ref: '#/components/schemas/ErrorBody' };

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request: every problem named by its field',
  401: 'Missing or unknown credentials (or a plan without this feature)',
  403: 'A download link that was changed or has expired',
  404: 'Not found',
  409: 'An export of this environment is already running',
  500: 'Something failed on our side; the request can be retried',
};

const FILE_LINK_QUERY = [
  {
    name: 'environment_id',
    schema: z.string(),
    description: 'With `expires` and `signature`: a download link made by the job (no `Authorization` then)',
  },
  {
    name: 'expires',
    schema: z.string().regex(/^\d+$/),
    description: "The link's expiry, Unix seconds",
  },
] as const;

/** `bulk`: calls of every type the SDKs send, each with its `type`. */
const bulkBody = z
  .array(z.union(CALL_TYPES.map((type) => z.intersection(TRACKING_CALLS[type], z.object({ type: z.literal(type) })))))
  .min(1)
  .max(MAX_BULK_CALLS);

/** The body of each tracking method: one call, or for `bulk` an array of typed calls. */
const METHOD_BODIES: Record<TrackingMethod, z.ZodType> = {
  user: TRACKING_CALLS.user,
  company: TRACKING_CALLS.company,
  event: TRACKING_CALLS.event,
  events: TRACKING_CALLS.event,
  feedback: TRACKING_CALLS.feedback,
  bulk: bulkBody,
};

const TRACKING_ERRORS = [400, 401, 404, 500];

/** `POST /user`, `/company`, …: the key in `Authorization: Bearer` or `?publishableKey=`. */
const trackingMethodOperations = Object.fromEntries(
  TRACKING_METHOD_PATHS.map((path): [string, OperationSpec] => {
    const method = path.slice(1) as TrackingMethod;
    return [
      `POST ${path}`,
      {
        operationId: `track${method.charAt(0).toUpperCase()}${method.slice(1)}`,
        summary: method === 'bulk' ? 'Track a batch of calls, all or nothing' : `Track: ${method}`,
        description:
          "The environment's tracking key (publishable key), or from a server its API key (secret key), in `Authorization: Bearer` or the `publishableKey` query parameter (Reflag's and Bucket's SDKs). A 200 means every event is durable.",
        tag: 'Tracking',
        security: 'trackingKey',
        body: { schema: METHOD_BODIES[method], required: true },
        responses: { 200: { description: 'Every event of the call is durable', body: trackAnswer } },
        errors: TRACKING_ERRORS,
      },
    ];
  }),
);

/** What an SDK read answers (featurelake evaluates no flags): SDK_READ_ANSWERS, route by route. */
const sdkRead = (
  key: keyof typeof SDK_READ_ANSWERS,
  operationId: string,
  summary: string,
  body: z.ZodType,
  security: Security = 'trackingKey',
): [string, OperationSpec] => [
  key,
  {
    operationId,
    summary,
    tag: 'SDK',
    security,
    // The SDKs post their context or nothing; it is not read.
    ...(key.startsWith('POST') ? { body: { schema: z.unknown(), required: false } } : {}),
    responses: { 200: { description: 'The empty answer in the shape the SDK reads', body } },
    errors: TRACKING_ERRORS,
  },
];

const CATALOG_ERRORS = [400, 401, 404, 500];
const EXPORT_ERRORS = [400, 401, 404, 409, 500];

/** The four catalog routes of one kind (features, segments): list, put, get, delete. */
function catalogOperations(
  noun: 'feature' | 'segment',
  plural: 'features' | 'segments',
  request: z.ZodType,
  item: z.ZodType,
): Record<string, OperationSpec> {
  const Noun = `${noun[0]?.toUpperCase()}${noun.slice(1)}`;
  const common = { tag: 'Catalog', security: 'apiToken' } as const;
  return {
    [`GET /api/v1/${plural}`]: {
      ...common,
      operationId: `list${Noun}s`,
      summary: `List ${plural}`,
      responses: { 200: { description: `Every ${noun}`, body: z.object({ [plural]: z.array(item) }) } },
      errors: [401, 500],
    },
    [`PUT /api/v1/${plural}/{id}`]: {
      ...common,
      operationId: `put${Noun}`,
      summary: `Create or replace a ${noun}`,
      body: { schema: request, required: true },
      responses: {
        200: { description: 'Replaced', body: item },
        201: { description: 'Created', body: item },
      },
      errors: [400, 401, 500],
    },
    [`GET /api/v1/${plural}/{id}`]: {
      ...common,
      operationId: `get${Noun}`,
      summary: `Get a ${noun}`,
      responses: { 200: { description: `The ${noun}`, body: item } },
      errors: CATALOG_ERRORS,
    },
    [`DELETE /api/v1/${plural}/{id}`]: {
      ...common,
      operationId: `delete${Noun}`,
      summary: `Delete a ${noun}`,
      responses: { 204: { description: 'Deleted' } },
      errors: CATALOG_ERRORS,
    },
  };
}

/** Every route of ROUTES (lambdas/contract/routes.ts), by its route key. */
export const OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  'GET /health': {
    operationId: 'getHealth',
    summary: 'Health check',
    tag: 'Service',
    security: 'none',
    responses: { 200: { description: 'The API answers', body: healthAnswer } },
    errors: [500],
  },
  'GET /openapi.json': {
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI document',
    tag: 'Service',
    security: 'none',
    responses: { 200: { description: 'The OpenAPI 3.1 document of every route', body: openApiAnswer } },
    errors: [500],
  },
  'POST /{trackingKey}/{method}': {
    operationId: 'track',
    summary: 'Track a user, company, event or feedback (seed 001)',
    description:
      "The environment's tracking key in the path. `user`, `company`, `event` (or `events`) and `feedback` take one call; `bulk` takes an array of calls, each with its `type`, all or nothing. A 200 means every event of the call is durable.",
    tag: 'Tracking',
    security: 'trackingPath',
    body: {
      schema: z.union(TRACKING_METHODS.filter((method) => method !== 'events').map((method) => METHOD_BODIES[method])),
      required: true,
      description: 'One call, or for `bulk` an array of typed calls',
    },
    responses: { 200: { description: 'Every event of the call is durable', body: trackAnswer } },
    errors: TRACKING_ERRORS,
  },
  ...trackingMethodOperations,
  'POST /features/events': {
    operationId: 'trackFlagEvent',
    summary: 'Track a flag check or evaluation (SDK)',
    description: 'Stored as a `feature_flag` row (docs/sdk.md).',
    tag: 'SDK',
    security: 'trackingKey',
    body: { schema: TRACKING_CALLS['feature-flag-event'], required: true },
    responses: { 200: { description: 'The event is durable', body: trackAnswer } },
    errors: TRACKING_ERRORS,
  },
  'POST /feedback/prompt-events': {
    operationId: 'trackPromptEvent',
    summary: 'Track a feedback prompt event (SDK)',
    description: 'Stored as a `prompt_event` row (docs/sdk.md).',
    tag: 'SDK',
    security: 'trackingKey',
    body: { schema: TRACKING_CALLS['prompt-event'], required: true },
    responses: { 200: { description: 'The event is durable', body: trackAnswer } },
    errors: TRACKING_ERRORS,
  },
  'POST /{trackingKey}/feedback/prompt-events': {
    operationId: 'trackPromptEventByPath',
    summary: 'Track a feedback prompt event, key in the path (SDK)',
    tag: 'SDK',
    security: 'trackingPath',
    body: { schema: TRACKING_CALLS['prompt-event'], required: true },
    responses: { 200: { description: 'The event is durable', body: trackAnswer } },
    errors: TRACKING_ERRORS,
  },
  ...Object.fromEntries([
    sdkRead('GET /features', 'getFlagDefinitions', 'Flag definitions (Node SDK): none', flagDefinitions),
    sdkRead('GET /features/evaluated', 'getEvaluatedFlags', 'Evaluated flags (browser SDK): none', evaluatedFlags),
    sdkRead('GET /features/enabled', 'getEnabledFlags', 'Enabled flags (earlier browser SDKs): none', evaluatedFlags),
    sdkRead(
      'GET /{trackingKey}/features/enabled',
      'getTrackingSdkFlags',
      'Feature flags (@bucketco/tracking-sdk): none',
      trackingSdkFlags,
      'trackingPath',
    ),
    sdkRead('POST /feedback/prompting-init', 'initFeedbackPrompting', 'Live feedback prompts: off', successAnswer),
    sdkRead(
      'POST /{trackingKey}/feedback/prompting-init',
      'initFeedbackPromptingByPath',
      'Live feedback prompts, key in the path: off',
      successAnswer,
      'trackingPath',
    ),
    sdkRead('POST /flags/opt-in', 'optInFlag', 'Flag opt-in (browser SDK): acknowledged', flagOptIn),
  ]),
  'GET /sse/client': {
    operationId: 'getLiveUpdates',
    summary: 'Live updates stream (browser SDK): none',
    description: 'A 204, which tells an EventSource to stop reconnecting.',
    tag: 'SDK',
    security: 'trackingKey',
    responses: { 204: { description: 'No live updates' } },
    errors: TRACKING_ERRORS,
  },
  'GET /api/v1/environment': {
    operationId: 'getEnvironment',
    summary: "The API key's environment",
    description: 'Who the key belongs to: what the console shows after sign-in. The API key itself is never returned.',
    tag: 'Environment',
    security: 'apiToken',
    responses: { 200: { description: 'The environment', body: environmentView } },
    errors: [401, 500],
  },
  'POST /api/v1/environment/api-key': {
    operationId: 'replaceApiKey',
    summary: 'Generate a new API key, replacing the current one',
    description:
      'The new key is shown this once. The key that made the request (or the current one, for the admin) stops working at once on the instance that served this call and within 30 seconds everywhere (the key cache of other warm instances). A 409 means another request replaced the key meanwhile.',
    tag: 'Environment',
    security: 'apiToken',
    responses: { 201: { description: 'The new API key', body: newApiKey } },
    errors: [401, 404, 409, 500],
  },
  'GET /admin/v1/environments': {
    operationId: 'listEnvironments',
    summary: 'List every environment',
    tag: 'Admin',
    security: 'admin',
    responses: { 200: { description: 'Every environment, oldest first (never a key)', body: listedEnvironments } },
    errors: [401, 500],
  },
  'POST /admin/v1/environments': {
    operationId: 'createEnvironment',
    summary: 'Create an environment',
    tag: 'Admin',
    security: 'admin',
    body: { schema: createEnvironmentRequest, required: true },
    responses: { 201: { description: 'The environment, with its API key shown this once', body: createdEnvironment } },
    errors: [400, 401, 500],
  },
  'POST /admin/v1/sql': {
    operationId: 'runAdminSql',
    summary: 'Run one read-only SQL query over the lake',
    tag: 'Admin',
    security: 'admin',
    body: { schema: sqlRequest, required: true },
    responses: { 200: { description: 'The rows, cut to what one answer may hold', body: sqlAnswer } },
    errors: [400, 401, 500],
  },
  'POST /admin/v1/scheduler/tick': {
    operationId: 'tickExportSchedule',
    summary: 'Fire the automatic-export schedule (backfill)',
    tag: 'Admin',
    security: 'admin',
    body: { schema: schedulerTickRequest, required: false },
    responses: { 200: { description: 'What the fire started, skipped and failed', body: dispatchReport } },
    errors: [400, 401, 404, 500],
  },
  'POST /admin/v1/facts/build': {
    operationId: 'startFactsBuild',
    summary: 'Build the daily facts now (all of history on a first run)',
    description:
      "Starts the daily facts workflow for one environment or all: it builds every closed day that has no facts and rebuilds every day that received events after its facts were built. Exports are exact whatever the facts' state; facts only make them cheaper.",
    tag: 'Admin',
    security: 'admin',
    body: { schema: factsBuildRequest, required: false },
    responses: { 202: { description: 'The build is running', body: factsBuildStarted } },
    errors: [400, 401, 404, 500],
  },
  'GET /admin/v1/facts/builds/{execution_name}': {
    operationId: 'getFactsBuild',
    summary: 'Whether a daily facts build still runs',
    tag: 'Admin',
    security: 'admin',
    responses: { 200: { description: "The build's execution state", body: factsBuildStatus } },
    errors: [401, 404, 500],
  },
  ...catalogOperations('feature', 'features', featureRequest, feature),
  ...catalogOperations('segment', 'segments', segmentRequest, segment),
  'GET /api/v1/exclusions': {
    operationId: 'getExclusions',
    summary: 'Get the exclusions',
    tag: 'Catalog',
    security: 'apiToken',
    responses: { 200: { description: 'The excluded users and companies', body: exclusions } },
    errors: [401, 500],
  },
  'PUT /api/v1/exclusions': {
    operationId: 'putExclusions',
    summary: 'Replace the exclusions',
    tag: 'Catalog',
    security: 'apiToken',
    body: { schema: exclusionsRequest, required: true },
    responses: { 200: { description: 'The exclusions as stored', body: exclusions } },
    errors: [400, 401, 500],
  },
  'POST /api/v1/company-exports': {
    operationId: 'startCompanyExport',
    summary: 'Start a company feature-adoption export (seed 000)',
    tag: 'Company exports',
    security: 'apiToken',
    body: { schema: companyExportRequest, required: true },
    responses: { 202: { description: 'The job is running', body: companyExportStarted } },
    errors: EXPORT_ERRORS,
  },
  'GET /api/v1/company-exports/jobs/{job_id}': {
    operationId: 'getCompanyExport',
    summary: 'Get a company export job',
    tag: 'Company exports',
    security: 'apiToken',
    responses: { 200: { description: 'The job, with a download link once completed', body: companyExportJob } },
    errors: [401, 404, 500],
  },
  'GET /api/v1/company-exports/jobs/{job_id}/files/{filename}': {
    operationId: 'downloadCompanyExport',
    summary: "Download a company export's CSV",
    tag: 'Company exports',
    security: 'apiTokenOrLink',
    query: FILE_LINK_QUERY,
    responses: { 302: { description: 'To a presigned URL of the CSV, valid for minutes', redirect: true } },
    errors: [400, 401, 403, 404, 500],
  },
  'PUT /api/v1/company-exports/automatic': {
    operationId: 'putAutomaticExport',
    summary: 'Set up automatic exports to your bucket (Enterprise)',
    description: '`{"enabled": false}` (or `true`) alone switches them off or on; anything more replaces the settings.',
    tag: 'Company exports',
    security: 'apiToken',
    body: { schema: automaticExportRequest, required: true },
    responses: {
      200: { description: 'The settings as stored (the secret only as set or not)', body: automaticExportSettings },
    },
    errors: [400, 401, 500],
  },
  'GET /api/v1/company-exports/automatic': {
    operationId: 'getAutomaticExport',
    summary: 'Get the automatic-export settings and last run',
    tag: 'Company exports',
    security: 'apiToken',
    responses: { 200: { description: 'The settings and the last run', body: automaticExportSettings } },
    errors: [401, 500],
  },
  'POST /api/v1/analytics/exports': {
    operationId: 'startEventsExport',
    summary: 'Start a raw-event export (seed 002)',
    tag: 'Raw-event exports',
    security: 'apiToken',
    body: { schema: eventsExportRequest, required: true },
    responses: { 201: { description: 'The job is running', body: eventsExportStarted } },
    errors: EXPORT_ERRORS,
  },
  'GET /api/v1/analytics/exports/jobs': {
    operationId: 'listEventsExports',
    summary: 'List raw-event export jobs of the last 3 days',
    tag: 'Raw-event exports',
    security: 'apiToken',
    responses: { 200: { description: 'Newest first', body: eventsExportListed } },
    errors: [401, 500],
  },
  'GET /api/v1/analytics/exports/jobs/{job_id}': {
    operationId: 'getEventsExport',
    summary: 'Get a raw-event export job',
    tag: 'Raw-event exports',
    security: 'apiToken',
    responses: { 200: { description: 'The job, with a link to each file once completed', body: eventsExportDetail } },
    errors: [401, 404, 500],
  },
  'GET /api/v1/analytics/exports/jobs/{job_id}/files/{filename}': {
    operationId: 'downloadEventsExport',
    summary: "Download one week's file of a raw-event export",
    tag: 'Raw-event exports',
    security: 'apiTokenOrLink',
    query: FILE_LINK_QUERY,
    responses: { 302: { description: 'To a presigned URL of the gzip file, valid for minutes', redirect: true } },
    errors: [400, 401, 403, 404, 500],
  },
  'GET /api/v1/tracking/events': {
    operationId: 'listRecentEvents',
    summary: 'Recent events, newest first (console: Tracking)',
    description:
      "The environment's events received today or yesterday (UTC), newest `received_at` first; attributes cut to 500 characters. Locally they show as soon as they are accepted; on AWS once Firehose has delivered them (its buffer, up to a minute or so).",
    tag: 'Tracking',
    security: 'apiToken',
    query: [
      {
        name: 'limit',
        // Query values are text: the handler reads the digits.
        schema: z.string().regex(/^\d+$/).default(String(RECENT_EVENTS_DEFAULT_LIMIT)),
        description: `How many events, 1 to ${RECENT_EVENTS_MAX_LIMIT}`,
      },
    ],
    responses: { 200: { description: 'The most recent events', body: recentEventsAnswer } },
    errors: [400, 401, 500],
  },
  'GET /api/v1/tracking/unassociated': {
    operationId: 'getUnassociatedEvents',
    summary: 'Tracks whose user has no company (console: Tracking, seed 001)',
    description: `Tracks of the last ${UNASSOCIATED_WINDOW_DAYS} days sent without \`companyId\` by users whom no \`company\` call has ever associated with a company, counted, with the users who sent the most.`,
    tag: 'Tracking',
    security: 'apiToken',
    query: [
      {
        name: 'limit',
        // Query values are text: the handler reads the digits.
        schema: z.string().regex(/^\d+$/).default(String(UNASSOCIATED_DEFAULT_USERS)),
        description: `How many users to list, 1 to ${UNASSOCIATED_MAX_USERS}`,
      },
    ],
    responses: { 200: { description: 'The unassociated tracks and their users', body: unassociatedAnswer } },
    errors: [400, 401, 500],
  },
  'GET /api/v1/stars-funnel': {
    operationId: 'getStarsFunnel',
    summary: 'Companies per STARS state for every feature (console: Features)',
    description:
      'The counts a `today` company export with the same `as_of` holds: the rollup itself, grouped by feature and state. One query over the whole history of the environment.',
    tag: 'Catalog',
    security: 'apiToken',
    query: [
      {
        name: 'as_of',
        schema: z.iso.datetime({ offset: true }),
        description: 'The instant that stands for "now" (default: now)',
      },
    ],
    responses: { 200: { description: 'Every feature of the catalog with its funnel', body: starsFunnelAnswer } },
    errors: [400, 401, 500],
  },
};

const PATH_PARAMETERS: Record<string, { readonly schema: z.ZodType; readonly description: string }> = {
  trackingKey: { schema: z.string().min(1), description: "The environment's tracking key (publishable)" },
  method: { schema: z.enum(TRACKING_METHODS), description: 'The tracking method' },
  id: {
    schema: z.string().regex(CATALOG_ID_PATTERN),
    description: 'Letters, digits and `_ . : -`, 1 to 128 characters',
  },
  job_id: { schema: z.string(), description: 'The job id the start answered with' },
  filename: { schema: z.string(), description: 'The file name the job lists' },
  execution_name: { schema: z.string(), description: 'The execution name the build started with' },
};

const SECURITY: Record<Security, readonly Record<string, string[]>[]> = {
  none: [],
  // The key is the path's {trackingKey}: nothing in headers.
  trackingPath: [],
  trackingKey: [{ TrackingKey: [] }, { PublishableKey: [] }],
  // The admin token opens every Token route too, acting in the environment its header names.
  apiToken: [{ ApiToken: [] }, { AdminToken: [], ActingEnvironment: [] }],
  apiTokenOrLink: [{ ApiToken: [] }, { AdminToken: [], ActingEnvironment: [] }, { DownloadLink: [] }],
  admin: [{ AdminToken: [] }],
};

const TAGS: readonly { name: Tag; description: string }[] = [
  { name: 'Tracking', description: "Bucket's tracking API (seed 001): users, companies, events, feedback" },
  {
    name: 'SDK',
    description:
      "What Bucket's and Reflag's SDKs call besides tracking: flag and prompt events stored, reads answered empty (docs/sdk.md)",
  },
  { name: 'Catalog', description: 'Features, segments and exclusions the company export reads' },
  { name: 'Company exports', description: 'Company feature-adoption exports, manual and automatic (seed 000)' },
  { name: 'Raw-event exports', description: 'Bulk exports of raw events as weekly gzip files (seed 002)' },
  { name: 'Environment', description: 'The environment an API key belongs to, and its key' },
  { name: 'Admin', description: 'Environments and lake SQL, with the admin token' },
  { name: 'Service', description: 'Health and this document' },
];

function operationObject(path: string, spec: OperationSpec): JsonSchema {
  const parameters = [
    ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => {
      const param = PATH_PARAMETERS[name];
      if (!param) throw new Error(`openapi: no description of the path parameter {${name}} of ${path}`);
      return {
        name,
        in: 'path',
        required: true,
        description: param.description,
        schema: jsonSchema(param.schema, 'input'),
      };
    }),
    ...(spec.query ?? []).map((query) => ({
      name: query.name,
      in: 'query',
      required: false,
      description: query.description,
      schema: jsonSchema(query.schema, 'input'),
    })),
  ];
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.body ? { content: { 'application/json': { schema: jsonSchema(response.body, 'output') } } } : {}),
      ...(response.redirect
        ? { headers: { Location: { description: 'The presigned URL', required: true, schema: { type: 'string' } } } }
        : {}),
    };
  }
  // The admin acting in an environment may name one that does not exist: any Token route can answer 404.
  const errors = spec.security.startsWith('apiToken') ? [...new Set([...spec.errors, 404])].sort() : spec.errors;
  for (const status of errors) {
    responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  }
  responses['429'] = { $ref: '#/components/responses/Throttled' };
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: SECURITY[spec.security],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: spec.body.required ?? true,
            ...(spec.body.description ? { description: spec.body.description } : {}),
            content: { 'application/json': { schema: jsonSchema(spec.body.schema, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of `operations` (by default every route), as JSON-ready data. */
export function openApiDocument(operations: Readonly<Record<string, OperationSpec>> = OPERATIONS): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [key, spec] of Object.entries(operations)) {
    const [method = '', path = ''] = key.split(' ') as [Method, string];
    paths[path] ??= {};
    (paths[path] as Record<string, JsonSchema>)[method.toLowerCase()] = operationObject(path, spec);
  }
  const errorStatuses = [...new Set(Object.values(operations).flatMap((spec) => spec.errors))].sort();
  return {
    openapi: '3.1.1',
    info: {
      title: 'featurelake API',
      version: '1',
      summary: 'Tracking, catalog, company exports and raw-event exports of a self-hosted featurelake',
      description:
        'Every route of featurelake, generated from the zod schemas that parse its requests. Errors share seed 002\'s shape: `{"errors": [{"error", "error_code", "message", "details", "field"?}]}`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // No host: the same document serves the local stack and every deployment.
    servers: [{ url: '/', description: 'The API that serves this document' }],
    tags: TAGS,
    paths,
    components: {
      securitySchemes: {
        ApiToken: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: "`Authorization: Token <api_key>`: the environment's API key (seed 002)",
        },
        TrackingKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            "`Authorization: Bearer <key>`: the environment's tracking key (publishable key), or from a server SDK its API key (secret key)",
        },
        PublishableKey: {
          type: 'apiKey',
          in: 'query',
          name: 'publishableKey',
          description: "`?publishableKey=<tracking key>` (the browser SDK's way)",
        },
        AdminToken: {
          type: 'http',
          scheme: 'bearer',
          description: "`Authorization: Bearer <admin token>`: the deployment's admin token",
        },
        ActingEnvironment: {
          type: 'apiKey',
          in: 'header',
          name: ENVIRONMENT_HEADER,
          description: `With the admin token on a \`Token\` route: \`${ENVIRONMENT_HEADER}: <environment_id>\`, the environment the admin acts in`,
        },
        DownloadLink: {
          type: 'apiKey',
          in: 'query',
          name: 'signature',
          description:
            'A download link the job made: `environment_id`, `expires` and this HMAC `signature` in the query, instead of `Authorization`',
        },
      },
      schemas: { ErrorBody: jsonSchema(errorBody, 'output') },
      responses: {
        ...Object.fromEntries(
          errorStatuses.map((status) => [
            `Error${status}`,
            {
              description: STATUS_TEXT[status] ?? 'Error',
              content: { 'application/json': { schema: ERROR_REF } },
            },
          ]),
        ),
        Throttled: {
          description:
            "API Gateway's throttle (deployed stacks only): the route's request rate is over its limit; retry later",
          content: { 'application/json': { schema: jsonSchema(gatewayMessage, 'output') } },
        },
      },
    },
  };
}
