import { z } from 'zod';

/**
 * Filters over a company's attributes, shared by segments and attribute-based
 * features (DESIGN "Filter operators"). `matches` is the one definition of what
 * each operator means: the API validates against it, the rollup's SQL must agree
 * with it, and the test oracle calls it directly.
 */

export const FILTER_OPERATORS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'in',
  'is_set',
  'is_not_set',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export const NUMERIC_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;
export const PRESENCE_OPERATORS = ['is_set', 'is_not_set'] as const;
type NumericOperator = (typeof NUMERIC_OPERATORS)[number];
type PresenceOperator = (typeof PRESENCE_OPERATORS)[number];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A filter as stored. `value` is always present so that every consumer (SQL
 * binding, the oracle, the API's responses) reads one shape; the presence
 * operators carry `null`.
 */
export type Filter =
  | { attribute: string; operator: 'eq' | 'neq' | 'contains'; value: JsonValue }
  | { attribute: string; operator: NumericOperator; value: number }
  | { attribute: string; operator: 'in'; value: JsonValue[] }
  | { attribute: string; operator: PresenceOperator; value: null };

export const MAX_ATTRIBUTE_NAME_LENGTH = 200;
/** Most values one `in` filter may list; larger lists belong in an attribute of their own. */
export const MAX_IN_VALUES = 1000;

const isNumericOperator = (op: FilterOperator): op is NumericOperator =>
  (NUMERIC_OPERATORS as readonly string[]).includes(op);
const isPresenceOperator = (op: FilterOperator): op is PresenceOperator =>
  (PRESENCE_OPERATORS as readonly string[]).includes(op);

/** Equality as JSON values: arrays element by element in order, objects by key regardless of key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every(
    (key) =>
      Object.hasOwn(b, key) && jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Whether a company's attributes satisfy one filter. Attributes are looked up by
 * their exact top-level key (a dot is part of the name, not a path), and only own
 * keys count, so `constructor` or `__proto__` are ordinary attribute names.
 */
export function matches(attributes: Readonly<Record<string, unknown>> | null | undefined, filter: Filter): boolean {
  const present = attributes != null && Object.hasOwn(attributes, filter.attribute);
  const actual = present ? attributes[filter.attribute] : undefined;
  // JSON has no undefined: an attribute holding it is as good as missing.
  if (actual === undefined) return filter.operator === 'neq' || filter.operator === 'is_not_set';
  switch (filter.operator) {
    case 'eq':
      return jsonEqual(actual, filter.value);
    case 'neq':
      return !jsonEqual(actual, filter.value);
    case 'gt':
      return isNumber(actual) && actual > filter.value;
    case 'gte':
      return isNumber(actual) && actual >= filter.value;
    case 'lt':
      return isNumber(actual) && actual < filter.value;
    case 'lte':
      return isNumber(actual) && actual <= filter.value;
    case 'contains':
      if (typeof actual === 'string') return typeof filter.value === 'string' && actual.includes(filter.value);
      return Array.isArray(actual) && actual.some((item) => jsonEqual(item, filter.value));
    case 'in':
      return filter.value.some((item) => jsonEqual(item, actual));
    case 'is_set':
      return actual !== null;
    case 'is_not_set':
      return actual === null;
  }
}

/** True for what JSON.parse can produce; guards callers that build filters in code. */
export function isJsonValue(value: unknown): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    return (proto === Object.prototype || proto === null) && Object.values(value).every(isJsonValue);
  }
  return false;
}

/** What is wrong with `value` for `operator`, or undefined when it fits. */
export function valueProblem(operator: FilterOperator, value: unknown): string | undefined {
  if (isPresenceOperator(operator)) {
    return value === undefined || value === null ? undefined : `must be left out (or null) for ${operator}`;
  }
  if (value === undefined) {
    if (isNumericOperator(operator)) return `is required: a number to compare with (${operator})`;
    if (operator === 'in') return 'is required: an array of the values to match';
    return `is required for ${operator} (any JSON value)`;
  }
  if (isNumericOperator(operator)) return isNumber(value) ? undefined : `must be a number for ${operator}`;
  if (operator === 'in') {
    if (!Array.isArray(value)) return 'must be an array of the values to match for in';
    if (value.length > MAX_IN_VALUES) return `must list at most ${MAX_IN_VALUES} values`;
  }
  return isJsonValue(value) ? undefined : 'must be a JSON value';
}

export const attributeName = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
  .min(1, 'must not be empty')
  .max(MAX_ATTRIBUTE_NAME_LENGTH, `must be at most ${MAX_ATTRIBUTE_NAME_LENGTH} characters`);

export const filterOperator = z.enum(FILTER_OPERATORS, {
  error: (i) => (i.input === undefined ? 'is required' : `must be one of ${FILTER_OPERATORS.join(', ')}`),
});

/** The fields a filter is made of; attribute features carry the same three at their top level. */
export const filterShape = {
  attribute: attributeName,
  operator: filterOperator,
  value: z.unknown().optional(),
};

/**
 * Refines an object holding `filterShape`: checks `value` against its operator.
 * Runs even when `attribute` failed (so both are reported), but not when the
 * operator itself is unknown, since then nothing can be said about the value.
 */
export function withValueCheck<T extends z.ZodType<{ operator: FilterOperator; value?: unknown }>>(schema: T): T {
  return schema.refine((input) => valueProblem(input.operator as FilterOperator, input.value) === undefined, {
    path: ['value'],
    error: (issue) => {
      const input = issue.input as { operator: FilterOperator; value: unknown };
      return valueProblem(input.operator, input.value) ?? 'is invalid';
    },
    when: (payload) => {
      const operator = (payload.value as { operator?: unknown } | undefined)?.operator;
      return (FILTER_OPERATORS as readonly unknown[]).includes(operator);
    },
  });
}

/** Builds the stored filter from validated fields (presence operators get `value: null`). */
export function toFilter(input: { attribute: string; operator: FilterOperator; value?: unknown }): Filter {
  return {
    attribute: input.attribute,
    operator: input.operator,
    value: isPresenceOperator(input.operator) ? null : (input.value as JsonValue),
  } as Filter;
}

/** `{attribute, operator, value}`: value required and typed per operator; unknown fields dropped. */
export const filterSchema = withValueCheck(z.object(filterShape, { error: 'must be an object' })).transform(toFilter);
