import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { errorResponse } from '../core/shared/errors.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** A 302 to a freshly presigned URL: never cached, since the URL lives only minutes. */
export function redirect(location: string): HttpResult {
  return { statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

export function header(event: HttpEvent, name: string): string | undefined {
  // API Gateway v2 lowercases header names; the local server does the same.
  return event.headers?.[name.toLowerCase()];
}

/**
 * The one error table at the edge of every handler: domain errors become their
 * status and the seed-002 error body; anything else is logged (without request
 * bodies, which may carry personal data) and answered as a retryable 500.
 */
export function errorTable(): middy.MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: async (request) => {
      const { status, body } = errorResponse(request.error);
      if (status >= 500) {
        const error = request.error as Error & { cause?: unknown };
        console.error(
          JSON.stringify({
            level: 'error',
            route: request.event.routeKey,
            error: error?.name,
            message: error?.message,
            cause: error?.cause instanceof Error ? error.cause.message : undefined,
          }),
        );
      }
      request.response = json(status, body);
    },
  };
}

/** Wraps a handler body in the middy chain every featurelake handler shares. */
export function httpHandler(body: (event: HttpEvent) => Promise<HttpResult>): HttpHandler {
  return middy<HttpEvent, HttpResult>()
    .use(errorTable())
    .handler((event) => body(event)) as unknown as HttpHandler;
}
