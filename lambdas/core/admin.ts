import { z } from 'zod';
import { sameSecret } from './environments.ts';
import { type FieldProblem, UnauthorizedError, ValidationError } from './errors.ts';
import { parseRequestJson } from './request-json.ts';

/** `Authorization: Bearer <admin token>`, compared in constant time. */
export function assertAdmin(authorization: string | undefined, adminToken: string): void {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1] || !sameSecret(match[1], adminToken)) {
    throw new UnauthorizedError('A valid admin token is required: Authorization: Bearer <admin token>.');
  }
}

export const sqlRequest = z.object({
  sql: z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .trim()
    .min(1, 'must not be empty'),
  params: z
    .array(
      z.union([z.string(), z.number(), z.boolean(), z.null()], { error: 'must be a string, number, boolean or null' }),
      {
        error: 'must be an array',
      },
    )
    .max(100, 'must hold at most 100 values')
    .optional(),
});

/** Most rows one admin query returns (it is a look into the lake, not an export). */
export const MAX_SQL_ROWS = 10_000;

/**
 * Largest body parseJsonBody takes (admin calls, export requests, export settings:
 * all a few hundred bytes). API Gateway alone would let 10 MB through, and JSON.parse
 * takes seconds on 10 MB of deeply nested brackets; 256 KB of them parse in milliseconds.
 */
export const MAX_JSON_BODY_BYTES = 256 * 1024;

/**
 * Parses a JSON request body with a schema, naming each failing field (the input
 * rules of parseRequestJson apply first: lone surrogates repaired, nesting bounded).
 */
export function parseJsonBody<T extends z.ZodType>(schema: T, body: string | undefined, isBase64 = false): z.infer<T> {
  const text = isBase64 ? Buffer.from(body ?? '', 'base64').toString('utf8') : (body ?? '');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_JSON_BODY_BYTES) {
    throw new ValidationError([
      { field: 'body', problem: `is ${bytes} bytes; the limit is ${MAX_JSON_BODY_BYTES} bytes` },
    ]);
  }
  const payload = parseRequestJson(text);
  const result = schema.safeParse(payload);
  if (!result.success) {
    const problems: FieldProblem[] = result.error.issues.map((issue) => ({
      field: issue.path.length ? issue.path.map(String).join('.') : 'body',
      problem: issue.message,
    }));
    throw new ValidationError(problems);
  }
  return result.data;
}
