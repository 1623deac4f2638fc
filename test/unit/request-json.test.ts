import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lambdas/core/shared/errors.ts';
import { MAX_NESTING_DEPTH, parseRequestJson } from '../../lambdas/core/shared/request-body.ts';

const FFFD = '\uFFFD';

function problems(fn: () => unknown): Array<{ field: string; problem: string }> {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const nestedArrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('lone surrogates become U+FFFD', () => {
  it('in strings at any depth, in arrays, and at the top level; pairs stay whole', () => {
    expect(parseRequestJson('"a\\ud800"')).toBe(`a${FFFD}`);
    expect(parseRequestJson('{"a":["x\\udc00",{"b":"\\ud83d\\ude00\\ud83d"}],"n":1,"t":true,"z":null}')).toEqual({
      a: [`x${FFFD}`, { b: `\u{1F600}${FFFD}` }],
      n: 1,
      t: true,
      z: null,
    });
  });

  it('in keys, keeping the key order, and the later of two keys that become equal wins', () => {
    const value = parseRequestJson('{"first":1,"k\\ud800":2,"last":3}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['first', `k${FFFD}`, 'last']);
    expect(parseRequestJson(`{"k\\ud800":1,"k${FFFD}":2}`)).toEqual({ [`k${FFFD}`]: 2 });
    // As duplicate keys in JSON text: the first one's place, the last one's value.
    const merged = parseRequestJson(`{"\\ud800":1,"a":2,"${FFFD}":3}`) as Record<string, unknown>;
    expect(Object.entries(merged)).toEqual(Object.entries(JSON.parse(`{"${FFFD}":1,"a":2,"${FFFD}":3}`)));
    expect(Object.entries(merged)).toEqual([
      [FFFD, 3],
      ['a', 2],
    ]);
  });

  it('keeps __proto__ and constructor as plain keys when a sibling key is rewritten', () => {
    const value = parseRequestJson('{"__proto__":{"polluted\\ud800":true},"constructor":1,"x\\udfff":2}') as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor', `x${FFFD}`]);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ [`polluted${FFFD}`]: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(value)).toBe(`{"__proto__":{"polluted${FFFD}":true},"constructor":1,"x${FFFD}":2}`);
  });

  it('leaves well-formed text as it is: NUL, bidi marks, noncharacters, 4-byte characters', () => {
    const text = 'a\u0000b\u202Ec\u200F\uFFFE\u{10FFFF}\u{1F600}';
    expect(parseRequestJson(JSON.stringify({ [text]: text }))).toEqual({ [text]: text });
  });
});

describe(`nesting is bounded at ${MAX_NESTING_DEPTH} levels per field`, () => {
  it('accepts a field nesting exactly the bound, and names the field one level past it', () => {
    expect(parseRequestJson(`{"attributes":${nestedObjects(MAX_NESTING_DEPTH)}}`)).toBeTruthy();
    expect(problems(() => parseRequestJson(`{"attributes":${nestedObjects(MAX_NESTING_DEPTH + 1)}}`))).toEqual([
      { field: 'attributes', problem: `nests deeper than ${MAX_NESTING_DEPTH} levels` },
    ]);
  });

  it('counts from the field, so a bulk call gets the same bound as a single one', () => {
    expect(parseRequestJson(`[{"attributes":${nestedObjects(MAX_NESTING_DEPTH)}}]`)).toBeTruthy();
    expect(problems(() => parseRequestJson(`[{},{"attributes":${nestedArrays(MAX_NESTING_DEPTH + 1)}}]`))).toEqual([
      { field: '[1].attributes', problem: `nests deeper than ${MAX_NESTING_DEPTH} levels` },
    ]);
  });

  it('names the body, or its first index, for nesting outside any field', () => {
    expect(problems(() => parseRequestJson(nestedArrays(MAX_NESTING_DEPTH + 1)))[0]?.field).toBe('[0]');
    expect(parseRequestJson(nestedArrays(MAX_NESTING_DEPTH))).toBeTruthy();
  });

  it('walks 200,000 levels without recursion: a 400, not a stack overflow', () => {
    expect(problems(() => parseRequestJson(`{"a":${nestedArrays(200_000)}}`))[0]?.field).toBe('a');
  });
});

describe('what is not JSON', () => {
  it('is a 400 naming the body', () => {
    expect(problems(() => parseRequestJson('{"a":'))[0]?.field).toBe('body');
  });
});
