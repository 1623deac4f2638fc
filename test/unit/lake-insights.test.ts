import { describe, expect, it } from 'vitest';
import { lakeShard } from '../../lambdas/contract/lake.ts';
import {
  LakeReadTooLargeError,
  RECENT_EVENTS_SQL,
  recentEvents,
  starsFunnel,
  unassociatedEvents,
} from '../../lambdas/core/insights/lake-insights.ts';
import { errorResponse, ValidationError } from '../../lambdas/core/shared/errors.ts';
import type { QueryParam, QueryRow } from '../../lambdas/ports/query-engine.ts';

const NOW = new Date('2026-12-06T10:30:00.000Z');
const row = (i: number): QueryRow => ({
  event_id: `e${i}`,
  event_type: 'track',
  event_name: 'Sent',
  user_id: 'u',
  company_id: null,
  feature_id: null,
  attributes: null,
  attributes_truncated: false,
  context_active: true,
  timestamp: '2026-12-06T10:00:00.000Z',
  received_at: '2026-12-06T10:00:00.000Z',
  source: 'api',
});

/** An engine that answers each read from a list and records what it was asked. */
function recordingEngine(answers: QueryRow[][]) {
  const calls: { sql: string; params: readonly QueryParam[] }[] = [];
  return {
    calls,
    readRows: async (sql: string, params: readonly QueryParam[] = []) => {
      calls.push({ sql, params });
      return answers.shift() ?? [];
    },
  };
}

describe('recent events', () => {
  it('reads the last hour first, and the two-day window only when the hour holds fewer events than asked for', async () => {
    const full = recordingEngine([Array.from({ length: 3 }, (_, i) => row(i))]);
    const answer = await recentEvents(full, 'env-1', { limit: '3' }, NOW);
    expect(full.calls).toHaveLength(1);
    expect(full.calls[0]?.sql).toBe(RECENT_EVENTS_SQL);
    expect(full.calls[0]?.params).toEqual([lakeShard('env-1'), 'env-1', '2026-12-06', '2026-12-06 09:30:00.000']);
    expect(answer.received_since).toBe('2026-12-06T09:30:00.000Z');
    expect(answer.events.map((e) => e.event_id)).toEqual(['e0', 'e1', 'e2']);

    const quiet = recordingEngine([[row(0)], [row(0), row(1)]]);
    const wider = await recentEvents(quiet, 'env-1', undefined, NOW);
    expect(quiet.calls.map((c) => c.params.slice(2))).toEqual([
      ['2026-12-06', '2026-12-06 09:30:00.000'],
      ['2026-12-05', '2026-12-05 00:00:00.000'],
    ]);
    expect(wider).toMatchObject({ limit: 50, received_since: '2026-12-05T00:00:00.000Z' });
    expect(wider.events).toHaveLength(2);
  });
});

describe('a lake read stopped by the engine', () => {
  it('is a 400 in the console’s words, naming no field, for each read', async () => {
    const refusing = {
      readRows: async (): Promise<QueryRow[]> => {
        throw new ValidationError([{ field: 'sql', problem: 'Query exhausted the scan limit of 10 GB' }]);
      },
    };
    const catalog = {
      listFeatures: async () => [
        {
          id: 'f',
          name: 'F',
          type: 'event' as const,
          event_names: ['x'],
          flag_checks: false,
          adoption: { min_active_days: 5, window_days: 28 },
          retention: { min_active_days: 1, window_days: 28 },
          created_at: '',
          updated_at: '',
        },
      ],
      listSegments: async () => [],
    };
    const reads = [
      () => recentEvents(refusing, 'env-1', {}, NOW),
      () => unassociatedEvents(refusing, 'env-1', {}, NOW),
      () =>
        starsFunnel(
          { engine: refusing, dialect: 'trino', catalog, inputs: { writeInputs: async () => {} } },
          'env-1',
          {},
          NOW,
        ),
    ];
    for (const read of reads) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LakeReadTooLargeError);
      const { status, body } = errorResponse(error);
      expect(status).toBe(400);
      expect(body.errors[0]?.field).toBeUndefined();
      expect(body.errors[0]?.message).toContain('Query exhausted the scan limit of 10 GB');
    }
  });

  it('leaves a 400 about the request itself as it is', async () => {
    const engine = recordingEngine([]);
    const error = await recentEvents(engine, 'env-1', { limit: '0' }, NOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([{ field: 'limit', problem: 'must be at least 1' }]);
    expect(engine.calls).toEqual([]);
  });
});
