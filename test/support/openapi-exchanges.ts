import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ObservedExchange } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { openApiDocument } from '../../lambdas/core/openapi/document.ts';

/**
 * Checks exchanges of the local stack against the OpenAPI document `GET /openapi.json`
 * serves (issue 12: "every e2e test's requests and responses are validated against
 * it"). The local API Gateway shows each exchange a route served to an observer
 * (ApiGatewayServer.observeExchanges); startTestStack records the violations and its
 * cleanup fails the test on any.
 *
 * - Every answer must be one the operation documents: its status, and for JSON its
 *   body against the schema; a redirect its `Location`; a 204 no body.
 * - A request the stack accepted (2xx or 3xx) must be one the document allows: path
 *   and query parameters, body against the request schema, and credentials in a
 *   place a security scheme names. A refused request (4xx, 5xx) is not checked
 *   against the request schemas: telling bad input apart is what the 400 does, and
 *   the tests send bad input on purpose; its answer still must be documented.
 * - Only routes are observed: the gateway's own answers to no route (404) or to a
 *   body over 10 MB (413) come from API Gateway, not from the API the document describes.
 */

type Json = Record<string, unknown>;

interface Operation {
  readonly parameters?: readonly { name: string; in: string; required?: boolean; schema: Json }[];
  readonly requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
  readonly responses: Record<string, Json>;
  readonly security?: readonly Record<string, string[]>[];
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

export class OpenApiExchangeValidator {
  private readonly document: Json;
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly found: string[] = [];
  /** How many exchanges were checked. */
  checked = 0;

  constructor(document: Json = openApiDocument()) {
    this.document = document;
    // strict off: the document's own keys (openapi, paths, …) are not JSON Schema keywords.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats.default(this.ajv);
    this.ajv.addSchema(document, 'openapi.json');
  }

  /** The observer to hand the local stack. */
  readonly observe = (exchange: ObservedExchange): void => {
    this.checked += 1;
    for (const problem of this.check(exchange)) this.found.push(problem);
  };

  violations(): readonly string[] {
    return this.found;
  }

  /** Throws, listing every violation, if any exchange did not validate. */
  assertNone(): void {
    if (this.found.length === 0) return;
    const shown = this.found.slice(0, 20).join('\n  ');
    const more = this.found.length > 20 ? `\n  … and ${this.found.length - 20} more` : '';
    throw new Error(
      `${this.found.length} exchange(s) do not validate against the OpenAPI document:\n  ${shown}${more}`,
    );
  }

  /** The problems of one exchange against the document (none: it validates). */
  check(exchange: ObservedExchange): string[] {
    const [method = '', path = ''] = exchange.routeKey.split(' ');
    const where = `${exchange.routeKey} (${exchange.event.rawPath})`;
    const paths = this.document.paths as Record<string, Record<string, Operation>>;
    const operation = paths[path]?.[method.toLowerCase()];
    const pointer = `openapi.json#/paths/${escapePointer(path)}/${method.toLowerCase()}`;
    if (!operation) return [`${where}: the document has no operation ${exchange.routeKey}`];
    const status = exchange.result.statusCode ?? 200;
    const problems = this.checkResponse(operation, pointer, status, exchange).map(
      (problem) => `${where} → ${status}: ${problem}`,
    );
    if (status < 400) {
      problems.push(
        ...this.checkRequest(operation, pointer, exchange).map((problem) => `${where} request: ${problem}`),
      );
    }
    return problems;
  }

  private checkResponse(operation: Operation, pointer: string, status: number, exchange: ObservedExchange): string[] {
    const key = String(status);
    let response = operation.responses[key] ?? operation.responses[`${key[0]}XX`];
    let responsePointer = `${pointer}/responses/${key}`;
    if (!response) return [`status ${status} is not documented (body ${truncate(exchange.result.body)})`];
    const ref = response.$ref as string | undefined;
    if (ref) {
      responsePointer = `openapi.json${ref}`;
      const name = ref.split('/').pop() ?? '';
      response = ((this.document.components as Json).responses as Record<string, Json>)[name] ?? {};
    }
    const problems: string[] = [];
    const headers = lowerCaseKeys(exchange.result.headers);
    for (const [name, spec] of Object.entries((response.headers ?? {}) as Record<string, { required?: boolean }>)) {
      if (spec.required && headers[name.toLowerCase()] === undefined) problems.push(`has no ${name} header`);
    }
    const content = response.content as Record<string, unknown> | undefined;
    const body = exchange.result.body ?? '';
    if (!content) {
      if (body !== '') problems.push(`has a body the document does not describe: ${truncate(body)}`);
      return problems;
    }
    const contentType = String(headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim();
    if (contentType === undefined || !(contentType in content)) {
      return [...problems, `content-type ${contentType || '(none)'} is not one of ${Object.keys(content).join(', ')}`];
    }
    const text = exchange.result.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return [...problems, `body is not JSON: ${truncate(text)}`];
    }
    problems.push(...this.validate(`${responsePointer}/content/${escapePointer(contentType)}/schema`, parsed, 'body'));
    return problems;
  }

  private checkRequest(operation: Operation, pointer: string, exchange: ObservedExchange): string[] {
    const { event } = exchange;
    const problems: string[] = [];
    (operation.parameters ?? []).forEach((parameter, index) => {
      const source =
        parameter.in === 'path'
          ? event.pathParameters
          : parameter.in === 'query'
            ? event.queryStringParameters
            : undefined;
      const value = source?.[parameter.name];
      if (value === undefined) {
        if (parameter.required) problems.push(`${parameter.in} parameter ${parameter.name} is missing`);
        return;
      }
      problems.push(...this.validate(`${pointer}/parameters/${index}/schema`, value, parameter.name));
    });
    problems.push(...this.checkSecurity(operation, exchange));
    const body = exchange.rawBody;
    const requestBody = operation.requestBody;
    if (!requestBody) {
      if (body.length > 0) problems.push(`has a body the operation takes none of: ${truncate(body.toString('utf8'))}`);
      return problems;
    }
    if (body.length === 0) {
      if (requestBody.required) problems.push('has no body; the operation requires one');
      return problems;
    }
    const contentType = (event.headers?.['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!(contentType in requestBody.content)) {
      return [
        ...problems,
        `content-type ${contentType || '(none)'} is not one of ${Object.keys(requestBody.content).join(', ')}`,
      ];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return [...problems, `body is not JSON but was accepted: ${truncate(body.toString('utf8'))}`];
    }
    problems.push(
      ...this.validate(`${pointer}/requestBody/content/${escapePointer(contentType)}/schema`, parsed, 'body'),
    );
    return problems;
  }

  /** An accepted request presented its credentials where one of the operation's schemes says. */
  private checkSecurity(operation: Operation, exchange: ObservedExchange): string[] {
    const requirements = operation.security ?? [];
    if (requirements.length === 0) return [];
    const schemes = (this.document.components as Json).securitySchemes as Record<string, Json>;
    const headers = lowerCaseKeys(exchange.event.headers);
    const query = exchange.event.queryStringParameters ?? {};
    const satisfied = requirements.some((requirement) =>
      Object.keys(requirement).every((name) => {
        const scheme = schemes[name] ?? {};
        if (scheme.type === 'http') return /^bearer\s+\S/i.test(String(headers.authorization ?? ''));
        if (scheme.in === 'header') return headers[String(scheme.name).toLowerCase()] !== undefined;
        if (scheme.in === 'query') return query[String(scheme.name)] !== undefined;
        return false;
      }),
    );
    return satisfied
      ? []
      : [`was accepted without the credentials of ${requirements.map((r) => Object.keys(r).join('+')).join(' or ')}`];
  }

  private validate(ref: string, value: unknown, what: string): string[] {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (error) =>
        `${what}${error.instancePath} ${error.message ?? 'is invalid'} (${error.schemaPath}): ${truncate(JSON.stringify(value))}`,
    );
  }
}

function lowerCaseKeys(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}

function truncate(text: string | undefined, max = 300): string {
  const value = text ?? '';
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
