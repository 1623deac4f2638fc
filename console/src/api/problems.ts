/**
 * What the console shows when a call fails: the API's error body
 * (`{errors: [{error, error_code, message, details, field?}]}`, lambdas/core/shared/errors.ts)
 * as one message per field it names plus a general message; a 5xx or a network
 * failure as a retryable message. No DOM here: pages render a Problem as they like.
 */

export interface Problem {
  /** What to show above the form (or alone): never empty. */
  readonly message: string;
  /** Messages by the request field they are about (`name`, `plan`, `bucket_url`, `[0].attribute`, …). */
  readonly fields: Readonly<Record<string, string>>;
  /** Whether trying the same thing again may work (network failure, 5xx, throttling). */
  readonly retryable: boolean;
  /** The HTTP status, or undefined when no answer came. */
  readonly status: number | undefined;
}

export const NETWORK_MESSAGE =
  'The featurelake API could not be reached: check the connection (or that the server is running) and try again.';
export const SERVER_MESSAGE = 'Something went wrong on the server. Please try again in a moment.';
export const THROTTLED_MESSAGE = 'Too many requests right now. Please wait a moment and try again.';

interface ErrorEntryLike {
  readonly message?: unknown;
  readonly details?: unknown;
  readonly field?: unknown;
}

function entriesOf(body: unknown): ErrorEntryLike[] {
  if (typeof body !== 'object' || body === null) return [];
  const errors = (body as { errors?: unknown }).errors;
  return Array.isArray(errors)
    ? errors.filter((entry): entry is ErrorEntryLike => typeof entry === 'object' && entry !== null)
    : [];
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** A 400's `details` is `<field>: <problem>`; beside the field, the problem alone reads better. */
function fieldMessage(field: string, details: string | undefined, message: string | undefined): string {
  const prefix = `${field}: `;
  if (details?.startsWith(prefix)) return capitalise(details.slice(prefix.length));
  return details ?? message ?? 'This value is not accepted.';
}

const capitalise = (value: string): string => value.charAt(0).toUpperCase() + value.slice(1);

/** The problem an answer of status `status` with body `body` (parsed JSON, or anything) describes. */
export function problemFromResponse(status: number, body: unknown): Problem {
  if (status >= 500) return { message: SERVER_MESSAGE, fields: {}, retryable: true, status };
  if (status === 429) return { message: THROTTLED_MESSAGE, fields: {}, retryable: true, status };
  const entries = entriesOf(body);
  const fields: Record<string, string> = {};
  const general: string[] = [];
  for (const entry of entries) {
    const details = text(entry.details);
    const message = text(entry.message);
    const field = text(entry.field);
    if (field) {
      fields[field] = fields[field]
        ? `${fields[field]} ${fieldMessage(field, details, message)}`
        : fieldMessage(field, details, message);
    } else {
      // The seed's bodies put the specific words in `details` and the generic ones in `message`.
      general.push(details ?? message ?? '');
    }
  }
  const namedFields = Object.keys(fields);
  const message =
    general.filter(Boolean).join(' ') ||
    (namedFields.length > 0
      ? `Please correct ${namedFields.length === 1 ? 'the highlighted field' : 'the highlighted fields'}.`
      : (text((body as { message?: unknown } | null)?.message) ?? `The request failed (HTTP ${status}).`));
  return { message, fields, retryable: false, status };
}

/** The problem of a call that got no answer at all (refused, offline, aborted). */
export function problemFromNetworkFailure(): Problem {
  return { message: NETWORK_MESSAGE, fields: {}, retryable: true, status: undefined };
}

export type Outcome<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly problem: Problem };

/**
 * Awaits an openapi-fetch call and returns its data or its Problem; never throws.
 * `call(client.GET('/api/v1/environment'))`.
 */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Outcome<T>> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch {
    return { ok: false, problem: problemFromNetworkFailure() };
  }
  if (result.response.ok) return { ok: true, data: result.data as T };
  return { ok: false, problem: problemFromResponse(result.response.status, result.error) };
}
