import {
  AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandInput,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine, AthenaQueryError } from '../../lambdas/adapters/aws/athena-query-engine.ts';
import { ValidationError } from '../../lambdas/core/shared/errors.ts';

const athena = mockClient(AthenaClient);
const QUERY_ID = 'qe-1234';

function engine(overrides: Partial<ConstructorParameters<typeof AthenaQueryEngine>[0]> = {}) {
  let clock = 0;
  const sleeps: number[] = [];
  const instance = new AthenaQueryEngine({
    client: new AthenaClient({ region: 'us-east-1' }),
    workGroup: 'featurelake',
    database: 'featurelake_lake',
    pollIntervalMs: 200,
    timeoutMs: 1000,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...overrides,
  });
  return { engine: instance, sleeps };
}

function states(...sequence: QueryExecutionState[]) {
  let chain = athena.on(GetQueryExecutionCommand);
  for (const state of sequence) {
    chain = chain.resolvesOnce({ QueryExecution: { QueryExecutionId: QUERY_ID, Status: { State: state } } });
  }
  return chain;
}

const column = (Name: string, Type: string): ColumnInfo => ({ Name, Type });
const row = (...values: (string | undefined)[]) => ({
  Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })),
});

/** A result set served the way Athena serves it: header row first, pages no longer than MaxResults. */
function serveResults(columns: ColumnInfo[], dataRows: ReturnType<typeof row>[]) {
  const all = [row(...columns.map((c) => c.Name)), ...dataRows];
  athena.on(GetQueryResultsCommand).callsFake((input: GetQueryResultsCommandInput) => {
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const end = Math.min(all.length, start + (input.MaxResults ?? 1000));
    return {
      ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: all.slice(start, end) },
      NextToken: end < all.length ? String(end) : undefined,
    };
  });
}

beforeEach(() => {
  athena.reset();
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
});

describe('AthenaQueryEngine', () => {
  it('binds values as quoted literals in ExecutionParameters and leaves the SQL text alone', async () => {
    states('SUCCEEDED');
    serveResults([column('n', 'bigint')], [row('0')]);
    const sql =
      'SELECT count(*) AS n FROM events WHERE app_id = ? AND user_id = ? AND score >= ? AND context_active = ? AND comment IS DISTINCT FROM ? AND score < ?';

    await engine().engine.readRows(sql, ['env-1', "' OR 1=1 --", 3, true, null, 4.5]);

    const calls = athena.commandCalls(StartQueryExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.QueryString).toBe(sql);
    expect(input?.WorkGroup).toBe('featurelake');
    expect(input?.QueryExecutionContext).toEqual({ Database: 'featurelake_lake' });
    expect(input?.ExecutionParameters).toEqual(["'env-1'", "''' OR 1=1 --'", '3', 'true', 'NULL', '4.5']);
  });

  it('sends no ExecutionParameters for a query without placeholders', async () => {
    states('SUCCEEDED');
    serveResults([column('one', 'integer')], [row('1')]);

    await engine().engine.readRows('SELECT 1 AS one');

    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input).not.toHaveProperty('ExecutionParameters');
  });

  it('refuses a statement that is not a read-only query before starting anything', async () => {
    await expect(engine().engine.readRows('DROP TABLE events')).rejects.toBeInstanceOf(ValidationError);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it('polls at the configured interval until the query succeeds, then returns its rows', async () => {
    states('QUEUED', 'RUNNING', 'SUCCEEDED');
    serveResults([column('event_name', 'varchar')], [row('report_viewed')]);
    const { engine: e, sleeps } = engine();

    const rows = await e.readRows('SELECT event_name FROM events');

    expect(rows).toEqual([{ event_name: 'report_viewed' }]);
    expect(sleeps).toEqual([200, 200]);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(3);
  });

  it('reads every page, skipping only the header row', async () => {
    states('SUCCEEDED');
    const dataRows = Array.from({ length: 2500 }, (_, i) => row(String(i)));
    serveResults([column('n', 'integer')], dataRows);

    const rows = await engine().engine.readRows('SELECT n FROM events');

    expect(rows).toHaveLength(2500);
    expect(rows[0]).toEqual({ n: 0 });
    expect(rows[2499]).toEqual({ n: 2499 });
    expect(rows.some((r) => r.n === 'n')).toBe(false);
    const pageCalls = athena.commandCalls(GetQueryResultsCommand);
    expect(pageCalls.length).toBe(3);
    expect(pageCalls[1]?.args[0].input.NextToken).toBeDefined();
  });

  it('stops at maxRows without fetching further pages', async () => {
    states('SUCCEEDED');
    serveResults(
      [column('n', 'integer')],
      Array.from({ length: 5000 }, (_, i) => row(String(i))),
    );

    const rows = await engine().engine.readRows('SELECT n FROM events', [], { maxRows: 1500 });

    expect(rows).toHaveLength(1500);
    expect(rows[1499]).toEqual({ n: 1499 });
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(2);
  });

  it('stops reading pages once the rows pass maxBytes, keeping the row that crossed it', async () => {
    states('SUCCEEDED');
    serveResults(
      [column('filler', 'varchar')],
      Array.from({ length: 5000 }, () => row('x'.repeat(1000))),
    );

    const rows = await engine().engine.readRows('SELECT filler FROM events', [], { maxRows: 10_001, maxBytes: 50_000 });

    // Each row is 1,013 bytes of JSON and a comma: the 50th passes 50,000.
    expect(rows).toHaveLength(50);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(1);
  });

  it('converts cells to the types their columns declare', async () => {
    states('SUCCEEDED');
    serveResults(
      [
        column('i', 'integer'),
        column('b', 'bigint'),
        column('huge', 'bigint'),
        column('t', 'tinyint'),
        column('s', 'smallint'),
        column('d', 'double'),
        column('f', 'float'),
        column('r', 'real'),
        column('dec', 'decimal'),
        column('flag', 'boolean'),
        column('off', 'boolean'),
        column('ts', 'timestamp'),
        column('ts_short', 'timestamp'),
        column('tz', 'timestamp with time zone'),
        column('name', 'varchar'),
        column('empty', 'varchar'),
        column('day', 'date'),
        column('missing', 'integer'),
      ],
      [
        row(
          '42',
          '9007199254740991',
          '9223372036854775807',
          '-3',
          '7',
          '0.25',
          '1.5',
          '2.5',
          '12.34',
          'true',
          'false',
          '2024-03-01 12:00:05.123',
          '2024-03-01 12:00:05',
          '2024-03-01 14:00:05.500 +02:00',
          'Acme, Inc.',
          '',
          '2024-03-01',
          undefined,
        ),
      ],
    );

    const [converted] = await engine().engine.readRows('SELECT * FROM events');

    expect(converted).toEqual({
      i: 42,
      b: 9007199254740991,
      huge: '9223372036854775807',
      t: -3,
      s: 7,
      d: 0.25,
      f: 1.5,
      r: 2.5,
      dec: 12.34,
      flag: true,
      off: false,
      ts: '2024-03-01T12:00:05.123Z',
      ts_short: '2024-03-01T12:00:05.000Z',
      tz: '2024-03-01T12:00:05.500Z',
      name: 'Acme, Inc.',
      empty: '',
      day: '2024-03-01',
      missing: null,
    });
  });

  it('rejects with Athena’s reason when the query fails, and reads no results', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        QueryExecutionId: QUERY_ID,
        Status: {
          State: 'FAILED',
          StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
          AthenaError: { ErrorCategory: 2, ErrorType: 1006 },
        },
      },
    });

    const error = await engine()
      .engine.readRows('SELECT nope FROM events')
      .catch((e: unknown) => e);

    // A fault in the query text (Athena's user-error category) is the client's 400, naming `sql`.
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      { field: 'sql', problem: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved" },
    ]);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('keeps a failure on Athena’s side (system category) as an AthenaQueryError with its reason', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: {
          State: 'FAILED',
          StateChangeReason: 'INTERNAL_ERROR_QUERY_ENGINE: something broke',
          AthenaError: { ErrorCategory: 1, ErrorType: 401 },
        },
      },
    });

    const error = await engine()
      .engine.readRows('SELECT 1')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AthenaQueryError);
    expect((error as AthenaQueryError).reason).toBe('INTERNAL_ERROR_QUERY_ENGINE: something broke');
    expect((error as AthenaQueryError).errorCategory).toBe(1);
  });

  it('rejects when the query is cancelled', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'CANCELLED' } } });

    await expect(engine().engine.readRows('SELECT 1')).rejects.toMatchObject({ outcome: 'CANCELLED' });
  });

  it('stops the query and rejects when it runs past the timeout', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    const { engine: e, sleeps } = engine({ timeoutMs: 1000, pollIntervalMs: 200 });

    const error = await e.readRows('SELECT 1').catch((err: unknown) => err);

    expect(error).toBeInstanceOf(AthenaQueryError);
    expect((error as AthenaQueryError).outcome).toBe('TIMED_OUT');
    const stops = athena.commandCalls(StopQueryExecutionCommand);
    expect(stops).toHaveLength(1);
    expect(stops[0]?.args[0].input.QueryExecutionId).toBe(QUERY_ID);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });
});
