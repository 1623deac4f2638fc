import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/contract/routes.ts';
import { hostileString, propertyRuns, propertyTimeoutMs } from '../property/arbitraries.ts';
import { admin, startTestStack } from '../support/local-stack.ts';
import { FOREIGN_ORIGIN, SDK_REQUEST_HEADERS } from '../support/sdk-cors.ts';

/**
 * CORS of the local stack (issue 12 point 4), as a browser on another origin meets
 * it: the preflight it sends before any SDK call, and the headers on the answer it
 * then reads. The deployed HTTP API's own configuration is checked in
 * test/infra/api.test.ts; real chromium runs the SDK in test/e2e/browser-sdk.test.ts.
 */

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let trackingKey: string;

beforeAll(async () => {
  stack = await startTestStack();
  trackingKey = ((await admin(stack).createEnvironment('cors', 'pro')).body as { tracking_key: string }).tracking_key;
});
afterAll(async () => {
  await stack?.cleanup();
});

function preflight(path: string, origin: string, method: string, headers: readonly string[]): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': headers.join(','),
    },
  });
}

/** What a browser checks of a preflight answer before it sends `method` with `headers`. */
function expectPreflightAllows(response: Response, method: string, headers: readonly string[]): void {
  expect(response.status).toBe(204);
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  const methods = (response.headers.get('access-control-allow-methods') ?? '').split(',').map((m) => m.trim());
  expect(methods).toContain(method);
  const allowed = (response.headers.get('access-control-allow-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase());
  for (const header of headers) expect(allowed).toContain(header.toLowerCase());
  // No credentials mode: a browser must never send cookies or client certificates along.
  expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0);
}

describe('CORS preflight on the local stack', () => {
  it("allows every route of ROUTES, with the SDKs' headers, from a foreign origin", async () => {
    for (const route of ROUTES) {
      const path = route.path.replaceAll(/\{\w+\}/g, 'x');
      const response = await preflight(path, FOREIGN_ORIGIN, route.method, SDK_REQUEST_HEADERS);
      expectPreflightAllows(response, route.method, SDK_REQUEST_HEADERS);
    }
  });

  it("allows the SDKs' single-segment tracking paths, whose key is in Authorization", async () => {
    for (const path of ['/bulk', '/event', '/user', '/company', '/feedback', '/features/events']) {
      expectPreflightAllows(
        await preflight(path, FOREIGN_ORIGIN, 'POST', SDK_REQUEST_HEADERS),
        'POST',
        SDK_REQUEST_HEADERS,
      );
    }
  });

  const origin = fc.oneof(
    fc.webUrl().map((url) => new URL(url).origin),
    // An internationalised host reaches the server as its punycode, as browsers send it.
    hostileString.map((name) => {
      try {
        return new URL(`https://${encodeURIComponent(name.slice(0, 60)) || 'x'}.example`).origin;
      } catch {
        return 'https://x.example';
      }
    }),
    // Sandboxed frames and file: pages.
    fc.constant('null'),
  );
  // Segments cut short: a URL over Node's 16 KB of headers is a 431 before any routing (API Gateway's limit is 10 KB).
  const path = fc.array(hostileString, { minLength: 1, maxLength: 4 }).map((segments) => {
    return `/${segments.map((segment) => encodeURIComponent(segment.slice(0, 200).replaceAll(/[\ud800-\udfff]/g, 'x'))).join('/')}`;
  });
  const requestedHeaders = fc
    .subarray(SDK_REQUEST_HEADERS, { minLength: 1 })
    .chain((headers) =>
      fc.tuple(
        ...headers.map((header) =>
          fc.constantFrom(header, header.toUpperCase(), `${header[0]?.toUpperCase()}${header.slice(1)}`),
        ),
      ),
    );

  test.prop([origin, path, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), requestedHeaders], {
    numRuns: propertyRuns(25),
  })(
    'any origin, any path, any case of the headers: the same answer, never an error',
    async (from, to, method, headers) => {
      expectPreflightAllows(await preflight(to, from, method, headers), method, headers);
    },
    propertyTimeoutMs(25),
  );
});

describe('CORS on answers', () => {
  const fromForeignPage = { origin: FOREIGN_ORIGIN, 'content-type': 'application/json' };

  it('lets a page on any origin read every answer, errors included', async () => {
    const answers = await Promise.all([
      fetch(`${stack.url}/${trackingKey}/event`, {
        method: 'POST',
        headers: fromForeignPage,
        body: JSON.stringify({ event: 'Opened', userId: 'u1' }),
      }),
      // 400 naming the field: a browser must be able to show it.
      fetch(`${stack.url}/${trackingKey}/feedback`, {
        method: 'POST',
        headers: fromForeignPage,
        body: JSON.stringify({ featureId: 'f', score: 9 }),
      }),
      fetch(`${stack.url}/no-such-key/event`, {
        method: 'POST',
        headers: fromForeignPage,
        body: JSON.stringify({ event: 'Opened', userId: 'u1' }),
      }),
      fetch(`${stack.url}/admin/v1/sql`, { method: 'POST', headers: fromForeignPage, body: '{}' }),
      fetch(`${stack.url}/no/such/route/here`, { headers: { origin: FOREIGN_ORIGIN } }),
      // A path the URL parser once read as an empty host: a 404, not a 500.
      fetch(`${stack.url}//`, { headers: { origin: FOREIGN_ORIGIN } }),
      fetch(`${stack.url}/health`, { headers: { origin: FOREIGN_ORIGIN } }),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 400, 404, 401, 404, 404, 200]);
    for (const answer of answers) {
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('answers an OPTIONS that is not a preflight as API Gateway does: no such route', async () => {
    const response = await fetch(`${stack.url}/health`, { method: 'OPTIONS' });
    expect(response.status).toBe(404);
  });
});
