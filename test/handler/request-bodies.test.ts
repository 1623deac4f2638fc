import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMITS, type BodyRoute, MAX_NESTING_DEPTH } from '../../lambdas/core/shared/request-body.ts';
import { admin, http, startTestStack } from '../support/local-stack.ts';

/**
 * One request-body parser (issue 10, item 5): the same malformed body sent to any
 * JSON route gets the same 400, over the real handlers of the local stack. Only the
 * size cap is the route's own.
 */

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let env: { tracking_key: string; api_key: string };

beforeAll(async () => {
  stack = await startTestStack();
  env = (await admin(stack).createEnvironment('request-bodies', 'enterprise')).body;
});
afterAll(async () => {
  await stack?.cleanup();
});

interface Route {
  readonly kind: BodyRoute;
  readonly method: string;
  readonly path: () => string;
  readonly auth: () => Record<string, string>;
  /** Whether a missing body stands for `{}` (every field optional), so an empty body is no error. */
  readonly emptyIsObject?: boolean;
}

const token = () => ({ authorization: `Token ${env.api_key}` });
const adminToken = () => ({ authorization: `Bearer ${stack.adminToken}` });
const ROUTES: Route[] = [
  { kind: 'tracking', method: 'POST', path: () => `/${env.tracking_key}/event`, auth: () => ({}) },
  { kind: 'catalog', method: 'PUT', path: () => '/api/v1/features/f1', auth: token },
  { kind: 'catalog', method: 'PUT', path: () => '/api/v1/exclusions', auth: token },
  { kind: 'eventsExport', method: 'POST', path: () => '/api/v1/analytics/exports', auth: token },
  { kind: 'companyExport', method: 'POST', path: () => '/api/v1/company-exports', auth: token, emptyIsObject: true },
  { kind: 'automaticExport', method: 'PUT', path: () => '/api/v1/company-exports/automatic', auth: token },
  { kind: 'admin', method: 'POST', path: () => '/admin/v1/environments', auth: adminToken },
  { kind: 'admin', method: 'POST', path: () => '/admin/v1/sql', auth: adminToken },
];

const send = (route: Route, raw: string) =>
  http(`${stack.url}${route.path()}`, {
    method: route.method,
    headers: { 'content-type': 'application/json', ...route.auth() },
    raw,
  });

/** The one 400 body; `problem` is a pattern where the words are JSON.parse's own. */
const refusal = (field: string, problem: string | RegExp) => ({
  errors: [
    {
      error: 'Bad Request',
      error_code: '400',
      message: 'The request is invalid.',
      details: typeof problem === 'string' ? `${field}: ${problem}` : expect.stringMatching(problem),
      field,
    },
  ],
});

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('the same malformed body gets the same 400 on every JSON route', () => {
  // JSON.parse's own words (V8's, which vary between Node releases) follow the prefix.
  const notJson = refusal('body', /^body: is not valid JSON \(.+\)$/);
  const cases: Array<[string, string, ReturnType<typeof refusal>]> = [
    ['invalid JSON', 'not json', notJson],
    ['a truncated object', '{', notJson],
    ['a JSON array where an object is wanted', '[]', refusal('body', 'must be a JSON object')],
    ['a JSON string', '"x"', refusal('body', 'must be a JSON object')],
    ['an empty body', '', refusal('body', 'is empty; send a JSON object')],
    ['blanks only', ' \n ', refusal('body', 'is empty; send a JSON object')],
    [
      'a field nested too deep',
      `{"attributes":${nested(MAX_NESTING_DEPTH + 1)}}`,
      refusal('attributes', `nests deeper than ${MAX_NESTING_DEPTH} levels`),
    ],
  ];

  it.each(cases)('%s', async (_name, raw, expected) => {
    const answers = [];
    for (const route of ROUTES) {
      // A missing body is `{}` there: the local server, as API Gateway, sends none for an empty one.
      if (raw === '' && route.emptyIsObject) continue;
      const response = await send(route, raw);
      answers.push({ route: route.path(), status: response.status, body: response.body });
    }
    const [first] = answers;
    expect(first?.body).toEqual(expected);
    expect(answers).toEqual(answers.map(({ route }) => ({ route, status: 400, body: first?.body })));
  });

  it('a body over its route cap names the size and that route own limit, in the same words', async () => {
    const raw = JSON.stringify({ pad: 'x'.repeat(BODY_LIMITS.tracking) });
    const bytes = Buffer.byteLength(raw);
    const label = { [256 * 1024]: '256 KB', [1024 * 1024]: '1 MB' };
    for (const route of ROUTES) {
      const limit = BODY_LIMITS[route.kind];
      const response = await send(route, raw);
      expect(response.status, response.text).toBe(400);
      expect(response.body).toEqual(
        refusal('body', `is ${bytes} bytes; the limit is ${limit} bytes (${label[limit]})`),
      );
    }
  });
});
