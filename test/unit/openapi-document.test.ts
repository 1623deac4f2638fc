import { describe, expect, it } from 'vitest';
import type { ObservedExchange } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { ROUTES } from '../../lambdas/contract/routes.ts';
import { OPERATIONS, openApiDocument } from '../../lambdas/core/openapi/document.ts';
import { OpenApiExchangeValidator } from '../support/openapi-exchanges.ts';

type Json = Record<string, any>;
const document = openApiDocument() as Json;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function operationKeys(doc: Json): string[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe('the OpenAPI document', () => {
  it('has an operation for every route of ROUTES, and none for a route that does not exist', () => {
    const routes = ROUTES.map((route) => `${route.method} ${route.path}`).sort();
    expect(operationKeys(document).sort()).toEqual(routes);
  });

  it('is OpenAPI 3.1 with a relative server, so one document serves the local stack and every deployment', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(document.jsonSchemaDialect ?? 'https://spec.openapis.org/oas/3.1/dialect/base').toContain('3.1');
  });

  it('gives every operation a success answer, unique ids, and seed 002 error bodies for 4xx and 5xx', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(document.paths as Record<string, Json>)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(ids.has(operation.operationId), where).toBe(false);
        ids.add(operation.operationId);
        const statuses = Object.keys(operation.responses);
        expect(
          statuses.some((status) => /^[23]/.test(status)),
          where,
        ).toBe(true);
        for (const status of statuses.filter((s) => /^[45]/.test(s) && s !== '429')) {
          const ref = operation.responses[status].$ref as string;
          const response = document.components.responses[ref.split('/').pop() ?? ''];
          expect(response.content['application/json'].schema, `${where} ${status}`).toEqual({
            $ref: '#/components/schemas/ErrorBody',
          });
        }
      }
    }
  });

  it('renders request bodies from the zod schemas that parse them, as a client sends them (input side)', () => {
    const body = (key: string) => {
      const [method = '', path = ''] = key.split(' ');
      return document.paths[path][method.toLowerCase()].requestBody.content['application/json'].schema;
    };
    // Exclusions take integers and strings (the parser turns both into strings).
    expect(body('PUT /api/v1/exclusions').properties.user_ids.items.anyOf).toEqual([
      expect.objectContaining({ type: 'string', minLength: 1 }),
      expect.objectContaining({ type: 'integer' }),
    ]);
    // Defaults are what a client may leave out.
    expect(body('POST /api/v1/analytics/exports').required).toEqual(['from', 'to']);
    expect(body('POST /api/v1/analytics/exports').properties.format).toMatchObject({ default: 'json' });
    // The feature's two types, each with its own required fields.
    expect(body('PUT /api/v1/features/{id}').oneOf.map((variant: Json) => variant.required)).toEqual([
      ['name', 'type', 'event_names'],
      ['name', 'type', 'attribute', 'operator'],
    ]);
    // Tracking timestamps may leave out their offset (UTC then): no RFC 3339 `format` that would refuse them.
    const tracking = JSON.stringify(body('POST /{trackingKey}/{method}'));
    expect(tracking).not.toContain('"format":"date-time"');
    expect(tracking).toContain('"userId"');
  });

  it('names its security: Token (or the admin acting in an environment) for /api/v1, Bearer for /admin, none for health and itself', () => {
    const security = (key: string) => {
      const [method = '', path = ''] = key.split(' ');
      return document.paths[path][method.toLowerCase()].security;
    };
    expect(security('GET /api/v1/features')).toEqual([{ ApiToken: [] }, { AdminToken: [], ActingEnvironment: [] }]);
    expect(security('POST /admin/v1/sql')).toEqual([{ AdminToken: [] }]);
    expect(security('GET /api/v1/analytics/exports/jobs/{job_id}/files/{filename}')).toEqual([
      { ApiToken: [] },
      { AdminToken: [], ActingEnvironment: [] },
      { DownloadLink: [] },
    ]);
    expect(security('GET /health')).toEqual([]);
    expect(security('GET /openapi.json')).toEqual([]);
  });

  it('fails to build when a route key names a path parameter it does not describe', () => {
    const [key = '', spec] = Object.entries(OPERATIONS)[0] ?? [];
    expect(key).not.toBe('');
    expect(() => openApiDocument({ 'GET /things/{thing_id}': spec as never })).toThrow(/\{thing_id\}/);
  });
});

function exchange(overrides: {
  routeKey: string;
  status: number;
  body?: unknown;
  requestBody?: unknown;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
}): ObservedExchange {
  const raw = overrides.requestBody === undefined ? '' : JSON.stringify(overrides.requestBody);
  return {
    routeKey: overrides.routeKey,
    event: {
      rawPath: '/x',
      headers: { 'content-type': 'application/json', ...overrides.headers },
      pathParameters: overrides.pathParameters,
    } as unknown as ObservedExchange['event'],
    rawBody: Buffer.from(raw),
    result: {
      statusCode: overrides.status,
      headers: { 'content-type': 'application/json' },
      body: overrides.body === undefined ? '' : JSON.stringify(overrides.body),
    },
  };
}

describe('checking an exchange against the document', () => {
  const validator = new OpenApiExchangeValidator(document);
  const token = { authorization: 'Token fl_abc' };

  it('passes an answer the document describes', () => {
    expect(validator.check(exchange({ routeKey: 'GET /health', status: 200, body: { status: 'ok' } }))).toEqual([]);
    expect(
      validator.check(
        exchange({
          routeKey: 'PUT /api/v1/exclusions',
          status: 200,
          headers: token,
          requestBody: { user_ids: [1, 'u2'], company_ids: [] },
          body: { user_ids: ['1', 'u2'], company_ids: [] },
        }),
      ),
    ).toEqual([]);
  });

  it('reports a status, a field or a missing field the document does not describe', () => {
    expect(validator.check(exchange({ routeKey: 'GET /health', status: 418, body: {} }))[0]).toMatch(
      /status 418 is not documented/,
    );
    expect(
      validator.check(exchange({ routeKey: 'GET /health', status: 200, body: { status: 'ok', extra: 1 } }))[0],
    ).toMatch(/additional properties/);
    expect(
      validator.check(
        exchange({ routeKey: 'GET /api/v1/exclusions', status: 200, headers: token, body: { user_ids: [] } }),
      )[0],
    ).toMatch(/company_ids/);
    expect(validator.check(exchange({ routeKey: 'GET /health', status: 500, body: { message: 'boom' } }))[0]).toMatch(
      /errors/,
    );
  });

  it('reports an accepted request the document would refuse, but not a refused one', () => {
    const accepted = exchange({
      routeKey: 'PUT /api/v1/exclusions',
      status: 200,
      headers: token,
      requestBody: { user_ids: [] },
      body: { user_ids: [], company_ids: [] },
    });
    expect(validator.check(accepted).join('\n')).toMatch(/request: body must have required property 'company_ids'/);
    const refused = exchange({
      routeKey: 'PUT /api/v1/exclusions',
      status: 400,
      headers: token,
      requestBody: { user_ids: [] },
      body: {
        errors: [
          { error: 'Bad Request', error_code: '400', message: 'm', details: 'company_ids: is required', field: 'x' },
        ],
      },
    });
    expect(validator.check(refused)).toEqual([]);
  });

  it('reports a request accepted without the credentials its security names', () => {
    const problems = validator.check(
      exchange({ routeKey: 'GET /api/v1/exclusions', status: 200, body: { user_ids: [], company_ids: [] } }),
    );
    expect(problems.join('\n')).toMatch(/without the credentials of ApiToken/);
  });

  it('reports a route the document does not know', () => {
    expect(validator.check(exchange({ routeKey: 'GET /nowhere', status: 200 }))[0]).toMatch(/no operation/);
  });
});
