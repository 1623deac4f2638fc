import { describe, expect, it } from 'vitest';
import { lakeShard } from '../../lambdas/contract/lake.ts';
import { MAX_BODY_BYTES } from '../../lambdas/contract/routes.ts';
import { ValidationError } from '../../lambdas/core/shared/errors.ts';
import { trackingEvents } from '../../lambdas/core/tracking/tracking.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const target = { environmentId: 'app-1' };

function track(method: string, body: unknown, contentType = 'application/json') {
  return trackingEvents(
    { method, contentType, body: typeof body === 'string' ? body : JSON.stringify(body) },
    target,
    NOW,
  );
}

function problems(fn: () => unknown): Array<{ field: string; problem: string }> {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('normalisation into lake rows', () => {
  it('stores numeric ids as strings and fills server-side fields', () => {
    const [row] = track('company', { companyId: 101112231415, userId: 7 });
    expect(row).toMatchObject({
      event_type: 'identify_company',
      company_id: '101112231415',
      user_id: '7',
      context_active: true,
      timestamp: NOW.toISOString(),
      received_at: NOW.toISOString(),
      dt: '2026-03-10',
      app_id: 'app-1',
      shard: lakeShard('app-1'),
      received: '2026-03-10',
      source: 'api',
      attributes: null,
    });
    expect(row?.event_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('places every row of a backfill by the environment and the receive date, never by the event date', () => {
    const calls = ['2020-01-01', '2023-07-15', '2026-03-11'].map((timestamp) => ({
      type: 'user',
      userId: 'u',
      timestamp,
    }));
    const rows = track('bulk', calls);
    expect(rows.map((r) => r.dt)).toEqual(['2020-01-01', '2023-07-15', '2026-03-11']);
    expect(rows.map((r) => [r.shard, r.received])).toEqual(Array(3).fill([lakeShard('app-1'), '2026-03-10']));
  });

  it('reads a timestamp without offset as UTC and a date alone as midnight UTC', () => {
    expect(track('user', { userId: 'u', timestamp: '2026-03-09T23:30:00' })[0]?.timestamp).toBe(
      '2026-03-09T23:30:00.000Z',
    );
    expect(track('user', { userId: 'u', timestamp: '2026-03-09' })[0]?.timestamp).toBe('2026-03-09T00:00:00.000Z');
    expect(track('user', { userId: 'u', timestamp: '2026-03-10T01:00:00+02:00' })[0]).toMatchObject({
      timestamp: '2026-03-09T23:00:00.000Z',
      dt: '2026-03-09',
    });
  });

  it('accepts a timestamp up to one day ahead, not more', () => {
    expect(track('user', { userId: 'u', timestamp: '2026-03-11T11:59:00Z' })).toHaveLength(1);
    expect(problems(() => track('user', { userId: 'u', timestamp: '2026-03-11T12:00:01Z' }))).toEqual([
      { field: 'timestamp', problem: 'must not be more than one day in the future' },
    ]);
  });

  it('refuses timestamps before the lake’s first date, 2020-01-01', () => {
    expect(problems(() => track('user', { userId: 'u', timestamp: '2019-12-31T23:59:59.999Z' }))).toEqual([
      { field: 'timestamp', problem: 'must not be before 2020-01-01' },
    ]);
    expect(track('user', { userId: 'u', timestamp: '2020-01-01T00:00:00Z' })).toHaveLength(1);
  });

  it('keeps user calls free of a company and company calls free of a required user', () => {
    expect(track('user', { userId: 'u', companyId: 'ignored' })[0]?.company_id).toBeNull();
    expect(track('company', { companyId: 'c' })[0]?.user_id).toBeNull();
  });

  it('takes Content-Type with parameters and a base64 body (as API Gateway sends binary types)', () => {
    const body = Buffer.from(JSON.stringify({ userId: 'b64' })).toString('base64');
    const [row] = trackingEvents(
      { method: 'user', contentType: 'Application/JSON; charset=utf-8', body, isBase64Encoded: true },
      target,
      NOW,
    );
    expect(row?.user_id).toBe('b64');
  });

  it('accepts a body of exactly 1 MB and refuses one byte more', () => {
    const envelope = JSON.stringify({ userId: 'u', attributes: { pad: '' } });
    const pad = 'x'.repeat(MAX_BODY_BYTES - Buffer.byteLength(envelope));
    expect(track('user', { userId: 'u', attributes: { pad } })).toHaveLength(1);
    expect(problems(() => track('user', { userId: 'u', attributes: { pad: `${pad}x` } }))[0]?.field).toBe('body');
  });

  it('refuses an empty body, an empty bulk and bulk calls without a type, by index', () => {
    expect(problems(() => track('user', ''))).toEqual([{ field: 'body', problem: 'is empty; send a JSON object' }]);
    expect(problems(() => track('bulk', []))[0]?.field).toBe('body');
    expect(problems(() => track('bulk', [{ userId: 'u' }, { type: 'user', userId: 'v' }]))).toEqual([
      {
        field: '[0].type',
        problem: 'is required: one of user, company, event, feedback, feature-flag-event, prompt-event',
      },
    ]);
  });

  it('names a nested timestamp problem in bulk by index', () => {
    expect(problems(() => track('bulk', [{ type: 'user', userId: 'u', timestamp: '2030-01-01T00:00:00Z' }]))).toEqual([
      { field: '[0].timestamp', problem: 'must not be more than one day in the future' },
    ]);
  });

  it('refuses ids that are empty strings, booleans or objects, and names the problem', () => {
    // Any JSON number is an id (the Node SDK lets any number through): a 400 would drop its whole batch.
    expect(track('user', { userId: 1.5 })[0]?.user_id).toBe('1.5');
    expect(problems(() => track('user', { userId: true }))[0]?.problem).toMatch(/string .* or a number/);
    expect(problems(() => track('user', { userId: {} }))[0]?.field).toBe('userId');
    expect(problems(() => track('user', { userId: '' }))[0]).toEqual({ field: 'userId', problem: 'must not be empty' });
    expect(problems(() => track('user', { userId: 'u', messageId: 5 }))[0]).toEqual({
      field: 'messageId',
      problem: 'must be a string',
    });
  });
});
