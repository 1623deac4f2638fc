import { type FieldProblem, ValidationError } from './errors.ts';

/**
 * The one decoding step every JSON request body goes through (tracking, catalog,
 * exports, settings, admin), before any schema sees it. It enforces DESIGN's
 * "Input rules that keep the store safe" (docs/input-rules.md):
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
    // Read before any key moves: a repaired key may overwrite another's value.
    const items = rekey ? keys.map((key) => container[key]) : undefined;
    for (const [index, key] of keys.entries()) {
      const item = items ? items[index] : container[key];
      const repaired = visit(frame, item, wellFormed(key), queue);
      if (rekey) {
        // Every key is taken out and put back in turn, so the object keeps its key order.
        delete container[key];
        defineOwn(container, wellFormed(key), repaired);
      } else if (repaired !== item) defineOwn(container, key, repaired);
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
