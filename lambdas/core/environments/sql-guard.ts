/**
 * A first, engine-independent check that a text is one read-only query, run before
 * any SQL reaches Athena or DuckDB (the admin `POST /admin/v1/sql` endpoint takes SQL
 * from a person). It is deliberately stricter than either dialect: whenever the two
 * engines could read a text differently (DuckDB's nested comments, `E'…'` escape
 * strings and `$$…$$` strings, which Trino does not have) the guard rejects it rather
 * than guess, so a statement boundary can never hide where the guard cannot see it.
 *
 * It is not the only line of defence: the local DuckDB engine also checks the type of
 * the prepared statement, and on AWS the query role may not write to Glue or the lake.
 */
import { ValidationError } from '../shared/errors.ts';

const READ_ONLY_FIRST_KEYWORDS = new Set(['SELECT', 'WITH', 'VALUES']);

/**
 * Words that only appear in statements that change something. A read-only query has
 * no use for them outside quotes, and DuckDB (like PostgreSQL) accepts
 * `WITH … INSERT/UPDATE/DELETE`, so checking the first keyword alone is not enough.
 */
const WRITE_KEYWORDS = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'INTO',
  'CREATE',
  'DROP',
  'ALTER',
  'TRUNCATE',
  'COPY',
  'ATTACH',
  'DETACH',
  'INSTALL',
  'LOAD',
  'CALL',
  'GRANT',
  'REVOKE',
  'UNLOAD',
  'EXPORT',
  'IMPORT',
  'PRAGMA',
  'VACUUM',
  'CHECKPOINT',
]);

type Token = { kind: 'word'; text: string } | { kind: 'semicolon' } | { kind: 'other'; text: string };

function reject(problem: string): never {
  throw new ValidationError([{ field: 'sql', problem }]);
}

const isWordStart = (c: string) => /[A-Za-z_]/.test(c);
const isWordPart = (c: string) => /[A-Za-z0-9_]/.test(c);

/** Splits the text into the tokens the guard cares about; literals, quoted identifiers and comments vanish. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) reject('has an unterminated /* comment');
      // DuckDB nests block comments and Trino does not: refuse the case where they disagree.
      if (sql.slice(i + 2, end).includes('/*')) reject('has a nested /* comment, which engines read differently');
      i = end + 2;
    } else if (c === "'" || c === '"') {
      i = skipQuoted(sql, i, c);
      tokens.push({ kind: 'other', text: c });
    } else if (c === ';') {
      tokens.push({ kind: 'semicolon' });
      i++;
    } else if (c === '$') {
      // `$$…$$` is a string in DuckDB and not in Trino: one could hide a `;` from one reader.
      reject('may not use $ outside quotes (dollar-quoted strings and $n parameters are not supported)');
    } else if (isWordStart(c)) {
      let end = i + 1;
      while (end < sql.length && isWordPart(sql[end] as string)) end++;
      const word = sql.slice(i, end);
      // DuckDB reads `E'…'` with backslash escapes; Trino has no such literal.
      if (sql[end] === "'" && word.toUpperCase() === 'E') {
        reject("may not use E'…' escape strings; write the text as a plain '…' literal");
      }
      tokens.push({ kind: 'word', text: word.toUpperCase() });
      i = end;
    } else {
      tokens.push({ kind: 'other', text: c });
      i++;
    }
  }
  return tokens;
}

/** Returns the index just past the closing quote; a doubled quote is the quote character itself. */
function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return reject(quote === "'" ? 'has an unterminated string literal' : 'has an unterminated quoted identifier');
}

/**
 * Throws `ValidationError` (field `sql`) unless `sql` is exactly one statement whose
 * first keyword is SELECT, WITH or VALUES (optionally inside parentheses), with no
 * keyword that writes. Comments, a trailing semicolon, and semicolons inside string
 * literals, quoted identifiers or comments are allowed.
 */
export function assertReadOnlyQuery(sql: string): void {
  const tokens = tokenize(sql);
  if (tokens.length === 0) reject('is empty');

  const semicolon = tokens.findIndex((t) => t.kind === 'semicolon');
  if (semicolon !== -1 && semicolon !== tokens.length - 1) reject('must be a single statement');
  const statement = semicolon === -1 ? tokens : tokens.slice(0, semicolon);
  if (statement.length === 0) reject('is empty');

  const first = statement.find((t) => !(t.kind === 'other' && t.text === '('));
  if (first?.kind !== 'word' || !READ_ONLY_FIRST_KEYWORDS.has(first.text)) {
    reject('must be a read-only query starting with SELECT, WITH or VALUES');
  }
  const write = statement.find((t) => t.kind === 'word' && WRITE_KEYWORDS.has(t.text));
  if (write?.kind === 'word') reject(`must be read-only; it contains ${write.text}`);
}

/**
 * Admin SQL answers within API Gateway's 30 seconds, so each engine stops a query
 * at its time limit (DuckDB interrupts it, Athena is told StopQueryExecution) and
 * answers this: retrying the same text would only run out of time again.
 */
export function queryTimedOut(timeLimitMs: number): ValidationError {
  const seconds = Number((timeLimitMs / 1000).toFixed(1));
  return new ValidationError([
    {
      field: 'sql',
      problem: `ran longer than the time limit of ${seconds} ${seconds === 1 ? 'second' : 'seconds'} and was stopped: read less (filter on shard, app_id and dt, select fewer columns, add a LIMIT) and run it again`,
    },
  ]);
}
