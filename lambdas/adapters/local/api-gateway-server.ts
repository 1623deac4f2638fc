import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_MAX_AGE_SECONDS } from '../../contract/cors.ts';
import type { HandlerName, RouteSpec } from '../../contract/routes.ts';

export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** One request a route served and its answer, as the observer (the tests' OpenAPI check) sees it. */
export interface ObservedExchange {
  readonly routeKey: string;
  readonly event: APIGatewayProxyEventV2;
  readonly rawBody: Buffer;
  readonly result: APIGatewayProxyStructuredResultV2;
}

/** API Gateway HTTP APIs refuse payloads over 10 MB before any Lambda runs. */
const API_GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024;

interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  /** Per path segment, whether it is a `{param}`: routes are tried static-first, segment by segment. */
  readonly paramSegments: readonly boolean[];
}

/**
 * API Gateway's precedence: of the routes matching a path, the one whose first
 * differing segment is static wins over one with a `{param}` there (so
 * `POST /features/events` beats `POST /{trackingKey}/{method}`).
 */
function staticFirst(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.max(a.paramSegments.length, b.paramSegments.length);
  for (let i = 0; i < length; i++) {
    const aParam = a.paramSegments[i] ?? true;
    const bParam = b.paramSegments[i] ?? true;
    if (aParam !== bParam) return aParam ? 1 : -1;
  }
  return 0;
}

function compile(spec: RouteSpec): CompiledRoute {
  const params: string[] = [];
  const segments = spec.path.split('/').filter(Boolean);
  const source = segments
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param?.[1]) {
        params.push(param[1]);
        return '/([^/]+)';
      }
      return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
    })
    .join('');
  return {
    spec,
    pattern: new RegExp(`^${source || '/'}$`),
    params,
    paramSegments: segments.map((segment) => /^\{\w+\}$/.test(segment)),
  };
}

const TEXTUAL = /^(?:text\/|application\/(?:json|[\w.+-]*\+json|x-www-form-urlencoded|xml)|$)/i;

/**
 * A Lambda context for a local invocation, with `timeoutMs` of budget from now (what
 * the deployed function's timeout gives it; middy's timeout reads the remaining time).
 * @param timeoutMs @default 30 s: API Gateway's own limit for the HTTP handlers
 */
export function localLambdaContext(name: string, timeoutMs = 30_000): Context {
  const requestId = randomUUID();
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `featurelake-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:featurelake-local-${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/featurelake-local-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The local API Gateway: serves the route table with the same Lambda handlers the
 * HTTP API invokes, passing them API Gateway HTTP API (payload v2.0) events. Like
 * API Gateway, the most specific route wins, unknown routes get `{"message":"Not Found"}`,
 * and payloads over 10 MB get 413 before a handler runs. CORS is the HTTP API's
 * `corsPreflight` (contract/cors.ts): the server answers preflights itself and
 * every answer, errors included, carries `Access-Control-Allow-Origin: *`.
 */
export class ApiGatewayServer {
  private readonly routes: CompiledRoute[];
  private readonly server: Server;
  private observe: ((exchange: ObservedExchange) => void) | undefined;
  private front: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;

  constructor(
    routes: readonly RouteSpec[],
    private readonly handlers: Record<HandlerName, LambdaHttpHandler>,
  ) {
    this.routes = routes.map(compile).sort(staticFirst);
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error) => {
        console.error('local api gateway:', error);
        if (!res.headersSent) send(res, 500, { message: 'Internal Server Error' });
      });
    });
    // Clients such as load generators keep connections open between calls, as they would with API Gateway.
    this.server.keepAliveTimeout = 65_000;
  }

  /** Shows every exchange a route serves to `observer` (tests check each against the OpenAPI document). */
  observeExchanges(observer: (exchange: ObservedExchange) => void): void {
    this.observe = observer;
  }

  /**
   * Lets `front` answer a request before the routes (the console's static files, which
   * CloudFront serves on AWS); it resolves false to pass the request on.
   */
  serveBefore(front: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>): void {
    this.front = front;
  }

  listen(port: number, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address() as AddressInfo;
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.front && (await this.front(req, res))) return;
    const url = requestUrl(req.url);
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'OPTIONS' && req.headers.origin && req.headers['access-control-request-method']) {
      res.writeHead(204, PREFLIGHT_HEADERS);
      res.end();
      return;
    }
    const body = await readBody(req);
    if (body === 'too-large') {
      send(res, 413, { message: 'Request Entity Too Large' });
      return;
    }
    const match = this.match(method, url.pathname);
    if (!match) {
      send(res, 404, { message: 'Not Found' });
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const textual = TEXTUAL.test(headers['content-type'] ?? '');
    const now = new Date();
    const routeKey = `${match.route.spec.method} ${match.route.spec.path}`;
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers,
      queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
      pathParameters: Object.keys(match.params).length ? match.params : undefined,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
      body: body.length === 0 ? undefined : textual ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: body.length > 0 && !textual,
    };
    const result = await this.handlers[match.route.spec.handler](event, localLambdaContext(match.route.spec.handler));
    const responseBody =
      result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
    res.writeHead(result.statusCode ?? 200, {
      ...withoutCors(result.headers),
      ...ALLOW_ANY_ORIGIN,
      'content-length': Buffer.byteLength(responseBody),
    });
    res.end(responseBody);
    this.observe?.({ routeKey, event, rawBody: body, result });
  }

  private match(method: string, path: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.spec.method !== method) continue;
      const found = route.pattern.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      route.params.forEach((name, i) => {
        const raw = found[i + 1] ?? '';
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          params[name] = raw;
        }
      });
      return { route, params };
    }
    return undefined;
  }
}

/** On every answer, so that a page on another origin can read it, a 4xx included. No credentials, hence `*`. */
const ALLOW_ANY_ORIGIN = { 'access-control-allow-origin': '*' } as const;

/** What API Gateway answers a preflight with, for any origin, when the HTTP API has `corsPreflight`. */
const PREFLIGHT_HEADERS = {
  ...ALLOW_ANY_ORIGIN,
  'access-control-allow-methods': CORS_ALLOW_METHODS.join(','),
  'access-control-allow-headers': CORS_ALLOW_HEADERS.join(','),
  'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
} as const;

/** API Gateway replaces an integration's CORS headers with its own configuration's. */
function withoutCors(headers: APIGatewayProxyStructuredResultV2['headers']): Record<string, string | number | boolean> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => !name.toLowerCase().startsWith('access-control-')),
  );
}

/**
 * The request's URL. A path is appended to the origin rather than resolved against it:
 * resolved, `//x` would be read as a host, and `//` alone fails to parse (a 500 for a
 * client's mistake).
 */
export function requestUrl(raw = '/'): URL {
  if (raw.startsWith('/')) return new URL(`http://localhost${raw}`);
  return URL.parse(raw, 'http://localhost') ?? new URL('http://localhost/');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    ...ALLOW_ANY_ORIGIN,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > API_GATEWAY_MAX_PAYLOAD) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
