/**
 * Domain errors. Each carries the HTTP status it maps to; `errorBody` renders any
 * of them in the one error shape all our JSON APIs share (seed 002):
 * `{"errors": [{"error", "error_code", "message", "details"}]}`.
 * Validation errors add `field` to each entry, naming what failed.
 */

export interface FieldProblem {
  /** Path of the failing field as the client sent it, e.g. `userId`, `[3].attributes`, `Content-Type`. */
  readonly field: string;
  readonly problem: string;
}

export interface ErrorEntry {
  error: string;
  error_code: string;
  message: string;
  details: string | null;
  field?: string;
}

export interface ErrorBody {
  errors: ErrorEntry[];
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Resource not found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
};

export abstract class DomainError extends Error {
  abstract readonly status: number;
  /** The request field the error is about, when there is one: the entry's `field`. */
  readonly field?: string;
  constructor(message?: string, field?: string) {
    super(message);
    if (field !== undefined) this.field = field;
  }
  toBody(): ErrorBody {
    const entry: ErrorEntry = {
      error: REASONS[this.status] ?? 'Error',
      error_code: String(this.status),
      message: this.message,
      details: null,
    };
    if (this.field) entry.field = this.field;
    return { errors: [entry] };
  }
}

/** The client sent something we cannot accept; retrying the same request will not help. */
export class ValidationError extends DomainError {
  readonly status = 400;
  constructor(readonly problems: readonly FieldProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.problem}`).join('; '));
  }
  override toBody(): ErrorBody {
    return {
      errors: this.problems.map((p) => ({
        error: 'Bad Request',
        error_code: '400',
        message: 'The request is invalid.',
        details: `${p.field}: ${p.problem}`,
        field: p.field,
      })),
    };
  }
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  constructor(readonly details: string | null = null) {
    super('You are not authorized to perform the requested action.');
  }
  override toBody(): ErrorBody {
    return { errors: [{ error: 'Unauthorized', error_code: '401', message: this.message, details: this.details }] };
  }
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  constructor(message: string, field?: string) {
    super(message, field);
  }
}

/** The request names something it may not have: a download link that was changed, or has expired. */
export class ForbiddenError extends DomainError {
  readonly status = 403;
  constructor(message: string, field?: string) {
    super(message, field);
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
}

/**
 * Seed 002's 409: an export of the same environment is still in progress. Its
 * `details` say which kind (seed 002's own words for raw-event exports).
 */
export class ExportInProgressError extends ConflictError {
  constructor(
    readonly details = 'There is already an export job in progress, you can only have one export job in progress at a time.',
  ) {
    super('The request could not be completed due to a conflict with the current state of the target resource.');
  }
  override toBody(): ErrorBody {
    return {
      errors: [
        {
          details: this.details,
          error: 'Conflict',
          error_code: '409',
          message: this.message,
        },
      ],
    };
  }
}

/**
 * A facts build's commit found the environment's facts manifest changed since the
 * build was planned (another build committed first): this build is not made
 * current, its files are left for cleanup, and the next run plans again.
 */
export class FactsManifestConflictError extends ConflictError {
  constructor(environmentId: string, expectedVersion: number) {
    super(`the facts manifest of environment ${environmentId} is no longer at version ${expectedVersion}`);
  }
}

/** The event could not be made durable: the one 500 a tracking client should retry. */
export class DurabilityError extends DomainError {
  readonly status = 500;
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** Maps anything thrown to a status and body; unknown errors become an opaque 500. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof DomainError) return { status: error.status, body: error.toBody() };
  return {
    status: 500,
    body: {
      errors: [
        {
          error: 'Internal Server Error',
          error_code: '500',
          message: 'Something went wrong on our side; the request can be retried.',
          details: null,
        },
      ],
    },
  };
}
