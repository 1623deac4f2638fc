import { z } from 'zod';
import { jsonRowBytes, type QueryEngine, type QueryRow } from '../../ports/query-engine.ts';
import { UnauthorizedError, ValidationError } from '../shared/errors.ts';
import { sameSecret } from './environments.ts';

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
 * Most bytes of rows (their JSON) one admin query returns. A Lambda's response may be
 * at most 6 MB; 5 MiB of rows leaves room for the rest of the answer.
 */
export const MAX_SQL_BYTES = 5 * 1024 * 1024;

export interface SqlAnswer {
  rows: QueryRow[];
  row_count: number;
  /** Whether the result had more rows than `rows`. */
  truncated: boolean;
  /** Which bound cut the result and how to see the rest; null when nothing was cut. */
  truncated_reason: string | null;
}

/**
 * The answer of `POST /admin/v1/sql` from the rows an engine read with
 * `{maxRows: MAX_SQL_ROWS + 1, maxBytes: MAX_SQL_BYTES}`: as many leading rows as fit
 * both bounds, and whether (and why) the rest was cut. A result whose first row alone
 * is over the byte bound has nothing to show: that is a 400 naming `sql`.
 */
export function sqlAnswer(read: readonly QueryRow[]): SqlAnswer {
  const rows: QueryRow[] = [];
  // `[` and `]` less the last row's comma.
  let bytes = 1;
  let cut: 'rows' | 'bytes' | undefined;
  for (const row of read) {
    if (rows.length === MAX_SQL_ROWS) {
      cut = 'rows';
      break;
    }
    bytes += jsonRowBytes(row);
    if (bytes > MAX_SQL_BYTES) {
      cut = 'bytes';
      break;
    }
    rows.push(row);
  }
  if (cut === 'bytes' && rows.length === 0) {
    throw new ValidationError([
      {
        field: 'sql',
        problem:
          'returns a row larger than the 5 MB an answer may hold: select fewer columns, or shorter values (e.g. substr(attributes, 1, 1000))',
      },
    ]);
  }
  const reasons = {
    rows: `The result has more than ${MAX_SQL_ROWS.toLocaleString('en-US')} rows; only the first ${MAX_SQL_ROWS.toLocaleString('en-US')} are shown. Add a LIMIT, a narrower WHERE or an aggregate to see the rest.`,
    bytes: `The result is larger than the 5 MB an answer may hold; only the first ${rows.length.toLocaleString('en-US')} rows are shown. Select fewer columns or shorter values, or add a LIMIT or a narrower WHERE, to see the rest.`,
  };
  return { rows, row_count: rows.length, truncated: cut !== undefined, truncated_reason: cut ? reasons[cut] : null };
}

/** `POST /admin/v1/sql`: one read-only query over the lake, its rows cut to what one answer may hold. */
export async function runAdminSql(
  engine: Pick<QueryEngine, 'readRows'>,
  request: z.output<typeof sqlRequest>,
): Promise<SqlAnswer> {
  const rows = await engine.readRows(request.sql, request.params ?? [], {
    maxRows: MAX_SQL_ROWS + 1,
    maxBytes: MAX_SQL_BYTES,
  });
  return sqlAnswer(rows);
}
