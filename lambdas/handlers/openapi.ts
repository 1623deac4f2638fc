import { openApiDocument } from '../core/openapi/document.ts';
import { httpHandler } from './http.ts';

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of every route. Built once per cold
 * start (the schemas are the code's, so it cannot change while the code runs).
 */
export function makeHandler() {
  let document: string | undefined;
  return httpHandler(async () => {
    document ??= JSON.stringify(openApiDocument());
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: document };
  });
}

export const handler = makeHandler();
