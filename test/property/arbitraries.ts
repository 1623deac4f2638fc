import { fc } from '@fast-check/vitest';

/**
 * What the property suites generate: text that once broke the store or breaks
 * stores like it (lone surrogates, NUL, bidi marks, noncharacters, 4-byte
 * characters, very long strings), JSON values made of it, and nesting deep enough
 * to overflow a recursive walk.
 */

/**
 * Runs per property. Small by default so `npm test` stays quick; raise it for a long
 * run: `FEATURELAKE_PROPERTY_RUNS=2000 npx vitest run test/property`.
 */
export function propertyRuns(defaultRuns: number): number {
  const configured = Number(process.env.FEATURELAKE_PROPERTY_RUNS);
  return Number.isInteger(configured) && configured > 0 ? configured : defaultRuns;
}

/** `FEATURELAKE_PROPERTY_SEED=<seed>` replays the runs a failure printed (with its seed). */
const seed = Number(process.env.FEATURELAKE_PROPERTY_SEED);
if (process.env.FEATURELAKE_PROPERTY_SEED && Number.isInteger(seed)) fc.configureGlobal({ seed });

/** A long run may take its time; by default each property is a few seconds. */
export function propertyTimeoutMs(defaultRuns: number, msPerRun = 400): number {
  return Math.max(60_000, propertyRuns(defaultRuns) * msPerRun * 3);
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

const oddCharacters = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u200e',
  '\u200f',
  '\u202e',
  '\u2066',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\ufffe',
  '\uffff',
  '\u{1f600}',
  '\u{10ffff}',
  '\u{e0001}',
  'e\u0301',
  ' ',
  '\t',
  '\n',
  '\\',
  '"',
  "'",
  '%',
  '$',
  '.',
  '{',
  '[',
  '/',
  '?',
  '#',
);

/** One unit of hostile text: any code point, a lone surrogate half, or one of the characters above. */
const hostileUnit = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 4 },
  { arbitrary: loneSurrogate, weight: 2 },
  { arbitrary: oddCharacters, weight: 3 },
  { arbitrary: fc.constantFrom('a', 'b', 'x', '1', '-'), weight: 3 },
);

/** Short hostile text, mostly; now and then tens of thousands of characters. */
export const hostileString = fc.oneof(
  { arbitrary: fc.string({ unit: hostileUnit, maxLength: 24 }), weight: 12 },
  {
    arbitrary: fc
      .tuple(fc.string({ unit: hostileUnit, minLength: 1, maxLength: 6 }), fc.integer({ min: 200, max: 20_000 }))
      .map(([text, times]) => text.repeat(times)),
    weight: 1,
  },
);

/** Keys as clients write them, and the ones that are special to JavaScript objects. */
export const hostileKey = fc.oneof(
  { arbitrary: fc.string({ unit: hostileUnit, maxLength: 12 }), weight: 8 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'), weight: 1 },
);

/** Any JSON value made of hostile text, a few levels deep. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    hostileString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

/** A JSON object of hostile keys and values. */
export const hostileObject = fc.dictionary(hostileKey, hostileJson, { maxKeys: 6, noNullPrototype: true });

/**
 * Objects and arrays nested `levels` deep around a leaf, built without recursion.
 * `levels` counts the containers: nest(1, x) is `{"a": x}` or `[x]`.
 */
export function nest(levels: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let level = 0; level < levels; level++) value = level % 3 === 2 ? [value] : { a: value };
  return value;
}

/**
 * Nesting beyond what JSON.stringify (recursive) can write: a marker string that
 * `serialize` replaces by that many brackets.
 */
const DEEP = /"⟦deep:(\d+)⟧"/g;
const DEEP_MARKER = /^⟦deep:(\d+)⟧$/;
export const deepMarker = (levels: number): string => `⟦deep:${levels}⟧`;

/** JSON text of a value, with deep markers expanded into `[[[…]]]`. */
export function serialize(value: unknown): string {
  return JSON.stringify(value).replace(DEEP, (_, levels: string) => {
    const n = Number(levels);
    return `${'['.repeat(n)}${']'.repeat(n)}`;
  });
}

/** Levels of objects and arrays in a value (the value itself is level 1), counting deep markers. */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, level] = item;
    if (typeof node === 'string') {
      const marker = DEEP_MARKER.exec(node);
      if (marker) deepest = Math.max(deepest, level - 1 + Number(marker[1]));
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    deepest = Math.max(deepest, level);
    for (const child of Object.values(node)) stack.push([child, level + 1]);
  }
  return deepest;
}

/**
 * A field's value nesting anywhere from a few levels to far past the bound:
 * real objects up to 200 levels, markers beyond.
 */
export const deepValue = fc.oneof(
  fc.integer({ min: 1, max: 80 }).map((levels) => nest(levels)),
  fc.integer({ min: 60, max: 200 }).map((levels) => nest(levels, 'leaf')),
  fc.integer({ min: 1_000, max: 20_000 }).map((levels) => deepMarker(levels)),
);

/** What the server stores for a string: lone surrogates as U+FFFD (docs/input-rules.md). */
export const wellFormed = (text: string): string => text.toWellFormed();

/**
 * A JSON value as the server keeps it: every string and key well-formed; two keys
 * that become equal behave as duplicate keys in JSON text (first position, last value).
 */
export function repaired(value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (Array.isArray(value)) return value.map(repaired);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    Object.defineProperty(out, wellFormed(key), {
      value: repaired(child),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out;
}
