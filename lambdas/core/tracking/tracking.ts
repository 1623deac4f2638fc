import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type EventType, LAKE_FIRST_DATE, type LakeEvent, lakeShard, MAX_FUTURE_MS } from '../../contract/lake.ts';
import { MAX_BULK_CALLS } from '../../contract/routes.ts';
import { type FieldProblem, ValidationError } from '../shared/errors.ts';
import { NOT_AN_OBJECT, readRequestJson } from '../shared/request-body.ts';

/**
 * The tracking API of seed 001: `user`, `company`, `event` (also `events`),
 * `feedback`, and `bulk`, with what Bucket's and Reflag's SDKs add (DESIGN
 * "Tracking: SDK wire compatibility"): `feature-flag-event` and `prompt-event`
 * calls, feedback's extra fields, epoch-millisecond timestamps. Everything here is
 * pure: it turns one HTTP request into lake rows or a ValidationError naming every
 * failing field.
 */

export const TRACKING_METHODS = ['user', 'company', 'event', 'events', 'feedback', 'bulk'] as const;
export type TrackingMethod = (typeof TRACKING_METHODS)[number];
/** The `type` of a bulk item: every type the SDKs send, and no other. */
export const CALL_TYPES = ['user', 'company', 'event', 'feedback', 'feature-flag-event', 'prompt-event'] as const;
export type CallType = (typeof CALL_TYPES)[number];
/** The calls the SDKs also send alone, to routes of their own (`POST /features/events`, `/feedback/prompt-events`). */
export type SdkCallType = 'feature-flag-event' | 'prompt-event';

const EVENT_TYPE_OF: Record<CallType, EventType> = {
  user: 'identify_user',
  company: 'identify_company',
  event: 'track',
  feedback: 'feedback',
  'feature-flag-event': 'feature_flag',
  'prompt-event': 'prompt_event',
};

const MAX_ID_LENGTH = 256;

const requiredOr =
  (problem: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : problem;

/**
 * Ids may be strings or numbers (the seed's own examples send integers; the Node
 * SDK lets any number through); stored as strings.
 */
const trackingId = z
  .union([z.string().trim().min(1).max(MAX_ID_LENGTH), z.number()], {
    error: requiredOr(`must be a non-empty string (at most ${MAX_ID_LENGTH} characters) or a number`),
  })
  .transform(String);

/**
 * A short free string: a track's event name, the SDKs' `action` and `source` values.
 * The SDKs' values are stored as sent, not checked against today's lists, so that an
 * SDK release with a new value keeps landing (the SDKs drop a whole batch on a 400);
 * the rollup reads only the values it knows.
 */
const label = z
  .string({ error: requiredOr('must be a string') })
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`);

const MAX_TEXT_LENGTH = 10_000;
const text = z
  .string({ error: 'must be a string' })
  .max(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`);

const jsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Attributes stay the very object JSON.parse made: zod's record parsing would copy
 * keys into a fresh object, where an own `__proto__` key becomes a prototype
 * assignment. Kept as is, `__proto__` and `constructor` are plain data.
 */
const attributes = z.custom<Record<string, unknown>>(jsonObject, { error: 'must be an object' });

const context = z.object(
  { active: z.boolean({ error: 'must be a boolean' }).optional() },
  { error: 'must be an object' },
);

const TIMESTAMP_PROBLEM = 'must be an ISO 8601 date-time, e.g. 2024-10-06T10:44:50.999Z, or epoch milliseconds';

/**
 * ISO 8601: a date-time with `Z` or an offset (no offset means UTC), or a date alone
 * (midnight UTC); or a JSON number of milliseconds since 1970-01-01T00:00:00Z.
 */
const timestamp = z.union([z.iso.datetime({ offset: true, local: true }), z.iso.date(), z.number()], {
  error: TIMESTAMP_PROBLEM,
});

const messageId = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`);

const common = {
  attributes: attributes.optional(),
  context: context.optional(),
  timestamp: timestamp.optional(),
  messageId: messageId.optional(),
};

const userCall = z.object({ userId: trackingId, ...common });
const companyCall = z.object({ companyId: trackingId, userId: trackingId.optional(), ...common });
const eventCall = z.object({
  event: label,
  userId: trackingId,
  companyId: trackingId.optional(),
  ...common,
});
/** The SDKs' feedback fields kept in `attributes` under these names (DESIGN; the rollup reads `feedbackId`). */
const FEEDBACK_EXTRAS = ['question', 'promptedQuestion', 'promptId', 'feedbackId', 'source'] as const;

const feedbackCall = z
  .object({
    featureId: trackingId.optional(),
    /** The SDKs' name for featureId (the flag key). */
    key: trackingId.optional(),
    userId: trackingId,
    companyId: trackingId.optional(),
    score: z
      .int({ error: 'must be an integer from 1 to 5' })
      .min(1, 'must be from 1 to 5')
      .max(5, 'must be from 1 to 5')
      .optional(),
    comment: text.optional(),
    question: text.optional(),
    promptedQuestion: text.optional(),
    promptId: trackingId.optional(),
    feedbackId: trackingId.optional(),
    source: label.optional(),
    ...common,
  })
  .refine((call) => call.featureId !== undefined || call.key !== undefined, {
    path: ['featureId'],
    error: 'is required (or its alias key)',
  })
  .refine((call) => call.featureId === undefined || call.key === undefined || call.featureId === call.key, {
    path: ['key'],
    error: 'must equal featureId when both are sent (key is its alias)',
  })
  .refine((call) => call.score !== undefined || call.comment !== undefined, {
    path: ['score'],
    error: 'either score or comment (or both) is required',
  });

/**
 * A flag check or evaluation the SDK made (DESIGN). `action` and `key` name it; the
 * evaluation's own fields are diagnostics, stored as sent whatever their shape (a
 * 400 here would drop the SDK's whole batch), except `evalContext`, whose user and
 * company ids fill the row's columns.
 */
const featureFlagCall = z.object({
  action: label,
  key: trackingId,
  targetingVersion: z.unknown().optional(),
  evalResult: z.unknown().optional(),
  evalContext: z
    .custom<Record<string, unknown> | null>((value) => value === null || jsonObject(value), {
      error: 'must be an object',
    })
    .optional(),
  evalRuleResults: z.unknown().optional(),
  evalMissingFields: z.unknown().optional(),
  timestamp: timestamp.optional(),
  messageId: messageId.optional(),
});

/** A live feedback prompt's life: received, shown, dismissed (browser SDK). */
const promptEventCall = z.object({
  action: label,
  featureId: trackingId,
  userId: trackingId,
  promptId: trackingId.optional(),
  promptedQuestion: text.optional(),
  timestamp: timestamp.optional(),
  messageId: messageId.optional(),
});

export const SCHEMAS = {
  user: userCall,
  company: companyCall,
  event: eventCall,
  feedback: feedbackCall,
  'feature-flag-event': featureFlagCall,
  'prompt-event': promptEventCall,
} as const;

type ParsedCall =
  | { type: 'user'; call: z.infer<typeof userCall> }
  | { type: 'company'; call: z.infer<typeof companyCall> }
  | { type: 'event'; call: z.infer<typeof eventCall> }
  | { type: 'feedback'; call: z.infer<typeof feedbackCall> }
  | { type: 'feature-flag-event'; call: z.infer<typeof featureFlagCall> }
  | { type: 'prompt-event'; call: z.infer<typeof promptEventCall> };

/** Per-parse messages for the issues no schema above words itself. */
function issueMessage(issue: z.core.$ZodRawIssue): string {
  if (issue.code === 'invalid_type') {
    return issue.input === undefined
      ? 'is required'
      : `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`;
  }
  if (issue.code === 'too_small') {
    return issue.origin === 'string' && Number(issue.minimum) === 1
      ? 'must not be empty'
      : `must be at least ${issue.minimum}`;
  }
  if (issue.code === 'too_big') {
    return `must be at most ${issue.maximum}${issue.origin === 'string' ? ' characters' : ''}`;
  }
  return issue.message ?? 'is invalid';
}

function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? 'body' : out;
}

export interface TrackingRequest {
  /** The `{method}` path segment (or the single-segment route's name). */
  readonly method: string;
  /** Set by the SDK routes that carry one call of their own type (`POST /features/events`): `method` is then not read. */
  readonly call?: SdkCallType;
  readonly contentType: string | undefined;
  readonly body: string | undefined;
  readonly isBase64Encoded?: boolean;
}

export interface TrackingTarget {
  readonly environmentId: string;
}

export function isTrackingMethod(method: string): method is TrackingMethod {
  return (TRACKING_METHODS as readonly string[]).includes(method);
}

/**
 * Decodes and checks the envelope: method, Content-Type, size, JSON (with the input
 * rules every request body gets: lone surrogates repaired, nesting bounded).
 */
export function parseTrackingBody(request: TrackingRequest): {
  method: TrackingMethod | SdkCallType;
  payload: unknown;
} {
  const method = request.call ?? request.method;
  if (request.call === undefined && !isTrackingMethod(method)) {
    throw new ValidationError([
      { field: 'method', problem: `unknown method "${method}"; use one of ${TRACKING_METHODS.join(', ')}` },
    ]);
  }
  const mediaType = request.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new ValidationError([
      {
        field: 'Content-Type',
        problem: request.contentType
          ? `must be application/json, got "${request.contentType}"`
          : 'is required and must be application/json',
      },
    ]);
  }
  return {
    method: method as TrackingMethod | SdkCallType,
    payload: readRequestJson('tracking', request.body, request.isBase64Encoded),
  };
}

function parseCall(type: CallType, payload: unknown, prefix: string, problems: FieldProblem[]): ParsedCall | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    problems.push(prefix === '' ? NOT_AN_OBJECT : { field: prefix, problem: NOT_AN_OBJECT.problem });
    return undefined;
  }
  // A per-parse error map takes zod off its compiled fast path (half the bulk
  // throughput), so it is applied only to re-word the issues of a failed parse.
  let result = SCHEMAS[type].safeParse(payload);
  if (!result.success) result = SCHEMAS[type].safeParse(payload, { error: issueMessage });
  if (!result.success) {
    for (const issue of result.error.issues)
      problems.push({ field: fieldPath(prefix, issue.path), problem: issue.message });
    return undefined;
  }
  return { type, call: result.data } as ParsedCall;
}

function parseBulk(payload: unknown, problems: FieldProblem[]): ParsedCall[] {
  if (!Array.isArray(payload)) {
    problems.push({ field: 'body', problem: 'must be a JSON array of calls, each with a "type"' });
    return [];
  }
  if (payload.length === 0) {
    problems.push({ field: 'body', problem: 'must hold at least one call' });
    return [];
  }
  if (payload.length > MAX_BULK_CALLS) {
    problems.push({ field: 'body', problem: `holds ${payload.length} calls; the limit is ${MAX_BULK_CALLS}` });
    return [];
  }
  const calls: ParsedCall[] = [];
  payload.forEach((item: unknown, index) => {
    const prefix = `[${index}]`;
    const type = typeof item === 'object' && item !== null ? (item as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !(CALL_TYPES as readonly string[]).includes(type)) {
      problems.push({
        field: `${prefix}.type`,
        problem:
          type === undefined
            ? `is required: one of ${CALL_TYPES.join(', ')}`
            : `must be one of ${CALL_TYPES.join(', ')}`,
      });
      return;
    }
    const parsed = parseCall(type as CallType, item, prefix, problems);
    if (parsed) calls.push(parsed);
  });
  return calls;
}

function toInstant(value: string | number, now: Date, field: string, problems: FieldProblem[]): Date {
  let instant: Date;
  if (typeof value === 'number') {
    instant = new Date(value);
  } else {
    // A date-time without an offset is UTC (JavaScript would read it as local time).
    const hasZone = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/.test(value);
    const isDateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
    instant = new Date(hasZone || isDateOnly ? value : `${value}Z`);
  }
  if (Number.isNaN(instant.getTime())) {
    problems.push({ field, problem: TIMESTAMP_PROBLEM });
  } else if (instant.getTime() > now.getTime() + MAX_FUTURE_MS) {
    problems.push({ field, problem: 'must not be more than one day in the future' });
  } else if (instant.toISOString().slice(0, 10) < LAKE_FIRST_DATE) {
    problems.push({ field, problem: `must not be before ${LAKE_FIRST_DATE}` });
  }
  return instant;
}

/** What every row of one request shares: computed once, not per event. */
interface RequestScope {
  readonly target: TrackingTarget;
  readonly now: Date;
  readonly nowIso: string;
  readonly source: LakeEvent['source'];
  /** Where every row of the request lands: the lake partition is the environment's and the receive date's. */
  readonly shard: number;
  readonly received: string;
}

function requestScope(target: TrackingTarget, now: Date, source: LakeEvent['source']): RequestScope {
  const nowIso = now.toISOString();
  return { target, now, nowIso, source, shard: lakeShard(target.environmentId), received: nowIso.slice(0, 10) };
}

/**
 * An id of the SDK's evaluation context (`evalContext.user.id`), by the same rule as
 * every other id (string or number, stored as a string); null when absent or unusable,
 * since the rest of the evaluation is diagnostics and must not cost the SDK its batch.
 */
function contextId(context: Record<string, unknown> | null | undefined, entity: 'user' | 'company'): string | null {
  const holder = context?.[entity];
  if (!jsonObject(holder)) return null;
  const id = trackingId.safeParse(holder.id);
  return id.success ? id.data : null;
}

/** JSON text of the fields that are present, in the order given; null when none is. */
function presentFields(fields: Record<string, unknown>): string | null {
  const kept: Record<string, unknown> = {};
  let any = false;
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    kept[name] = value;
    any = true;
  }
  return any ? JSON.stringify(kept) : null;
}

/** The columns each call type fills beyond the shared ones (DESIGN "Tracking: SDK wire compatibility"). */
type CallColumns = Pick<
  LakeEvent,
  'event_name' | 'user_id' | 'company_id' | 'feature_id' | 'score' | 'comment' | 'attributes' | 'context_active'
>;

// Each branch builds its object literal whole, keys in one order: object spread here
// (`{...none, …}`, then spread again into the row) cost 7x the bulk path's CPU.
function callColumns(parsed: ParsedCall): CallColumns {
  switch (parsed.type) {
    case 'user':
    case 'company':
    case 'event': {
      const { call } = parsed;
      return {
        event_name: parsed.type === 'event' ? parsed.call.event : null,
        user_id: call.userId ?? null,
        company_id: parsed.type === 'user' ? null : (parsed.call.companyId ?? null),
        feature_id: null,
        score: null,
        comment: null,
        attributes: call.attributes === undefined ? null : JSON.stringify(call.attributes),
        context_active: call.context?.active ?? true,
      };
    }
    case 'feedback': {
      const { call } = parsed;
      let attributes = call.attributes === undefined ? null : JSON.stringify(call.attributes);
      if (FEEDBACK_EXTRAS.some((name) => call[name] !== undefined)) {
        // Spread copies an own `__proto__` key as plain data; the SDK's fields win a clash.
        const merged: Record<string, unknown> = { ...call.attributes };
        for (const name of FEEDBACK_EXTRAS) if (call[name] !== undefined) merged[name] = call[name];
        attributes = JSON.stringify(merged);
      }
      return {
        event_name: null,
        user_id: call.userId,
        company_id: call.companyId ?? null,
        feature_id: (call.featureId ?? call.key) as string,
        score: call.score ?? null,
        comment: call.comment ?? null,
        attributes,
        context_active: call.context?.active ?? true,
      };
    }
    case 'feature-flag-event': {
      const { call } = parsed;
      return {
        event_name: call.action,
        user_id: contextId(call.evalContext, 'user'),
        company_id: contextId(call.evalContext, 'company'),
        feature_id: call.key,
        score: null,
        comment: null,
        attributes: presentFields({
          targetingVersion: call.targetingVersion,
          evalResult: call.evalResult,
          evalContext: call.evalContext,
          evalRuleResults: call.evalRuleResults,
          evalMissingFields: call.evalMissingFields,
        }),
        context_active: true,
      };
    }
    case 'prompt-event': {
      const { call } = parsed;
      return {
        event_name: call.action,
        user_id: call.userId,
        company_id: null,
        feature_id: call.featureId,
        score: null,
        comment: null,
        attributes: presentFields({ promptId: call.promptId, promptedQuestion: call.promptedQuestion }),
        context_active: true,
      };
    }
  }
}

function toLakeEvent(parsed: ParsedCall, scope: RequestScope, prefix: string, problems: FieldProblem[]): LakeEvent {
  const { call } = parsed;
  let iso = scope.nowIso;
  if (call.timestamp !== undefined) {
    const at = toInstant(call.timestamp, scope.now, prefix === '' ? 'timestamp' : `${prefix}.timestamp`, problems);
    if (!Number.isNaN(at.getTime())) iso = at.toISOString();
  }
  const columns = callColumns(parsed);
  return {
    event_id: call.messageId ?? randomUUID(),
    event_type: EVENT_TYPE_OF[parsed.type],
    event_name: columns.event_name,
    user_id: columns.user_id,
    company_id: columns.company_id,
    feature_id: columns.feature_id,
    score: columns.score,
    comment: columns.comment,
    attributes: columns.attributes,
    context_active: columns.context_active,
    timestamp: iso,
    received_at: scope.nowIso,
    source: scope.source,
    app_id: scope.target.environmentId,
    dt: iso.slice(0, 10),
    shard: scope.shard,
    received: scope.received,
  };
}

/**
 * Turns one tracking request into lake rows. All-or-nothing: a bulk request with
 * one bad call is rejected whole, naming every failing field by its index, so a
 * client can fix and resend it without creating duplicates.
 */
export function trackingEvents(request: TrackingRequest, target: TrackingTarget, now: Date): LakeEvent[] {
  const { method, payload } = parseTrackingBody(request);
  const problems: FieldProblem[] = [];
  if (method === 'bulk') {
    const calls = parseBulk(payload, problems);
    if (problems.length > 0) throw new ValidationError(problems);
    const scope = requestScope(target, now, 'bulk');
    const events = calls.map((parsed, index) => toLakeEvent(parsed, scope, `[${index}]`, problems));
    if (problems.length > 0) throw new ValidationError(problems);
    return events;
  }
  const type: CallType = method === 'events' ? 'event' : method;
  const parsed = parseCall(type, payload, '', problems);
  if (!parsed) throw new ValidationError(problems);
  const event = toLakeEvent(parsed, requestScope(target, now, 'api'), '', problems);
  if (problems.length > 0) throw new ValidationError(problems);
  return [event];
}
