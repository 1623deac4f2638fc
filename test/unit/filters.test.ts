import { describe, expect, it } from 'vitest';
import { type Filter, filterSchema, jsonEqual, matches } from '../../lambdas/core/shared/filters.ts';

const company = {
  plan: 'pro',
  seats: 12,
  score: 4.5,
  active: true,
  churned: false,
  region: null,
  seats_text: '12',
  tags: ['beta', 'eu', 3, { tier: 1 }],
  domain: 'acme.example.com',
  address: { city: 'Oslo', zip: '0150' },
  empty: '',
  'billing.plan': 'annual',
  constructor: 'not a function',
};

const f = (attribute: string, operator: Filter['operator'], value?: unknown): Filter =>
  ({ attribute, operator, value: value ?? null }) as Filter;

/** [filter, expected] on `company` above. */
const CASES: ReadonlyArray<[string, Filter, boolean]> = [
  // eq / neq: JSON-value equality, no coercion
  ['eq string', f('plan', 'eq', 'pro'), true],
  ['eq is case-sensitive', f('plan', 'eq', 'Pro'), false],
  ['eq number', f('seats', 'eq', 12), true],
  ['eq number vs numeric string', f('seats', 'eq', '12'), false],
  ['eq numeric string vs number', f('seats_text', 'eq', 12), false],
  ['eq boolean', f('active', 'eq', true), true],
  ['eq false is not missing', f('churned', 'eq', false), true],
  ['eq null attribute', f('region', 'eq', null), true],
  ['eq array, same order', f('tags', 'eq', ['beta', 'eu', 3, { tier: 1 }]), true],
  ['eq array, other order', f('tags', 'eq', ['eu', 'beta', 3, { tier: 1 }]), false],
  ['eq object, key order ignored', f('address', 'eq', { zip: '0150', city: 'Oslo' }), true],
  ['eq object, extra key', f('address', 'eq', { city: 'Oslo' }), false],
  ['eq missing attribute', f('nope', 'eq', 'x'), false],
  ['eq missing attribute vs null', f('nope', 'eq', null), false],
  ['neq different', f('plan', 'neq', 'free'), true],
  ['neq same', f('plan', 'neq', 'pro'), false],
  ['neq type differs', f('seats', 'neq', '12'), true],
  ['neq missing attribute', f('nope', 'neq', 'x'), true],
  ['neq missing attribute vs null', f('nope', 'neq', null), true],
  ['neq null attribute vs null', f('region', 'neq', null), false],
  // gt / gte / lt / lte: both numbers, else false
  ['gt', f('seats', 'gt', 11), true],
  ['gt equal', f('seats', 'gt', 12), false],
  ['gte equal', f('seats', 'gte', 12), true],
  ['gte fraction', f('score', 'gte', 4.5), true],
  ['lt', f('seats', 'lt', 13), true],
  ['lt equal', f('seats', 'lt', 12), false],
  ['lte equal', f('seats', 'lte', 12), true],
  ['lte negative', f('seats', 'lte', -1), false],
  ['gt numeric string is not a number', f('seats_text', 'gt', 1), false],
  ['lt numeric string is not a number', f('seats_text', 'lt', 100), false],
  ['gt boolean is not a number', f('active', 'gt', 0), false],
  ['gte null is not a number', f('region', 'gte', 0), false],
  ['lte array is not a number', f('tags', 'lte', 100), false],
  ['gt missing', f('nope', 'gt', 0), false],
  ['lt missing', f('nope', 'lt', 0), false],
  // contains: substring of a string, or element of an array
  ['contains substring', f('domain', 'contains', 'example'), true],
  ['contains is case-sensitive', f('domain', 'contains', 'EXAMPLE'), false],
  ['contains empty string in a string', f('domain', 'contains', ''), true],
  ['contains number in a string', f('seats_text', 'contains', 1), false],
  ['contains array element', f('tags', 'contains', 'eu'), true],
  ['contains array element, number', f('tags', 'contains', 3), true],
  ['contains array element, object', f('tags', 'contains', { tier: 1 }), true],
  ['contains array, substring of an element', f('tags', 'contains', 'bet'), false],
  ['contains array, type differs', f('tags', 'contains', '3'), false],
  ['contains on a number', f('seats', 'contains', 1), false],
  ['contains on an object', f('address', 'contains', 'Oslo'), false],
  ['contains on null', f('region', 'contains', 'x'), false],
  ['contains missing', f('nope', 'contains', 'x'), false],
  // in: the value lists the attribute's value
  ['in listed', f('plan', 'in', ['free', 'pro']), true],
  ['in not listed', f('plan', 'in', ['free', 'enterprise']), false],
  ['in type differs', f('seats', 'in', ['12']), false],
  ['in number', f('seats', 'in', [12, 13]), true],
  ['in object', f('address', 'in', [{ city: 'Oslo', zip: '0150' }]), true],
  ['in null attribute listed', f('region', 'in', [null]), true],
  ['in empty list', f('plan', 'in', []), false],
  ['in missing', f('nope', 'in', ['x', null]), false],
  // is_set / is_not_set
  ['is_set value', f('plan', 'is_set'), true],
  ['is_set false', f('churned', 'is_set'), true],
  ['is_set empty string', f('empty', 'is_set'), true],
  ['is_set null', f('region', 'is_set'), false],
  ['is_set missing', f('nope', 'is_set'), false],
  ['is_not_set null', f('region', 'is_not_set'), true],
  ['is_not_set missing', f('nope', 'is_not_set'), true],
  ['is_not_set value', f('plan', 'is_not_set'), false],
  // names are exact top-level keys
  ['a dot is part of the name', f('billing.plan', 'eq', 'annual'), true],
  ['no nested lookup', f('address.city', 'eq', 'Oslo'), false],
  ['inherited names are not attributes', f('toString', 'is_set'), false],
  ['own "constructor" is an attribute', f('constructor', 'eq', 'not a function'), true],
];

describe('matches', () => {
  it.each(CASES)('%s', (_name, filter, expected) => {
    expect(matches(company, filter)).toBe(expected);
  });

  it('treats no attributes at all as every attribute missing', () => {
    for (const attributes of [null, undefined, {}]) {
      expect(matches(attributes, f('plan', 'eq', 'pro'))).toBe(false);
      expect(matches(attributes, f('plan', 'neq', 'pro'))).toBe(true);
      expect(matches(attributes, f('plan', 'is_not_set'))).toBe(true);
      expect(matches(attributes, f('plan', 'is_set'))).toBe(false);
      expect(matches(attributes, f('plan', 'in', [null]))).toBe(false);
    }
  });

  it('reads an own __proto__ key (as JSON.parse makes it) as an attribute', () => {
    const attributes = JSON.parse('{"__proto__": "x"}') as Record<string, unknown>;
    expect(matches(attributes, f('__proto__', 'eq', 'x'))).toBe(true);
    expect(matches({}, f('__proto__', 'is_set'))).toBe(false);
  });
});

describe('jsonEqual', () => {
  it('compares JSON values structurally', () => {
    expect(jsonEqual([1, [2, { a: null }]], [1, [2, { a: null }]])).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual(0, false)).toBe(false);
    expect(jsonEqual('', null)).toBe(false);
  });
});

describe('filterSchema', () => {
  const parse = (input: unknown) => filterSchema.safeParse(input);
  const problems = (input: unknown) => {
    const result = parse(input);
    expect(result.success).toBe(false);
    return result.error?.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) ?? [];
  };

  it('accepts any JSON value for eq, neq and contains, including null', () => {
    for (const operator of ['eq', 'neq', 'contains']) {
      for (const value of ['x', 0, false, null, [1], { a: [] }]) {
        expect(parse({ attribute: 'a', operator, value }).data).toEqual({ attribute: 'a', operator, value });
      }
    }
  });

  it('requires a number for the comparisons', () => {
    for (const operator of ['gt', 'gte', 'lt', 'lte']) {
      expect(parse({ attribute: 'a', operator, value: 1.5 }).success).toBe(true);
      expect(problems({ attribute: 'a', operator, value: '1' })).toEqual([
        { path: 'value', message: `must be a number for ${operator}` },
      ]);
      expect(problems({ attribute: 'a', operator })).toEqual([
        { path: 'value', message: `is required: a number to compare with (${operator})` },
      ]);
    }
  });

  it('requires an array for in', () => {
    expect(parse({ attribute: 'a', operator: 'in', value: [] }).success).toBe(true);
    expect(problems({ attribute: 'a', operator: 'in', value: 'pro' })).toEqual([
      { path: 'value', message: 'must be an array of the values to match for in' },
    ]);
    expect(problems({ attribute: 'a', operator: 'in', value: Array(1001).fill(1) })).toEqual([
      { path: 'value', message: 'must list at most 1000 values' },
    ]);
  });

  it('requires a value for eq (null counts), and none for the presence operators', () => {
    expect(problems({ attribute: 'a', operator: 'eq' })).toEqual([
      { path: 'value', message: 'is required for eq (any JSON value)' },
    ]);
    expect(parse({ attribute: 'a', operator: 'is_set' }).data).toEqual({
      attribute: 'a',
      operator: 'is_set',
      value: null,
    });
    expect(parse({ attribute: 'a', operator: 'is_not_set', value: null }).success).toBe(true);
    expect(problems({ attribute: 'a', operator: 'is_not_set', value: 'x' })).toEqual([
      { path: 'value', message: 'must be left out (or null) for is_not_set' },
    ]);
  });

  it('names a bad attribute and a bad value together, and drops unknown fields', () => {
    expect(problems({ attribute: '', operator: 'gt', value: 'x' })).toEqual([
      { path: 'attribute', message: 'must not be empty' },
      { path: 'value', message: 'must be a number for gt' },
    ]);
    expect(problems({ attribute: 'a', operator: 'like', value: 'x' })).toEqual([
      { path: 'operator', message: 'must be one of eq, neq, gt, gte, lt, lte, contains, in, is_set, is_not_set' },
    ]);
    expect(parse({ attribute: 'a', operator: 'eq', value: 1, note: 'x' }).data).toEqual({
      attribute: 'a',
      operator: 'eq',
      value: 1,
    });
  });

  it('refuses values JSON cannot carry when filters are built in code', () => {
    expect(problems({ attribute: 'a', operator: 'eq', value: Number.NaN })).toEqual([
      { path: 'value', message: 'must be a JSON value' },
    ]);
    expect(problems({ attribute: 'a', operator: 'in', value: [new Date(0)] })).toEqual([
      { path: 'value', message: 'must be a JSON value' },
    ]);
  });
});
