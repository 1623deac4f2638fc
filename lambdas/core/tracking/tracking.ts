import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type EventType, LAKE_FIRST_DATE, type LakeEvent, lakeShard, MAX_FUTURE_MS } from '../../contract/lake.ts';
import { MAX_BULK_CALLS } from '../../contract/routes.ts';
import { type FieldProblem, ValidationError } from '../shared/errors.ts';
import { NOT_AN_OBJECT, readRequestJson } from '../shared/request-body.ts';

/**
 * The tracking API of seed 001: `user`, `company`, `event` (also `events`),
 * `feedback`, and `bulk`. Everything here is pure: it turns one HTTP request into
 * lake rows or a ValidationError naming every failing field.
 */

export const TRACKING_METHODS = ['user', 'company', 'event', 'events', 'feedback', 'bulk'] as const;
export type TrackingMethod = (typeof TRACKING_METHODS)[number];
export type CallType = 'user' | 'company' | 'event' | 'feedback';

const CALL_TYPES: readonly CallType[] = ['user', 'company', 'event', 'feedback'];
const EVENT_TYPE_OF: Record<CallType, EventType> = {
  user: 'identify_user',
  company: 'identify_company',
  event: 'track',
  feedback: 'feedback',
};

const MAX_ID_LENGTH = 256;

const requiredOr =
  (problem: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : problem;

/** Ids may be strings or integers (the seed's own examples send numbers); stored as strings. */
const trackingId = z
  .union([z.string().trim().min(1).max(MAX_ID_LENGTH), z.int()], {
    error: requiredOr(`must be a non-empty string (at most ${MAX_ID_LENGTH} characters) or an integer`),
  })
  .transform(String);

/**
 * Attributes stay the very object JSON.parse made: zod's record parsing would copy
 * keys into a fresh object, where an own `__proto__` key becomes a prototype
 * assignment. Kept as is, `__proto__` and `constructor` are plain data.
 */
const attributes = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { error: 'must be an object' },
);

const context = z.object(
  { active: z.boolean({ error: 'must be a boolean' }).optional() },
  { error: 'must be an object' },
);

/** ISO 8601: a date-time with `Z` or an offset (no offset means UTC), or a date alone (midnight UTC). */
const timestamp = z.union([z.iso.datetime({ offset: true, local: true }), z.iso.date()], {
  error: 'must be an ISO 8601 date-time, e.g. 2024-10-06T10:44:50.999Z',
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
  event: z
    .string({ error: requiredOr('must be a string') })
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`),
  userId: trackingId,
  companyId: trackingId.optional(),
  ...common,
});
const feedbackCall = z
  .object({
    featureId: trackingId,
    userId: trackingId,
    companyId: trackingId.optional(),
    score: z
      .int({ error: 'must be an integer from 1 to 5' })
      .min(1, 'must be from 1 to 5')
      .max(5, 'must be from 1 to 5')
      .optional(),
    comment: z.string({ error: 'must be a string' }).max(10_000, 'must be at most 10000 characters').optional(),
    ...common,
  })
  .refine((call) => call.score !== undefined || call.comment !== undefined, {
    path: ['score'],
    error: 'either score or comment (or both) is required',
  });

export const SCHEMAS = { user: userCall, company: companyCall, event: eventCall, feedback: feedbackCall } as const;

type ParsedCall =
  | { type: 'user'; call: z.infer<typeof userCall> }
  | { type: 'company'; call: z.infer<typeof companyCall> }
  | { type: 'event'; call: z.infer<typeof eventCall> }
  | { type: 'feedback'; call: z.infer<typeof feedbackCall> };

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
  /** The `{method}` path segment. */
  readonly method: string;
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
export function parseTrackingBody(request: TrackingRequest): { method: TrackingMethod; payload: unknown } {
  const { method } = request;
  if (!isTrackingMethod(method)) {
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
  return { method, payload: readRequestJson('tracking', request.body, request.isBase64Encoded) };
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

function toInstant(text: string, now: Date, field: string, problems: FieldProblem[]): Date {
  // A date-time without an offset is UTC (JavaScript would read it as local time).
  const hasZone = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/.test(text);
  const isDateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const instant = new Date(hasZone || isDateOnly ? text : `${text}Z`);
  if (Number.isNaN(instant.getTime())) {
    problems.push({ field, problem: 'must be an ISO 8601 date-time, e.g. 2024-10-06T10:44:50.999Z' });
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

function toLakeEvent(parsed: ParsedCall, scope: RequestScope, prefix: string, problems: FieldProblem[]): LakeEvent {
  const { call } = parsed;
  let iso = scope.nowIso;
  if (call.timestamp !== undefined) {
    const at = toInstant(call.timestamp, scope.now, prefix === '' ? 'timestamp' : `${prefix}.timestamp`, problems);
    if (!Number.isNaN(at.getTime())) iso = at.toISOString();
  }
  return {
    event_id: call.messageId ?? randomUUID(),
    event_type: EVENT_TYPE_OF[parsed.type],
    event_name: parsed.type === 'event' ? parsed.call.event : null,
    user_id: call.userId ?? null,
    company_id: parsed.type === 'user' ? null : (parsed.call.companyId ?? null),
    feature_id: parsed.type === 'feedback' ? parsed.call.featureId : null,
    score: parsed.type === 'feedback' ? (parsed.call.score ?? null) : null,
    comment: parsed.type === 'feedback' ? (parsed.call.comment ?? null) : null,
    attributes: call.attributes === undefined ? null : JSON.stringify(call.attributes),
    context_active: call.context?.active ?? true,
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
