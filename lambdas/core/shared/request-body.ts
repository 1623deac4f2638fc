import type { z } from 'zod';
import { MAX_BODY_BYTES } from '../../contract/routes.ts';
import { type FieldProblem, ValidationError } from './errors.ts';

/**
 * The one parser every JSON request body goes through (tracking, catalog, exports,
 * settings, admin): the same malformed body gets the same 400 on every route, and
 * only the size cap differs, per route (BODY_LIMITS). Before any schema sees the
 * body it enforces DESIGN's "Input rules that keep the store safe" (docs/input-rules.md):
 *
 * - **Lone surrogates become U+FFFD**, in every string, object keys included. JSON
 *   text may carry `"\ud800"`; JSON.parse turns it into a JavaScript string that no
 *   UTF-8 encoder can write, and DuckDB (the local lake) and Firehose's Parquet
 *   conversion refuse the file it lands in, for every tenant. Replaced rather than
 *   refused: the vendors' SDKs drop a whole batch (up to 100 events) on any non-200
 *   and never retry, so one broken character must not cost the other events.
 * - **Nesting is bounded**: each field's value nests at most MAX_NESTING_DEPTH
 *   objects and arrays. Serialising, validating and marshalling code downstream
 *   (JSON.stringify, zod, DynamoDB, the rollup's JSON functions) recurses; past the
 *   bound a client gets a 400 naming the field instead of a stack overflow's 500.
 *
 * The walk itself is iterative: no client can drive this code deep.
 */

/**
 * How many levels of objects and arrays one field's value may nest (the field's own
 * object or array is level 1). Real product attributes use a handful; 64 leaves room
 * for any real document while keeping every recursive consumer far from its stack limit.
 */
export const MAX_NESTING_DEPTH = 64;

interface Frame {
  readonly container: Record<string, unknown> | unknown[];
  /** Levels of the container, counted from its field's value (or from the body while no field is named). */
  readonly depth: number;
  /** The top-level field the container belongs to (`attributes`, `[3].attributes`), once known. */
  readonly field: string | undefined;
  /** Where the container is while no field is named yet: `''` for the body, `[3]` for an item of a body array. */
  readonly path: string;
}

const wellFormed = (text: string): string => (text.isWellFormed() ? text : text.toWellFormed());

/** Sets an own data property: `__proto__` stays a key, never a prototype assignment. */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Repairs one child of `parent`'s container and, when it is an object or an array,
 * queues it, checking its depth. A field is named by the first key on the way down,
 * after at most one array index of the body (a bulk call's `[3].attributes`).
 */
function visit(parent: Frame, child: unknown, key: string | number, queue: Frame[]): unknown {
  if (typeof child === 'string') return wellFormed(child);
  if (typeof child !== 'object' || child === null) return child;
  let { field, path } = parent;
  let depth = parent.depth + 1;
  if (field === undefined) {
    if (typeof key === 'string') {
      field = path === '' ? key : `${path}.${key}`;
      depth = 1;
    } else if (path === '') path = `[${key}]`;
    else field = path;
  }
  if (depth > MAX_NESTING_DEPTH) {
    throw new ValidationError([{ field: field ?? path, problem: `nests deeper than ${MAX_NESTING_DEPTH} levels` }]);
  }
  queue.push({ container: child as Frame['container'], depth, field, path });
  return child;
}

/**
 * Makes a value JSON.parse produced safe to store, in place: lone surrogates become
 * U+FFFD everywhere, keys included (a repaired key that collides with another one
 * behaves as a duplicate key in JSON text does: the later one wins).
 * @throws ValidationError naming the top-level field that nests too deep
 */
export function repairRequestValue(value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (typeof value !== 'object' || value === null) return value;
  const queue: Frame[] = [{ container: value as Frame['container'], depth: 1, field: undefined, path: '' }];
  for (let frame = queue.pop(); frame !== undefined; frame = queue.pop()) {
    const { container } = frame;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const item = container[i];
        const repaired = visit(frame, item, i, queue);
        if (repaired !== item) container[i] = repaired;
      }
      continue;
    }
    const keys = Object.keys(container);
    const rekey = !keys.every((key) => key.isWellFormed());
    // Only when a key changes: the repaired keys and values, in order.
    const entries: [string, unknown][] | undefined = rekey ? [] : undefined;
    for (const key of keys) {
      const item = container[key];
      const fixedKey = wellFormed(key);
      const repaired = visit(frame, item, fixedKey, queue);
      if (entries) entries.push([fixedKey, repaired]);
      else if (repaired !== item) defineOwn(container, key, repaired);
    }
    if (entries) {
      // Every key taken out, then put back in order: keys that became equal keep the
      // first one's place and the last one's value, as duplicate keys in JSON text do.
      for (const key of keys) delete container[key];
      for (const [key, repaired] of entries) defineOwn(container, key, repaired);
    }
  }
  return value;
}

/**
 * Parses a request body's JSON text and repairs it (see above).
 * @throws ValidationError naming `body` when the text is not JSON, or the field that nests too deep
 */
export function parseRequestJson(text: string): unknown {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    const problem: FieldProblem = { field: 'body', problem: `is not valid JSON (${(error as Error).message})` };
    throw new ValidationError([problem]);
  }
  return repairRequestValue(payload);
}

/**
 * Largest request body of each kind of route. API Gateway alone would let 10 MB
 * through, and JSON.parse takes seconds on megabytes of nested brackets.
 */
export const BODY_LIMITS = {
  /** A bulk call of up to 100 events with their attributes (seed 001's SDKs batch 100). */
  tracking: MAX_BODY_BYTES,
  /**
   * A feature, segment or exclusions. A DynamoDB item holds at most 400 KB and the
   * stored item is about the size of the request, so a larger body would fail at the
   * write with an opaque 500 instead of a 400 that says why.
   */
  catalog: 256 * 1024,
  /** The rest are a few hundred bytes; 256 KB of nested brackets still parse in milliseconds. */
  companyExport: 256 * 1024,
  automaticExport: 256 * 1024,
  eventsExport: 256 * 1024,
  admin: 256 * 1024,
} as const;

export type BodyRoute = keyof typeof BODY_LIMITS;

const MB = 1024 * 1024;
const sizeLabel = (bytes: number) => (bytes % MB === 0 ? `${bytes / MB} MB` : `${bytes / 1024} KB`);

/**
 * Decodes a request body (API Gateway may base64 it), checks the route's size cap
 * and that it is not empty, and parses it as JSON under the input rules above.
 * @throws ValidationError naming `body` (or the field that nests too deep)
 */
export function readRequestJson(route: BodyRoute, body: string | undefined, isBase64Encoded = false): unknown {
  const raw = body ?? '';
  const decoded = isBase64Encoded ? Buffer.from(raw, 'base64') : undefined;
  const bytes = decoded ? decoded.length : Buffer.byteLength(raw, 'utf8');
  const limit = BODY_LIMITS[route];
  if (bytes > limit) {
    throw new ValidationError([
      { field: 'body', problem: `is ${bytes} bytes; the limit is ${limit} bytes (${sizeLabel(limit)})` },
    ]);
  }
  const text = decoded ? decoded.toString('utf8') : raw;
  if (text.trim() === '') throw new ValidationError([{ field: 'body', problem: 'is empty; send a JSON object' }]);
  return parseRequestJson(text);
}

/** The refusal of a body that is JSON but not the one object a route takes. */
export const NOT_AN_OBJECT: FieldProblem = { field: 'body', problem: 'must be a JSON object' };

/** Words the issues a schema does not word itself, the same on every route. */
function issueMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'object') return 'must be an object';
      if (issue.expected === 'array') return 'must be an array';
      return `must be a ${issue.expected}`;
    case 'too_small':
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    default:
      return issue.message ?? 'is invalid';
  }
}

/** `event_names[2]`, `filters[0].value`, `adoption.window_days`: the field as the client wrote it. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? 'body' : out;
}

/** Validates a parsed body that must be one JSON object, naming every failing field. */
export function parseRequestPayload<T extends z.ZodType>(schema: T, payload: unknown): z.output<T> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new ValidationError([NOT_AN_OBJECT]);
  }
  const result = schema.safeParse(payload, { error: issueMessage });
  if (result.success) return result.data;
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const issue of result.error.issues) {
    const problem = { field: fieldPath(issue.path), problem: issue.message };
    // An intersection can report one field from both sides.
    const key = `${problem.field}\u0000${problem.problem}`;
    if (!seen.has(key)) problems.push(problem);
    seen.add(key);
  }
  throw new ValidationError(problems);
}

/** The parser of every JSON route whose body is one object: readRequestJson, then the route's schema. */
export function parseRequestBody<T extends z.ZodType>(
  route: BodyRoute,
  schema: T,
  body: string | undefined,
  isBase64Encoded = false,
): z.output<T> {
  return parseRequestPayload(schema, readRequestJson(route, body, isBase64Encoded));
}
