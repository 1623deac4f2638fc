import type { QueryParam } from './query-param.ts';

/**
 * Athena execution parameters are SQL literal texts, substituted for each `?` (which
 * Athena allows only in WHERE clauses): strings single-quoted with quotes doubled.
 * A value so rendered stays one literal; it can never become SQL.
 */
export function toAthenaLiteral(value: QueryParam): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot bind ${value} as an Athena parameter`);
    return String(value);
  }
  return `'${value.replaceAll("'", "''")}'`;
}

/** The inverse, for the local stand-in of the Athena task, which binds the same values in DuckDB. */
export function fromAthenaLiteral(literal: string): QueryParam {
  if (literal === 'NULL') return null;
  if (literal === 'true' || literal === 'false') return literal === 'true';
  if (/^'(?:[^']|'')*'$/s.test(literal)) return literal.slice(1, -1).replaceAll("''", "'");
  const number = Number(literal);
  if (literal.trim() !== '' && Number.isFinite(number)) return number;
  throw new TypeError(`not an Athena literal: ${literal.slice(0, 40)}`);
}
