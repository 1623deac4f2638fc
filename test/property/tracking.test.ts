import { rm } from 'node:fs/promises';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../bin/local.ts';
import { LAKE_FIRST_DATE, lakeShard } from '../../lambdas/contract/lake.ts';
import { MAX_BODY_BYTES } from '../../lambdas/contract/routes.ts';
import { MAX_NESTING_DEPTH } from '../../lambdas/core/shared/request-body.ts';
import { admin, http, tempHome } from '../support/local-stack.ts';
import {
  deepValue,
  hostileJson,
  hostileKey,
  hostileObject,
  hostileString,
  nestingDepth,
  propertyRuns,
  propertyTimeoutMs,
  repaired,
  serialize,
  wellFormed,
} from './arbitraries.ts';

/**
 * Every field of every tracking method, and of bulk, filled with hostile text, any
 * JSON value and deep nesting (issue 9): each call is either a 400 naming fields the
 * call got wrong, or a 200 whose row reads back from the lake exactly as the README
 * says (ids trimmed, numbers as strings, lone surrogates as U+FFFD, attributes as
 * JSON text). Afterwards the store answers queries and survives a restart.
 */

const RUNS = propertyRuns(25);
const TIMEOUT = propertyTimeoutMs(25);

let home: string;
let stack!: LocalStack;
let running = false;
let env: { environment_id: string; tracking_key: string; api_key: string };
let accepted = 0;
let refused = 0;

beforeAll(async () => {
  home = await tempHome('featurelake-property-');
  stack = await startLocalStack({ home, port: 0 });
  running = true;
  env = (await admin(stack).createEnvironment('property-tracking', 'pro')).body;
});
afterAll(async () => {
  if (running) await stack.close();
  await rm(home, { recursive: true, force: true });
});

type CallType = 'user' | 'company' | 'event' | 'feedback' | 'feature-flag-event' | 'prompt-event';
type Call = Record<string, unknown>;

const KNOWN_FIELDS = [
  'type',
  'userId',
  'companyId',
  'event',
  'featureId',
  'score',
  'comment',
  'attributes',
  'context',
  'timestamp',
  'messageId',
  'key',
  'question',
  'promptedQuestion',
  'promptId',
  'feedbackId',
  'source',
  'action',
  'targetingVersion',
  'evalResult',
  'evalContext',
  'evalRuleResults',
  'evalMissingFields',
];
const EVENT_TYPE: Record<CallType, string> = {
  user: 'identify_user',
  company: 'identify_company',
  event: 'track',
  feedback: 'feedback',
  'feature-flag-event': 'feature_flag',
  'prompt-event': 'prompt_event',
};
/** The feedback fields kept in `attributes`, in the order the server assigns them. */
const FEEDBACK_EXTRAS = ['question', 'promptedQuestion', 'promptId', 'feedbackId', 'source'] as const;
const FIRST_INSTANT = Date.parse(`${LAKE_FIRST_DATE}T00:00:00Z`);
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------
// What a client may send in each field: mostly well-typed hostile text, sometimes anything
// ---------------------------------------------------------------------------

const optional = <T>(arbitrary: fc.Arbitrary<T>, omitted = 3) =>
  fc.option(arbitrary, { nil: undefined, freq: omitted });
const required = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 30 });

const id = fc.oneof(
  { arbitrary: hostileString, weight: 8 },
  { arbitrary: fc.integer(), weight: 2 },
  { arbitrary: fc.constantFrom(2 ** 60, 1.5, -0, Number.MAX_SAFE_INTEGER), weight: 1 },
  { arbitrary: hostileJson, weight: 1 },
);
const text = fc.oneof({ arbitrary: hostileString, weight: 8 }, { arbitrary: hostileJson, weight: 1 });
const messageSuffix = fc.oneof(
  { arbitrary: hostileString.map((s) => s.slice(0, 200)), weight: 20 },
  { arbitrary: fc.constantFrom(7, null, ['m']), weight: 1 },
);
const attributes = fc.oneof(
  { arbitrary: hostileObject, weight: 6 },
  {
    arbitrary: fc
      .tuple(hostileObject, hostileKey, deepValue)
      .map(([object, key, deep]) => ({ ...object, [key]: deep })),
    weight: 2,
  },
  { arbitrary: hostileJson, weight: 1 },
);
const context = fc.oneof(
  { arbitrary: fc.record({ active: fc.boolean() }, { requiredKeys: [] }), weight: 6 },
  { arbitrary: hostileJson, weight: 1 },
);
const now = Date.now();
const timestamp = fc
  .oneof(
    {
      arbitrary: fc.date({ min: new Date(FIRST_INSTANT), max: new Date(now - 60_000), noInvalidDate: true }),
      weight: 6,
    },
    {
      arbitrary: fc.date({
        min: new Date('1000-01-01T00:00:00Z'),
        max: new Date(FIRST_INSTANT - 1),
        noInvalidDate: true,
      }),
      weight: 1,
    },
    {
      arbitrary: fc.date({ min: new Date(now + 2 * DAY_MS), max: new Date(now + 4000 * DAY_MS), noInvalidDate: true }),
      weight: 1,
    },
  )
  .chain((date) =>
    fc.constantFrom<string | number>(
      date.toISOString(),
      date.toISOString().slice(0, 10),
      date.toISOString().replace(/\.\d{3}Z$/, ''),
      // Epoch milliseconds (issue 12).
      date.getTime(),
    ),
  );
const anyTimestamp = fc.oneof(
  { arbitrary: timestamp, weight: 8 },
  { arbitrary: hostileString, weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
);
const score = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 6 },
  { arbitrary: fc.integer({ min: -2, max: 8 }), weight: 1 },
  { arbitrary: hostileJson, weight: 1 },
);
/** A field the API does not know, with anything in it (nested deep too). */
const extraField = optional(
  fc.tuple(
    hostileKey.filter((key) => !KNOWN_FIELDS.includes(key)),
    fc.oneof(hostileJson, deepValue),
  ),
  2,
);

const common = {
  attributes: optional(attributes),
  context: optional(context),
  timestamp: optional(anyTimestamp),
  messageId: messageSuffix,
};
/** What an SDK's evaluation context holds: ids of any kind, sometimes anything at all. */
const evalContext = fc.oneof(
  {
    arbitrary: fc.record(
      { user: fc.record({ id: id }, { requiredKeys: [] }), company: fc.record({ id: id }, { requiredKeys: [] }) },
      { requiredKeys: [] },
    ),
    weight: 6,
  },
  { arbitrary: hostileJson, weight: 1 },
);
const timeAndId = { timestamp: optional(anyTimestamp), messageId: messageSuffix };
const CALLS: Record<CallType, fc.Arbitrary<Call>> = {
  user: fc.record({ userId: required(id), ...common }),
  company: fc.record({ companyId: required(id), userId: optional(id), ...common }),
  event: fc.record({ event: required(text), userId: required(id), companyId: optional(id), ...common }),
  feedback: fc.record({
    featureId: optional(id, 1),
    key: optional(id, 2),
    userId: required(id),
    companyId: optional(id),
    score: optional(score),
    comment: optional(text),
    question: optional(text),
    promptedQuestion: optional(text),
    promptId: optional(id),
    feedbackId: optional(id),
    source: optional(text),
    ...common,
  }),
  'feature-flag-event': fc.record({
    action: required(text),
    key: required(id),
    targetingVersion: optional(fc.oneof(fc.integer(), hostileJson)),
    evalResult: optional(fc.oneof(fc.boolean(), hostileObject, hostileJson)),
    evalContext: optional(evalContext),
    evalRuleResults: optional(hostileJson),
    evalMissingFields: optional(hostileJson),
    ...timeAndId,
  }),
  'prompt-event': fc.record({
    action: required(text),
    featureId: required(id),
    userId: required(id),
    promptId: optional(id),
    promptedQuestion: optional(text),
    ...timeAndId,
  }),
};

/** A call with its extra field and a messageId that makes its row findable: `<prefix><suffix>`. */
function callOf(type: CallType) {
  return fc.tuple(CALLS[type], extraField).map(([call, extra]) => {
    const out: Call = { ...call };
    if (extra) Object.defineProperty(out, extra[0], { value: extra[1], enumerable: true, configurable: true });
    return out;
  });
}

// ---------------------------------------------------------------------------
// The README's rules, as an oracle
// ---------------------------------------------------------------------------

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** zod's string limits count characters (code points), as the README says, not UTF-16 units. */
const characters = (value: string) => [...wellFormed(value)].length;
const trimmedLength = (value: string) => characters(wellFormed(value).trim());
/** Any JSON number is an id (issue 12: the Node SDK lets any number through). */
const isId = (value: unknown) =>
  (typeof value === 'string' && trimmedLength(value) >= 1 && trimmedLength(value) <= 256) || typeof value === 'number';
const isLabel = (value: unknown) =>
  typeof value === 'string' && trimmedLength(value) >= 1 && trimmedLength(value) <= 256;
const isText = (value: unknown) => typeof value === 'string' && characters(value) <= 10_000;
const idText = (value: unknown) => (typeof value === 'string' ? wellFormed(value).trim() : String(value));

function timestampInstant(value: string | number): number {
  if (typeof value === 'number') return value;
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) || value.endsWith('Z') ? value : `${value}Z`);
}
const isTimestampText = (value: unknown): value is string =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{3})?Z?)?$/.test(value);

interface Verdict {
  /** Fields the decoding step may name (one of them): too deep. */
  readonly tooDeep: string[];
  /** Fields the schema may name. */
  readonly invalid: string[];
  /** Fields named only once the schema passed: a timestamp out of range. */
  readonly outOfRange: string[];
}

function judge(type: CallType, call: Call, prefix: string): Verdict {
  const field = (name: string) => `${prefix}${name}`;
  const tooDeep = Object.entries(call)
    .filter(([, value]) => nestingDepth(value) > MAX_NESTING_DEPTH)
    .map(([name]) => field(wellFormed(name)));
  const invalid: string[] = [];
  const outOfRange: string[] = [];
  const check = (name: string, ok: boolean) => {
    if (!ok) invalid.push(field(name));
  };
  if (type === 'user') check('userId', isId(call.userId));
  if (type === 'company') {
    check('companyId', isId(call.companyId));
    check('userId', call.userId === undefined || isId(call.userId));
  }
  if (type === 'event') {
    check(
      'event',
      typeof call.event === 'string' && trimmedLength(call.event) >= 1 && trimmedLength(call.event) <= 256,
    );
    check('userId', isId(call.userId));
    check('companyId', call.companyId === undefined || isId(call.companyId));
  }
  if (type === 'feedback') {
    check('featureId', isId(call.featureId) || (call.featureId === undefined && call.key !== undefined));
    check('key', call.key === undefined || isId(call.key));
    if (isId(call.featureId) && isId(call.key)) check('key', idText(call.featureId) === idText(call.key));
    for (const name of ['question', 'promptedQuestion'] as const)
      check(name, call[name] === undefined || isText(call[name]));
    for (const name of ['promptId', 'feedbackId'] as const) check(name, call[name] === undefined || isId(call[name]));
    check('source', call.source === undefined || isLabel(call.source));
    check('userId', isId(call.userId));
    check('companyId', call.companyId === undefined || isId(call.companyId));
    check(
      'score',
      call.score === undefined
        ? call.comment !== undefined
        : Number.isSafeInteger(call.score) && (call.score as number) >= 1 && (call.score as number) <= 5,
    );
    check(
      'comment',
      call.comment === undefined || (typeof call.comment === 'string' && characters(call.comment) <= 10_000),
    );
  }
  if (type === 'feature-flag-event') {
    check('action', isLabel(call.action));
    check('key', isId(call.key));
    check('evalContext', call.evalContext === undefined || call.evalContext === null || isObject(call.evalContext));
  }
  if (type === 'prompt-event') {
    check('action', isLabel(call.action));
    check('featureId', isId(call.featureId));
    check('userId', isId(call.userId));
    check('promptId', call.promptId === undefined || isId(call.promptId));
    check('promptedQuestion', call.promptedQuestion === undefined || isText(call.promptedQuestion));
  }
  check('attributes', call.attributes === undefined || isObject(call.attributes));
  check(
    'context',
    call.context === undefined ||
      (isObject(call.context) && (call.context.active === undefined || typeof call.context.active === 'boolean')),
  );
  check(
    'messageId',
    typeof call.messageId === 'string' && characters(call.messageId) >= 1 && characters(call.messageId) <= 256,
  );
  if (call.timestamp !== undefined) {
    if (!isTimestampText(call.timestamp) && typeof call.timestamp !== 'number') invalid.push(field('timestamp'));
    else {
      const at = timestampInstant(call.timestamp);
      if (at < FIRST_INSTANT || at > Date.now() + DAY_MS) outOfRange.push(field('timestamp'));
    }
  }
  return { tooDeep, invalid, outOfRange };
}

/** JSON text of the fields that are present (as the server keeps them), or null. */
function presentFields(fields: Record<string, unknown>): string | null {
  const kept = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return Object.keys(kept).length === 0 ? null : JSON.stringify(repaired(kept));
}

/** An id of the evaluation context, as the server puts it in a column: null when unusable. */
function contextId(context: unknown, entity: 'user' | 'company'): string | null {
  const holder = isObject(context) ? context[entity] : undefined;
  if (!isObject(holder)) return null;
  if (typeof holder.id === 'number') return String(holder.id);
  return isLabel(holder.id) ? wellFormed(holder.id as string).trim() : null;
}

/** The row the lake must hold for an accepted call (received_at aside). */
function expectedRow(type: CallType, sent: Call, source: 'api' | 'bulk') {
  const at = sent.timestamp === undefined ? undefined : new Date(timestampInstant(sent.timestamp as string | number));
  const shared = {
    event_id: wellFormed(sent.messageId as string),
    event_type: EVENT_TYPE[type],
    score: null,
    comment: null,
    context_active: true,
    timestamp: at?.toISOString() ?? 'the receive time',
    dt: at?.toISOString().slice(0, 10) ?? 'the receive date',
    source,
  };
  if (type === 'feature-flag-event') {
    return {
      ...shared,
      event_name: wellFormed(sent.action as string).trim(),
      user_id: contextId(sent.evalContext, 'user'),
      company_id: contextId(sent.evalContext, 'company'),
      feature_id: idText(sent.key),
      attributes: presentFields({
        targetingVersion: sent.targetingVersion,
        evalResult: sent.evalResult,
        evalContext: sent.evalContext,
        evalRuleResults: sent.evalRuleResults,
        evalMissingFields: sent.evalMissingFields,
      }),
    };
  }
  if (type === 'prompt-event') {
    return {
      ...shared,
      event_name: wellFormed(sent.action as string).trim(),
      user_id: idText(sent.userId),
      company_id: null,
      feature_id: idText(sent.featureId),
      attributes: presentFields({
        promptId: sent.promptId === undefined ? undefined : idText(sent.promptId),
        promptedQuestion: sent.promptedQuestion,
      }),
    };
  }
  let attributes = sent.attributes === undefined ? null : JSON.stringify(repaired(sent.attributes));
  if (type === 'feedback' && FEEDBACK_EXTRAS.some((name) => sent[name] !== undefined)) {
    const merged: Record<string, unknown> = { ...(sent.attributes as Record<string, unknown> | undefined) };
    for (const name of FEEDBACK_EXTRAS) {
      const value = sent[name];
      if (value === undefined) continue;
      merged[name] =
        name === 'promptId' || name === 'feedbackId'
          ? idText(value)
          : name === 'source'
            ? wellFormed(value as string).trim()
            : value;
    }
    attributes = JSON.stringify(repaired(merged));
  }
  return {
    event_id: wellFormed(sent.messageId as string),
    event_type: EVENT_TYPE[type],
    event_name: type === 'event' ? wellFormed(sent.event as string).trim() : null,
    user_id: sent.userId === undefined ? null : idText(sent.userId),
    company_id: type === 'user' || sent.companyId === undefined ? null : idText(sent.companyId),
    feature_id: type === 'feedback' ? idText(sent.featureId ?? sent.key) : null,
    score: type === 'feedback' ? ((sent.score as number | undefined) ?? null) : null,
    comment: type === 'feedback' && typeof sent.comment === 'string' ? wellFormed(sent.comment) : null,
    attributes,
    context_active: (sent.context as { active?: boolean } | undefined)?.active ?? true,
    timestamp: at?.toISOString() ?? 'the receive time',
    dt: at?.toISOString().slice(0, 10) ?? 'the receive date',
    source,
  };
}

// ---------------------------------------------------------------------------
// Sending and reading back
// ---------------------------------------------------------------------------

let nextPrefix = 0;
/** A fresh `p<n>-` per property run: the messageId prefix that finds its rows. */
const freshPrefix = () => `p${String(nextPrefix++).padStart(6, '0')}-`;

const TEXT_COLUMNS = ['event_id', 'event_name', 'user_id', 'company_id', 'feature_id', 'comment', 'attributes'];
/**
 * Text columns come back behind a `|`: @duckdb/node-api decodes VARCHARs with a
 * default TextDecoder, which drops a leading U+FEFF from what the lake holds intact
 * (docs/input-rules.md), and this test checks what the lake holds.
 */
const lakeColumns = [
  ...TEXT_COLUMNS.map((column) => `'|' || ${column} AS ${column}`),
  'event_type, score, context_active, timestamp, received_at, dt, source, shard, received',
].join(', ');

async function rowsWithPrefix(prefix: string): Promise<Array<Record<string, unknown>>> {
  const rows = await admin(stack).sql(
    `SELECT ${lakeColumns} FROM events WHERE app_id = ? AND starts_with(event_id, ?) ORDER BY event_id`,
    [env.environment_id, prefix],
  );
  return rows.map((row) => {
    const out: Record<string, unknown> = { ...row };
    for (const column of TEXT_COLUMNS) {
      const value = row[column];
      out[column] = typeof value === 'string' ? value.slice(1) : value;
    }
    return out;
  });
}

/**
 * The row as the oracle sees it: the receive time stands in for a missing timestamp.
 * Whatever the timestamp, the row lies in its environment's shard under its receive date.
 */
function comparable(row: Record<string, unknown>, timestampSent: boolean) {
  const { received_at, shard, received, ...rest } = row;
  expect(shard).toBe(lakeShard(env.environment_id));
  expect(received).toBe(String(received_at).slice(0, 10));
  if (!timestampSent) {
    expect(row.timestamp).toBe(received_at);
    return { ...rest, timestamp: 'the receive time', dt: 'the receive date' };
  }
  return rest;
}

function expectRefusal(response: { status: number; body: any; text: string }, verdicts: Verdict[], bytes: number) {
  expect(response.status, response.text).toBe(400);
  const fields: string[] = response.body.errors.map((e: { field: string }) => e.field);
  for (const entry of response.body.errors) {
    expect(entry.details.startsWith(`${entry.field}: `), response.text).toBe(true);
  }
  expect(fields.length).toBeGreaterThan(0);
  if (bytes > MAX_BODY_BYTES) {
    expect(fields).toEqual(['body']);
    return;
  }
  const tooDeep = verdicts.flatMap((v) => v.tooDeep);
  if (tooDeep.length > 0) {
    expect(fields).toHaveLength(1);
    expect(tooDeep, response.text).toContain(fields[0]);
    expect(response.body.errors[0].details).toBe(`${fields[0]}: nests deeper than ${MAX_NESTING_DEPTH} levels`);
    return;
  }
  const invalid = verdicts.flatMap((v) => v.invalid);
  const allowed = invalid.length > 0 ? invalid : verdicts.flatMap((v) => v.outOfRange);
  for (const field of fields) expect(allowed, response.text).toContain(field);
}

/**
 * Where the call carries its key (issue 12): seed 001's path, `Authorization: Bearer`
 * with the tracking key or the API key, or `?publishableKey=`.
 */
type KeyForm = 'path' | 'bearer' | 'bearer-api-key' | 'query';
const keyForm = fc.constantFrom<KeyForm>('path', 'bearer', 'bearer-api-key', 'query');

function trackingRequest(route: string, form: KeyForm): { url: string; headers: Record<string, string> } {
  const headers = { 'content-type': 'application/json' };
  // `POST /features/events` has no path form.
  if (form === 'path' && route !== 'features/events') {
    return { url: `${stack.url}/${env.tracking_key}/${route}`, headers };
  }
  if (form === 'query') return { url: `${stack.url}/${route}?publishableKey=${env.tracking_key}`, headers };
  const key = form === 'bearer-api-key' ? env.api_key : env.tracking_key;
  return { url: `${stack.url}/${route}`, headers: { ...headers, authorization: `Bearer ${key}` } };
}

async function sendOne(method: string, type: CallType, call: Call, form: KeyForm): Promise<void> {
  const prefix = freshPrefix();
  const sent: Call = {
    ...call,
    messageId: typeof call.messageId === 'string' ? prefix + call.messageId : call.messageId,
  };
  const body = serialize(sent);
  const { url, headers } = trackingRequest(method, form);
  const response = await http(url, { headers, raw: body });
  const verdict = judge(type, sent, '');
  const bytes = Buffer.byteLength(body);
  const acceptable =
    bytes <= MAX_BODY_BYTES && [verdict.tooDeep, verdict.invalid, verdict.outOfRange].every((f) => f.length === 0);
  if (!acceptable) {
    expectRefusal(response, [verdict], bytes);
    refused++;
    expect(await rowsWithPrefix(prefix)).toEqual([]);
    return;
  }
  expect(response.status, response.text).toBe(200);
  expect(response.body).toEqual({ success: true });
  accepted++;
  const rows = await rowsWithPrefix(prefix);
  expect(rows.map((row) => comparable(row, sent.timestamp !== undefined))).toEqual([
    expectedRow(type, JSON.parse(body), 'api'),
  ]);
}

// ---------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------

describe('every tracking method takes anything a client sends: a 400 naming fields, or a 200 that reads back', () => {
  const methods: Array<[string, CallType]> = [
    ['user', 'user'],
    ['company', 'company'],
    ['event', 'event'],
    ['events', 'event'],
    ['feedback', 'feedback'],
    ['features/events', 'feature-flag-event'],
    ['feedback/prompt-events', 'prompt-event'],
  ];
  for (const [method, type] of methods) {
    test.prop([callOf(type), keyForm], { numRuns: RUNS })(
      `/${method}`,
      async (call, form) => {
        await sendOne(method, type, call, form);
      },
      TIMEOUT,
    );
  }

  test.prop(
    [
      fc
        .array(
          fc.constantFrom<CallType>('user', 'company', 'event', 'feedback', 'feature-flag-event', 'prompt-event'),
          { minLength: 1, maxLength: 4 },
        )
        .chain((types) =>
          fc.tuple(
            fc.constant(types),
            fc.tuple(...types.map((type) => callOf(type))),
            fc.option(hostileJson, { nil: undefined, freq: 6 }),
          ),
        ),
      keyForm,
    ],
    { numRuns: RUNS },
  )(
    '/bulk',
    async ([types, calls, stray], form) => {
      const prefix = freshPrefix();
      const items: Call[] = calls.map((call, index) => ({
        type: types[index],
        ...call,
        messageId: typeof call.messageId === 'string' ? `${prefix}${index}-${call.messageId}` : call.messageId,
      }));
      // Now and then an item that is not a call at all.
      const sent: unknown[] = stray === undefined ? items : [...items, stray];
      const body = serialize(sent);
      const { url, headers } = trackingRequest('bulk', form);
      const response = await http(url, { headers, raw: body });
      const bytes = Buffer.byteLength(body);
      const verdicts = items.map((item, index) => judge(types[index] as CallType, item, `[${index}].`));
      if (stray !== undefined) {
        const index = items.length;
        const strayType = isObject(stray) ? stray.type : undefined;
        verdicts.push({
          tooDeep: isObject(stray)
            ? Object.entries(stray)
                .filter(([, value]) => nestingDepth(value) > MAX_NESTING_DEPTH)
                .map(([key]) => `[${index}].${wellFormed(key)}`)
            : nestingDepth(stray) + 1 > MAX_NESTING_DEPTH
              ? [`[${index}]`]
              : [],
          // A stray object that happens to carry a valid type is judged loosely: any of its fields.
          invalid: [
            `[${index}].type`,
            ...(typeof strayType === 'string' ? KNOWN_FIELDS.map((f) => `[${index}].${f}`) : []),
          ],
          outOfRange: [],
        });
      }
      const acceptable =
        bytes <= MAX_BODY_BYTES &&
        verdicts.every((v) => [v.tooDeep, v.invalid, v.outOfRange].every((f) => f.length === 0));
      if (!acceptable) {
        expectRefusal(response, verdicts, bytes);
        refused++;
        expect(await rowsWithPrefix(prefix)).toEqual([]);
        return;
      }
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual({ success: true, accepted: items.length });
      accepted++;
      const parsed = JSON.parse(body) as Call[];
      const rows = await rowsWithPrefix(prefix);
      expect(rows.map((row, index) => comparable(row, parsed[index]?.timestamp !== undefined))).toEqual(
        parsed.map((item, index) => {
          const { type: _type, ...call } = item;
          return expectedRow(types[index] as CallType, call, 'bulk');
        }),
      );
    },
    TIMEOUT,
  );

  const headerText = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 40,
  });
  const pathSegment = fc
    .uint8Array({ minLength: 1, maxLength: 12 })
    .map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''))
    // `%2e` and `%2e%2e` are dot segments: the URL parser removes them before the request
    // leaves (`/%2e/event` is sent as `/event`, a call with no key, a 401), so they name no key.
    .filter((segment) => !/^(%2e){1,2}$/i.test(segment));
  test.prop([pathSegment, pathSegment, headerText], { numRuns: RUNS })(
    'arbitrary tracking keys, methods and Content-Types are a 4xx naming what is wrong',
    async (key, method, contentType) => {
      const unknownKey = await http(`${stack.url}/${key}/event`, {
        headers: { 'content-type': 'application/json' },
        raw: '{"event":"e","userId":"u"}',
      });
      expect(unknownKey.status, unknownKey.text).toBe(404);
      const unknownMethod = await http(`${stack.url}/${env.tracking_key}/${method}`, {
        headers: { 'content-type': 'application/json' },
        raw: '{"event":"e","userId":"u"}',
      });
      expect([400, 404], unknownMethod.text).toContain(unknownMethod.status);
      const typed = await http(`${stack.url}/${env.tracking_key}/event`, {
        headers: { 'content-type': contentType },
        raw: `{"event":"e","userId":"u","messageId":"${freshPrefix()}ct"}`,
      });
      const json = contentType.split(';')[0]?.trim().toLowerCase() === 'application/json';
      expect(typed.status, typed.text).toBe(json ? 200 : 400);
      if (!json) expect(typed.body.errors[0].field).toBe('Content-Type');
    },
    TIMEOUT,
  );
});

describe('keys in any header and query form, on every SDK route: never a 5xx', () => {
  const SDK_ROUTES: Array<{ method: 'GET' | 'POST'; path: string }> = [
    ...['user', 'company', 'event', 'events', 'feedback', 'bulk'].map((m) => ({ method: 'POST' as const, path: m })),
    { method: 'POST', path: 'features/events' },
    { method: 'POST', path: 'feedback/prompt-events' },
    { method: 'POST', path: 'feedback/prompting-init' },
    { method: 'POST', path: 'flags/opt-in' },
    { method: 'GET', path: 'features' },
    { method: 'GET', path: 'features/evaluated' },
    { method: 'GET', path: 'features/enabled' },
    { method: 'GET', path: 'sse/client' },
  ];
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 60,
  });
  /** Authorization in any form: real keys under any scheme and spacing, or any text. */
  const authorization = fc.option(
    fc.oneof(
      fc
        .tuple(
          fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Token', 'Basic', ''),
          fc.constantFrom(' ', '  ', '\t'),
          fc.constantFrom<'tracking' | 'api' | 'other'>('tracking', 'api', 'other'),
          printable,
        )
        .map(([scheme, space, which, other]) =>
          `${scheme}${space}${which === 'tracking' ? env.tracking_key : which === 'api' ? env.api_key : other}`.trim(),
        ),
      printable,
    ),
    { nil: undefined, freq: 3 },
  );
  /** A query string: publishableKey (real, other, empty, repeated) among arbitrary parameters. */
  const query = fc
    .tuple(
      fc.option(fc.oneof(fc.constant('real'), hostileString), { nil: undefined, freq: 3 }),
      fc.array(fc.tuple(hostileString, hostileString), { maxLength: 3 }),
    )
    .map(([key, extra]) => {
      const params = new URLSearchParams();
      // Short enough to stay under node:http's 16 KB header limit (its 431 is no handler's answer).
      const short = (text: string) => wellFormed(text).slice(0, 100);
      for (const [name, value] of extra) params.append(short(name), short(value));
      if (key !== undefined) params.append('publishableKey', key === 'real' ? env.tracking_key : short(key));
      return params.toString();
    });
  const body = fc.oneof(
    hostileJson.map((value) => serialize(value)),
    fc.constant('[{"type":"user","userId":"u"}]'),
    fc.constant('{"event":"e","userId":"u","action":"check","key":"k","featureId":"f","score":3}'),
  );

  test.prop([fc.constantFrom(...SDK_ROUTES), authorization, query, body], { numRuns: RUNS * 2 })(
    'any Authorization, query and body on any SDK route is answered below 500',
    async (route, auth, search, raw) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (auth !== undefined) headers.authorization = auth;
      const response = await http(`${stack.url}/${route.path}${search ? `?${search}` : ''}`, {
        method: route.method,
        headers,
        ...(route.method === 'POST' ? { raw } : {}),
      });
      expect(response.status, response.text).toBeLessThan(500);
      if (response.status >= 400) {
        expect(response.body.errors?.length, response.text).toBeGreaterThan(0);
      } else {
        expect([200, 204]).toContain(response.status);
      }
    },
    TIMEOUT,
  );
});

describe('after the properties', () => {
  it('the store answers queries, and again after a restart on the same data', async () => {
    console.log(`tracking properties: ${accepted} calls accepted and read back, ${refused} refused`);
    // The properties must have exercised both outcomes, or they proved nothing.
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const count = 'SELECT count(*) AS n FROM events WHERE app_id = ?';
    const before = await admin(stack).sql<{ n: number }>(count, [env.environment_id]);
    expect(before[0]?.n).toBeGreaterThan(0);
    running = false;
    await stack.close();
    stack = await startLocalStack({ home, port: 0 });
    running = true;
    expect(await admin(stack).sql(count, [env.environment_id])).toEqual(before);
  });
});
