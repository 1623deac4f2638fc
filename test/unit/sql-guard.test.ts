import { describe, expect, it } from 'vitest';
import { assertReadOnlyQuery } from '../../lambdas/core/environments/sql-guard.ts';
import { ValidationError } from '../../lambdas/core/shared/errors.ts';

function problemOf(sql: string): string {
  try {
    assertReadOnlyQuery(sql);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const [problem] = (error as ValidationError).problems;
    expect(problem?.field).toBe('sql');
    return problem?.problem ?? '';
  }
  throw new Error(`expected ${JSON.stringify(sql)} to be rejected`);
}

describe('assertReadOnlyQuery', () => {
  it.each([
    ['a plain SELECT', 'SELECT event_name, count(*) FROM events GROUP BY 1'],
    ['lower-case keywords', 'select 1'],
    ['a WITH query', 'WITH t AS (SELECT company_id FROM events) SELECT count(*) FROM t'],
    ['VALUES', 'VALUES (1, 2), (3, 4)'],
    ['a parenthesised query', '(SELECT 1) UNION ALL (SELECT 2)'],
    ['a trailing semicolon', 'SELECT 1;'],
    ['a trailing semicolon followed by a comment', 'SELECT 1; -- done\n'],
    ['leading comments', '-- how many events?\n/* admin check */ SELECT count(*) FROM events'],
    ['a semicolon inside a string literal', "SELECT * FROM events WHERE comment = 'a; DROP TABLE events; --'"],
    ['a doubled quote inside a string literal', "SELECT * FROM events WHERE comment = 'it''s; fine'"],
    ['a semicolon inside a quoted identifier', 'SELECT 1 AS "odd;name"'],
    ['a semicolon inside a line comment', 'SELECT 1 -- one; two\nFROM events'],
    ['a semicolon inside a block comment', 'SELECT /* a; b */ 1'],
    ['write words inside strings', "SELECT * FROM events WHERE event_name IN ('insert', 'DROP TABLE x')"],
    ['write words as parts of names', 'SELECT update_count, created_at FROM events'],
    ['a ? placeholder', 'SELECT * FROM events WHERE app_id = ? AND dt >= ?'],
  ])('accepts %s', (_name, sql) => {
    expect(() => assertReadOnlyQuery(sql)).not.toThrow();
  });

  it.each([
    ['DROP', 'DROP TABLE events'],
    ['INSERT', "INSERT INTO events VALUES ('x')"],
    ['a DELETE disguised behind a comment', '/* SELECT */ DELETE FROM events'],
    ['CREATE TABLE AS SELECT', 'CREATE TABLE copy AS SELECT * FROM events'],
    ['SHOW', 'SHOW TABLES'],
    ['a data-modifying WITH (DuckDB accepts it)', 'WITH t AS (SELECT 1) INSERT INTO events SELECT * FROM t'],
    ['SELECT INTO', 'SELECT * INTO backup FROM events'],
    ['COPY hidden inside a SELECT', "SELECT 1 FROM (COPY events TO '/tmp/x')"],
  ])('rejects %s as not read-only', (_name, sql) => {
    expect(problemOf(sql)).toMatch(/read-only/);
  });

  it.each([
    ['two statements', 'SELECT 1; SELECT 2'],
    ['a read followed by a write', 'SELECT 1; DROP TABLE events'],
    ['a write after a semicolon and a comment', 'SELECT 1; /* x */ DROP TABLE events;'],
    ['a doubled semicolon', 'SELECT 1;;'],
    ['a write after a string that closes', "SELECT 'a'';'; DELETE FROM events"],
  ])('rejects %s', (_name, sql) => {
    expect(problemOf(sql)).toMatch(/single statement/);
  });

  it.each([
    ['an empty text', ''],
    ['only whitespace', '  \n\t'],
    ['only comments', '-- nothing\n/* here */'],
    ['only a semicolon', ';'],
  ])('rejects %s as empty', (_name, sql) => {
    expect(problemOf(sql)).toMatch(/empty/);
  });

  it.each([
    ['an unterminated string', "SELECT 'abc"],
    ['an unterminated quoted identifier', 'SELECT "abc'],
    ['an unterminated block comment', 'SELECT 1 /* ; DROP TABLE events'],
  ])('rejects %s', (_name, sql) => {
    expect(problemOf(sql)).toMatch(/unterminated/);
  });

  it.each([
    // DuckDB nests block comments: it reads the quote as commented out and runs the DROP.
    ['a nested block comment', "SELECT 1 /* /* */ ' */ ; DROP TABLE events; -- '", /nested/],
    // DuckDB reads $$'$$ as a string: the quotes the guard would pair up hide a statement.
    ['a dollar-quoted string', "SELECT $$'$$; DROP TABLE events; SELECT $$'$$", /\$/],
    // DuckDB reads \' as an escaped quote inside E'…'.
    ['an E-string', "SELECT E'\\'' ; DROP TABLE events; SELECT '''", /E'/],
  ])('rejects %s, which engines would split differently', (_name, sql, problem) => {
    expect(problemOf(sql)).toMatch(problem);
  });
});
