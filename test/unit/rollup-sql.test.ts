import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it, vi } from 'vitest';
import { EXPORT_INPUTS_TABLE_NAME } from '../../lambdas/contract/export-inputs.ts';
import { EVENT_ID_DEDUP_DAYS } from '../../lambdas/contract/lake.ts';
import {
  companyFactsBuildParams,
  companyFactsBuildSql,
  companyFactsPlanParams,
  companyFactsPlanSql,
} from '../../lambdas/core/company-export/facts/sql.ts';
import {
  DUCKDB,
  type SqlDialect,
  type SqlDialectName,
  TRINO,
} from '../../lambdas/core/company-export/rollup/dialect.ts';
import {
  COMPANY_ROLLUP_FROM_FACTS_PARAM_NAMES,
  COMPANY_ROLLUP_PARAM_NAMES,
  companyRollupFromFactsParams,
  companyRollupFromFactsSql,
  companyRollupOneDateFromFactsSql,
  companyRollupParams,
  companyRollupSql,
  companyRollupWeeklyFromFactsSql,
} from '../../lambdas/core/company-export/rollup/sql.ts';
import { aggregationWindows } from '../../lambdas/core/company-export/rollup/windows.ts';

/** Every SQL text the rollup and the daily facts can send to Athena. */
const ATHENA_TEXTS = {
  'company rollup': companyRollupSql('trino'),
  'company rollup from facts': companyRollupFromFactsSql('trino'),
  'company rollup from facts, one date': companyRollupOneDateFromFactsSql('trino'),
  'company rollup from facts, weekly': companyRollupWeeklyFromFactsSql('trino'),
  'facts build': companyFactsBuildSql('trino'),
  'facts plan': companyFactsPlanSql('trino'),
};
const DIALECTS: SqlDialectName[] = ['trino', 'duckdb'];

/** The text without comments and with every quoted literal and identifier emptied. */
function stripped(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""');
}

const CLAUSES = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'ORDER',
  'ON',
  'JOIN',
  'VALUES',
  'WINDOW',
  'LIMIT',
]);

/** For each `?`, the clause it sits in (the innermost clause keyword in force at its depth or around it). */
function placeholderClauses(sql: string): string[] {
  const tokens = stripped(sql).match(/\?|\(|\)|[A-Za-z_]+/g) ?? [];
  const clauseAt: (string | undefined)[] = [undefined];
  const found: string[] = [];
  for (const token of tokens) {
    if (token === '(') clauseAt.push(undefined);
    else if (token === ')') clauseAt.pop();
    else if (token === '?') found.push(clauseAt.findLast((c) => c !== undefined) ?? 'none');
    else if (CLAUSES.has(token.toUpperCase())) clauseAt[clauseAt.length - 1] = token.toUpperCase();
  }
  return found;
}

/**
 * How often each table is read once Trino has inlined every WITH query where it is
 * referenced (Trino evaluates a WITH query once per reference: trinodb/trino#10).
 */
function readsAfterInlining(sql: string): Map<string, number> {
  const text = stripped(sql);
  const names = [...text.matchAll(/(?:WITH|,)\s*([a-z_]+) AS (?:MATERIALIZED )?\(/g)].map((m) => m[1] as string);
  const bodies = new Map<string, string>();
  names.forEach((name, i) => {
    const start = text.search(new RegExp(`\\b${name} AS (?:MATERIALIZED )?\\(`));
    const next = names[i + 1];
    const end = next ? text.search(new RegExp(`\\b${next} AS (?:MATERIALIZED )?\\(`)) : text.lastIndexOf('\nSELECT');
    bodies.set(name, text.slice(start, end).replace(/^[a-z_]+ AS (?:MATERIALIZED )?\(/, ''));
  });
  const refs = (body: string) => [...body.matchAll(/\b(?:FROM|JOIN)\s+([a-z_]+)/g)].map((m) => m[1] as string);
  const memo = new Map<string, Map<string, number>>();
  const expand = (name: string): Map<string, number> => {
    const known = memo.get(name);
    if (known) return known;
    const total = new Map<string, number>();
    const body = bodies.get(name);
    if (body === undefined) total.set(name, 1);
    else
      for (const ref of refs(body)) for (const [table, n] of expand(ref)) total.set(table, (total.get(table) ?? 0) + n);
    memo.set(name, total);
    return total;
  };
  const total = new Map<string, number>();
  for (const ref of refs(text.slice(text.lastIndexOf('\nSELECT')))) {
    for (const [table, n] of expand(ref)) total.set(table, (total.get(table) ?? 0) + n);
  }
  return total;
}

describe('SQL sent to Athena', () => {
  for (const [name, sql] of Object.entries(ATHENA_TEXTS)) {
    it(`${name}: parses as Trino SQL`, () => {
      expect(new TrinoSQL().validate(sql)).toEqual([]);
    });
  }

  it('the Trino check can fail: the DuckDB spellings in the dialect table are refused, the Trino ones parse', () => {
    // Small texts: ANTLR's error recovery on the whole query takes half a minute.
    const snippets = (D: SqlDialect) => [
      `SELECT ${D.intDiv('a', 'b')} FROM t`,
      `SELECT ${D.arrayElementKeys('j', (e) => `upper(${e})`)} FROM t`,
      `SELECT ${D.lastNonNull('v')} OVER (PARTITION BY k ORDER BY o) FROM t`,
      `WITH x AS ${D.materialized}(SELECT 1 AS a) SELECT a FROM x`,
    ];
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      for (const sql of snippets(TRINO)) expect(new TrinoSQL().validate(sql), sql).toEqual([]);
      for (const sql of snippets(DUCKDB)) expect(new TrinoSQL().validate(sql).length, sql).toBeGreaterThan(0);
    } finally {
      quiet.mockRestore();
    }
  });

  it('reads the lake 4 times (1 full read, 3 of the company calls and userless records) and the inputs file a bounded number of times, once Trino inlines the WITH queries', () => {
    const reads = readsAfterInlining(companyRollupSql('trino'));
    expect(reads.get('events')).toBe(4);
    // The inputs file is a few kilobytes; the role steps read the date axis too (seen facts
    // per date), and the attribute spans the features (their day counts).
    expect(reads.get(EXPORT_INPUTS_TABLE_NAME)).toBeLessThanOrEqual(34);
    expect([...reads.keys()].sort()).toEqual([EXPORT_INPUTS_TABLE_NAME, 'events'].sort());
  });

  it.each([
    ['', companyRollupFromFactsSql],
    [' (one date)', companyRollupOneDateFromFactsSql],
    [' (weekly)', companyRollupWeeklyFromFactsSql],
  ])(
    'from facts%s: reads the facts table twice per chain read (records, uses), and the lake only in bounded, mostly pruned reads',
    (_, text) => {
      const reads = readsAfterInlining(text('trino'));
      // Per chain read (1 main + 3 side): the raw records (pruned by received), the facts'
      // copies of their event ids (event_id column) with its pruned id list, and the facts:
      // their records (dated by the feedback-version window with the raw ones) and their
      // uses (which skip it), for nearly disjoint columns.
      expect(reads.get('events')).toBe(12);
      expect(reads.get('company_facts')).toBe(8);
      expect(reads.get(EXPORT_INPUTS_TABLE_NAME)).toBeLessThanOrEqual(60);
      expect([...reads.keys()].sort()).toEqual([EXPORT_INPUTS_TABLE_NAME, 'company_facts', 'events'].sort());
    },
  );
});

const windows = aggregationWindows('30d_daily', new Date('2025-06-11T00:00:00Z'));
/** Each text with the parameters its builder binds and, where there is one, their documented names. */
const TEXTS = {
  'company rollup': {
    sql: companyRollupSql,
    params: () => companyRollupParams({ environmentId: 'a', jobId: 'j', windows }),
    names: COMPANY_ROLLUP_PARAM_NAMES as readonly string[],
  },
  'company rollup from facts': {
    sql: companyRollupFromFactsSql,
    params: () =>
      companyRollupFromFactsParams({
        environmentId: 'a',
        jobId: 'j',
        windows,
        facts: [{ from: '2020-01-01', to: '2025-06-09', build_id: 'b', cutoff: '2025-06-10T00:30:00.000Z' }],
        watermark: '2025-06-10T00:30:00.000Z',
      }),
    names: COMPANY_ROLLUP_FROM_FACTS_PARAM_NAMES as readonly string[],
  },
  'company rollup from facts, one date': {
    sql: companyRollupOneDateFromFactsSql,
    params: () =>
      companyRollupFromFactsParams({
        environmentId: 'a',
        jobId: 'j',
        windows: aggregationWindows('today', new Date('2025-06-11T09:00:00Z')),
        facts: [{ from: '2020-01-01', to: '2025-06-10', build_id: 'b', cutoff: '2025-06-11T00:30:00.000Z' }],
        watermark: '2025-06-11T00:30:00.000Z',
      }),
    names: COMPANY_ROLLUP_FROM_FACTS_PARAM_NAMES as readonly string[],
  },
  'company rollup from facts, weekly': {
    sql: companyRollupWeeklyFromFactsSql,
    params: () =>
      companyRollupFromFactsParams({
        environmentId: 'a',
        jobId: 'j',
        windows: aggregationWindows('6m_weekly', new Date('2025-06-11T09:00:00Z')),
        facts: [{ from: '2020-01-01', to: '2025-06-08', build_id: 'b', cutoff: '2025-06-11T00:30:00.000Z' }],
        watermark: '2025-06-11T00:30:00.000Z',
      }),
    names: COMPANY_ROLLUP_FROM_FACTS_PARAM_NAMES as readonly string[],
  },
  'facts build': {
    sql: companyFactsBuildSql,
    params: () =>
      companyFactsBuildParams({
        environmentId: 'a',
        buildId: '20250610T003000Z-0123abcd',
        cutoff: '2025-06-10T00:30:00.000Z',
        firstDay: '2025-06-01',
        lastDay: '2025-06-09',
      }),
    names: undefined,
  },
  'facts plan': {
    sql: companyFactsPlanSql,
    params: () =>
      companyFactsPlanParams({
        environmentId: 'a',
        since: '2025-06-09T00:30:00.000Z',
        cutoff: '2025-06-10T00:30:00.000Z',
        through: '2025-06-09',
      }),
    names: undefined,
  },
} as const;

describe.each(DIALECTS.flatMap((dialect) => Object.entries(TEXTS).map(([name, text]) => ({ dialect, name, text }))))(
  '$name text ($dialect)',
  ({ dialect, text }) => {
    const sql = text.sql(dialect);

    it('puts every ? in a WHERE clause, the only place Athena accepts one', () => {
      const clauses = placeholderClauses(sql);
      expect(clauses.length).toBeGreaterThan(0);
      expect(new Set(clauses)).toEqual(new Set(['WHERE']));
    });

    it('has exactly as many ? as its params builder binds', () => {
      expect(placeholderClauses(sql)).toHaveLength(text.params().length);
      if (text.names) expect(text.names).toHaveLength(placeholderClauses(sql).length);
    });

    it('holds no value: its only literals are the query’s own constants', () => {
      const literals = new Set([...sql.replace(/--[^\n]*/g, ' ').matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]));
      expect([...literals].filter((l) => !OWN_LITERALS.has(l as string))).toEqual([]);
    });

    it('is built once and is the same text every time (one text per dialect)', () => {
      expect(text.sql(dialect)).toBe(sql);
    });
  },
);

/** The literals the texts may hold: their own constants, never a value. */
const OWN_LITERALS = new Set([
  ...['facts_span', 'build_span', 'use', 'record'],
  ...['date', 'feature', 'feature_event', 'segment', 'filter', 'filter_value'],
  ...[
    'identify_company',
    'track',
    'feedback',
    'feature_flag',
    'prompt_event',
    'retraction',
    'check',
    'check-is-enabled',
    'feedbackId',
    'evalResult',
    'true',
    'name',
    'any',
    'keep',
    'copy',
    'grid',
    'day',
    '1970-01-01',
    '$',
    String(EVENT_ID_DEDUP_DAYS),
    ',',
    ' ',
    'T',
    'Z',
    '%Y-%m-%dT%H:%M:%S.%gZ',
  ],
  ...['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'in', 'is_set', 'is_not_set'],
  ...['string', 'number', 'boolean', 'null', 'array', 'object', '"', '[', '{', 't', 'f', 'n', 's:', 'j:', 'n:'],
  ...['never', 'tried', 'retained', 'churned', 'Inactive', 'Monthly', 'Weekly', 'Daily'],
  ...['Very dissatisfied', 'Dissatisfied', 'Neutral', 'Satisfied', 'Very satisfied', ''],
]);
