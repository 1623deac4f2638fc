import { describe, expect, it } from 'vitest';
import {
  exclusionsRequest,
  featureRequest,
  parseCatalogId,
  parseCatalogPut,
  segmentRequest,
  toFeature,
} from '../../lambdas/core/catalog/catalog.ts';
import { ValidationError } from '../../lambdas/core/shared/errors.ts';
import { BODY_LIMITS, parseRequestBody, parseRequestPayload } from '../../lambdas/core/shared/request-body.ts';

function problems(fn: () => unknown): Array<{ field: string; problem: string }> {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const fields = (fn: () => unknown) => problems(fn).map((p) => p.field);
const feature = (payload: unknown) => parseRequestPayload(featureRequest, payload);
const segment = (payload: unknown) => parseRequestPayload(segmentRequest, payload);
const exclusions = (payload: unknown) => parseRequestPayload(exclusionsRequest, payload);

describe('feature requests', () => {
  it('fills the default adoption and retention thresholds', () => {
    expect(feature({ name: ' Messaging ', type: 'event', event_names: ['Sent message'] })).toEqual({
      name: 'Messaging',
      type: 'event',
      event_names: ['Sent message'],
      flag_checks: false,
      adoption: { min_active_days: 5, window_days: 28 },
      retention: { min_active_days: 1, window_days: 28 },
    });
  });

  it('takes flag_checks, and with it an empty list of event names', () => {
    expect(feature({ name: 'x', type: 'event', event_names: ['a'], flag_checks: true })).toMatchObject({
      event_names: ['a'],
      flag_checks: true,
    });
    expect(feature({ name: 'x', type: 'event', event_names: [], flag_checks: true })).toMatchObject({
      event_names: [],
      flag_checks: true,
    });
    // An attribute feature has no such option: the field is ignored like any unknown one.
    expect(
      feature({ name: 'x', type: 'attribute', attribute: 'plan', operator: 'is_set', flag_checks: true }),
    ).not.toHaveProperty('flag_checks');
  });

  it('takes per-feature thresholds, each field defaulting on its own', () => {
    const parsed = feature({
      name: 'x',
      type: 'event',
      event_names: ['e'],
      adoption: { min_active_days: 3, window_days: 7 },
      retention: { window_days: 14 },
    });
    expect(parsed.adoption).toEqual({ min_active_days: 3, window_days: 7 });
    expect(parsed.retention).toEqual({ min_active_days: 1, window_days: 14 });
  });

  it('trims event names like the tracking API does, drops repeats, and ignores unknown fields', () => {
    expect(feature({ name: 'x', type: 'event', event_names: [' a ', 'b', 'a'], id: 'other', colour: 'red' })).toEqual(
      expect.objectContaining({ event_names: ['a', 'b'] }),
    );
    expect(feature({ name: 'x', type: 'event', event_names: ['a'], id: 'other' })).not.toHaveProperty('id');
  });

  it('makes an attribute feature of a filter at the top level', () => {
    expect(feature({ name: 'Paying', type: 'attribute', attribute: 'plan', operator: 'in', value: ['pro'] })).toEqual({
      name: 'Paying',
      type: 'attribute',
      attribute: 'plan',
      operator: 'in',
      value: ['pro'],
      adoption: { min_active_days: 5, window_days: 28 },
      retention: { min_active_days: 1, window_days: 28 },
    });
    expect(feature({ name: 'Has CRM', type: 'attribute', attribute: 'crm', operator: 'is_set' })).toMatchObject({
      value: null,
    });
  });

  it.each([
    [{ type: 'event', event_names: ['a'] }, 'name', 'is required'],
    [{ name: '   ', type: 'event', event_names: ['a'] }, 'name', 'must not be empty'],
    [{ name: 'x'.repeat(201), type: 'event', event_names: ['a'] }, 'name', 'must be at most 200 characters'],
    [{ name: 7, type: 'event', event_names: ['a'] }, 'name', 'must be a string'],
    [{ name: 'x' }, 'type', 'is required: one of event, attribute'],
    [{ name: 'x', type: 'page' }, 'type', 'must be one of event, attribute'],
    [{ name: 'x', type: 'event' }, 'event_names', 'is required'],
    [{ name: 'x', type: 'event', event_names: 'a' }, 'event_names', 'must be an array of event names'],
    [
      { name: 'x', type: 'event', event_names: [] },
      'event_names',
      'must list at least one event name (or set flag_checks to true)',
    ],
    [
      { name: 'x', type: 'event', event_names: [], flag_checks: false },
      'event_names',
      'must list at least one event name (or set flag_checks to true)',
    ],
    [{ name: 'x', type: 'event', event_names: ['a'], flag_checks: 'yes' }, 'flag_checks', 'must be true or false'],
    [{ name: 'x', type: 'event', event_names: ['a'], flag_checks: 1 }, 'flag_checks', 'must be true or false'],
    [{ name: 'x', type: 'event', event_names: ['a'], flag_checks: null }, 'flag_checks', 'must be true or false'],
    [
      { name: 'x', type: 'event', event_names: Array.from({ length: 101 }, (_, i) => `e${i}`) },
      'event_names',
      'must list at most 100 event names',
    ],
    [{ name: 'x', type: 'event', event_names: ['a', 'b', ' '] }, 'event_names[2]', 'must not be empty'],
    [{ name: 'x', type: 'event', event_names: ['a', 5] }, 'event_names[1]', 'must be a string'],
    [{ name: 'x', type: 'event', event_names: ['a'.repeat(257)] }, 'event_names[0]', 'must be at most 256 characters'],
    [{ name: 'x', type: 'attribute', operator: 'eq', value: 1 }, 'attribute', 'is required'],
    [{ name: 'x', type: 'attribute', attribute: 'a', value: 1 }, 'operator', 'is required'],
    [
      { name: 'x', type: 'attribute', attribute: 'a', operator: 'gte', value: '5' },
      'value',
      'must be a number for gte',
    ],
    [{ name: 'x', type: 'attribute', attribute: 'a', operator: 'eq' }, 'value', 'is required for eq (any JSON value)'],
    [
      { name: 'x', type: 'event', event_names: ['a'], adoption: 5 },
      'adoption',
      'must be an object with min_active_days and window_days',
    ],
    [
      { name: 'x', type: 'event', event_names: ['a'], adoption: { min_active_days: 0 } },
      'adoption.min_active_days',
      'must be at least 1',
    ],
    [
      { name: 'x', type: 'event', event_names: ['a'], adoption: { min_active_days: 2.5 } },
      'adoption.min_active_days',
      'must be a whole number of days',
    ],
    [
      { name: 'x', type: 'event', event_names: ['a'], retention: { window_days: 366 } },
      'retention.window_days',
      'must be at most 365',
    ],
    [
      { name: 'x', type: 'event', event_names: ['a'], adoption: { min_active_days: 10, window_days: 7 } },
      'adoption.window_days',
      'must be at least min_active_days (10): a window cannot hold more active days than it has days',
    ],
    [
      // The default window (28) is too short for 30 active days.
      { name: 'x', type: 'event', event_names: ['a'], adoption: { min_active_days: 30 } },
      'adoption.window_days',
      'must be at least min_active_days (30): a window cannot hold more active days than it has days',
    ],
  ])('%j → %s %s', (payload, field, problem) => {
    expect(problems(() => feature(payload))).toEqual([{ field, problem }]);
  });

  it('names every failing field of one request', () => {
    expect(
      fields(() =>
        feature({
          name: '',
          type: 'event',
          event_names: ['ok', '', 3],
          adoption: { min_active_days: 0 },
          retention: { window_days: 'long' },
        }),
      ),
    ).toEqual(['name', 'adoption.min_active_days', 'retention.window_days', 'event_names[1]', 'event_names[2]']);
  });
});

describe('segment requests', () => {
  it('takes zero to fifty filters', () => {
    expect(segment({ name: 'Everyone', filters: [] })).toEqual({ name: 'Everyone', filters: [] });
    const fifty = Array.from({ length: 50 }, (_, i) => ({ attribute: `a${i}`, operator: 'is_set' }));
    expect(segment({ name: 'Many', filters: fifty }).filters).toHaveLength(50);
    expect(problems(() => segment({ name: 'Too many', filters: [...fifty, fifty[0]] }))).toEqual([
      { field: 'filters', problem: 'must hold at most 50 filters' },
    ]);
  });

  it('requires filters, so that a misspelt key cannot make a segment of every company', () => {
    expect(problems(() => segment({ name: 'x', filter: [] }))).toEqual([
      { field: 'filters', problem: 'is required (an empty array means every company)' },
    ]);
  });

  it('names each failing filter field by its index', () => {
    expect(
      problems(() =>
        segment({
          name: 'x',
          filters: [
            { attribute: 'plan', operator: 'eq', value: 'pro' },
            { attribute: 'seats', operator: 'gt', value: 'ten' },
            'plan = pro',
            { attribute: '', operator: 'in', value: 'pro' },
            { attribute: 'x', operator: 'matches', value: 'y' },
          ],
        }),
      ),
    ).toEqual([
      { field: 'filters[1].value', problem: 'must be a number for gt' },
      { field: 'filters[2]', problem: 'must be an object' },
      { field: 'filters[3].attribute', problem: 'must not be empty' },
      { field: 'filters[3].value', problem: 'must be an array of the values to match for in' },
      {
        field: 'filters[4].operator',
        problem: 'must be one of eq, neq, gt, gte, lt, lte, contains, in, is_set, is_not_set',
      },
    ]);
  });
});

describe('exclusions requests', () => {
  it('stores ids as strings, as the tracking API does, once each', () => {
    expect(exclusions({ user_ids: [42, ' u1 ', 'u1'], company_ids: [] })).toEqual({
      user_ids: ['42', 'u1'],
      company_ids: [],
    });
  });

  it('requires both lists, since a PUT replaces both', () => {
    expect(problems(() => exclusions({ user_ids: [] }))).toEqual([
      { field: 'company_ids', problem: 'is required (send [] for none)' },
    ]);
  });

  it('names each bad id', () => {
    expect(problems(() => exclusions({ user_ids: ['a', '', 1.5], company_ids: 'c1' }))).toEqual([
      { field: 'user_ids[1]', problem: 'must not be empty' },
      { field: 'user_ids[2]', problem: 'must be a non-empty string (at most 256 characters) or an integer' },
      { field: 'company_ids', problem: 'must be an array of ids' },
    ]);
  });
});

describe('ids in the path', () => {
  it('accepts 1 to 128 letters, digits and _ . : -', () => {
    for (const id of ['a', 'Feature_1', 'v2.0:beta-x', '-', '...', 'x'.repeat(128), 'A:B:C']) {
      expect(parseCatalogId(id)).toBe(id);
    }
  });

  it('decodes a still-encoded segment', () => {
    expect(parseCatalogId('team%3Aone')).toBe('team:one');
  });

  it.each([[undefined], [''], ['x'.repeat(129)], ['a b'], ['a/b'], ['é'], ['a%2Fb'], ['%zz'], ['.'], ['..']])(
    'refuses %j, naming id',
    (id) => {
      expect(fields(() => parseCatalogId(id))).toEqual(['id']);
    },
  );

  it('reports a bad id and a bad body in one 400', () => {
    expect(fields(() => parseCatalogPut(segmentRequest, 'a b', JSON.stringify({ name: '' })))).toEqual([
      'id',
      'name',
      'filters',
    ]);
  });
});

describe('request bodies', () => {
  it('refuses what is not one JSON object', () => {
    for (const body of [undefined, '', '[]', '"x"', 'null', '{']) {
      expect(fields(() => parseRequestBody('catalog', segmentRequest, body))).toEqual(['body']);
    }
  });

  it('decodes base64 bodies', () => {
    const body = Buffer.from(JSON.stringify({ name: 'x', filters: [] })).toString('base64');
    expect(parseRequestBody('catalog', segmentRequest, body, true)).toEqual({ name: 'x', filters: [] });
  });

  it('refuses a body too large to store, saying the limit', () => {
    const body = JSON.stringify({ user_ids: [], company_ids: [], pad: 'x'.repeat(BODY_LIMITS.catalog) });
    expect(problems(() => parseRequestBody('catalog', exclusionsRequest, body))[0]?.problem).toMatch(
      /the limit is 262144 bytes/,
    );
  });
});

describe('stored features', () => {
  it('show their keys in a stable order', () => {
    const definition = feature({ name: 'n', type: 'attribute', attribute: 'a', operator: 'eq', value: 1 });
    const stored = toFeature('f1', definition, { created_at: 'c', updated_at: 'u' });
    expect(Object.keys(stored)).toEqual([
      'id',
      'name',
      'type',
      'attribute',
      'operator',
      'value',
      'adoption',
      'retention',
      'created_at',
      'updated_at',
    ]);
  });
});
