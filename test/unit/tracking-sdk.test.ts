import { describe, expect, it } from 'vitest';
import { NotFoundError, UnauthorizedError, ValidationError } from '../../lambdas/core/shared/errors.ts';
import { environmentOfRequest, presentedKey } from '../../lambdas/core/tracking/keys.ts';
import { trackingEvents } from '../../lambdas/core/tracking/tracking.ts';

/** What Bucket's and Reflag's SDKs send (DESIGN "Tracking: SDK wire compatibility"), and how it is stored. */

const NOW = new Date('2026-03-10T12:00:00.000Z');
const target = { environmentId: 'app-1' };

function track(method: string, body: unknown, call?: 'feature-flag-event' | 'prompt-event') {
  return trackingEvents(
    { method, contentType: 'application/json', body: JSON.stringify(body), ...(call ? { call } : {}) },
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

/** One batch as @reflag/node-sdk 1.7 builds it (client.js: updateUser, updateCompany, track, sendFlagEvent). */
const NODE_SDK_BATCH = [
  { type: 'user', userId: 'u1', attributes: { name: 'Ada' }, context: { active: false } },
  { type: 'company', companyId: 42, userId: 'u1', attributes: { name: 'Acme' } },
  { type: 'event', event: 'Sent message', companyId: 42, userId: 'u1', attributes: { size: 3 } },
  {
    type: 'feature-flag-event',
    action: 'check',
    key: 'huddles',
    targetingVersion: 7,
    evalContext: { user: { id: 'u1' }, company: { id: 42, name: 'Acme' }, other: {} },
    evalResult: true,
    evalRuleResults: [true, false],
    evalMissingFields: [],
  },
  {
    type: 'feature-flag-event',
    action: 'check-config',
    key: 'huddles',
    evalContext: {},
    evalResult: { key: 'gpt-4', payload: { tokens: 1 } },
  },
  {
    type: 'prompt-event',
    action: 'shown',
    featureId: 'huddles',
    promptId: 'p1',
    userId: 'u1',
    promptedQuestion: 'How do you like huddles?',
  },
  {
    type: 'feedback',
    key: 'huddles',
    userId: 'u1',
    score: 4,
    feedbackId: 'fb-1',
    source: 'widget',
    question: 'How do you like it?',
  },
];

describe('the SDKs’ bulk item types, stored as DESIGN says', () => {
  const rows = track('bulk', NODE_SDK_BATCH);

  it('keeps one row per item, in order, with its event_type', () => {
    expect(rows.map((row) => row.event_type)).toEqual([
      'identify_user',
      'identify_company',
      'track',
      'feature_flag',
      'feature_flag',
      'prompt_event',
      'feedback',
    ]);
    expect(rows[0]?.context_active).toBe(false);
    expect(rows[1]?.company_id).toBe('42');
  });

  it('a feature-flag-event: action as event_name, key as feature_id, ids from evalContext, the rest in attributes', () => {
    expect(rows[3]).toMatchObject({
      event_name: 'check',
      feature_id: 'huddles',
      user_id: 'u1',
      company_id: '42',
      score: null,
      comment: null,
      source: 'bulk',
    });
    expect(JSON.parse(rows[3]?.attributes ?? 'null')).toEqual({
      targetingVersion: 7,
      evalResult: true,
      evalContext: { user: { id: 'u1' }, company: { id: 42, name: 'Acme' }, other: {} },
      evalRuleResults: [true, false],
      evalMissingFields: [],
    });
    expect(rows[4]).toMatchObject({ event_name: 'check-config', user_id: null, company_id: null });
    expect(JSON.parse(rows[4]?.attributes ?? 'null')).toEqual({
      evalContext: {},
      evalResult: { key: 'gpt-4', payload: { tokens: 1 } },
    });
  });

  it('a prompt-event: action, featureId and userId in columns, promptId and promptedQuestion in attributes', () => {
    expect(rows[5]).toMatchObject({ event_name: 'shown', feature_id: 'huddles', user_id: 'u1', company_id: null });
    expect(JSON.parse(rows[5]?.attributes ?? 'null')).toEqual({
      promptId: 'p1',
      promptedQuestion: 'How do you like huddles?',
    });
  });

  it('feedback: key is featureId, the SDK fields go to attributes and win over the client’s', () => {
    expect(rows[6]).toMatchObject({ feature_id: 'huddles', score: 4, comment: null });
    expect(JSON.parse(rows[6]?.attributes ?? 'null')).toEqual({
      feedbackId: 'fb-1',
      source: 'widget',
      question: 'How do you like it?',
    });
    const [merged] = track('feedback', {
      featureId: 'f',
      userId: 'u',
      comment: 'ok',
      promptId: 12,
      source: 'prompt',
      attributes: { source: 'client', plan: 'pro', ['__proto__']: { polluted: true } },
    });
    const attributes = JSON.parse(merged?.attributes ?? 'null');
    expect(attributes).toMatchObject({ source: 'prompt', plan: 'pro', promptId: '12' });
    expect(Object.hasOwn(attributes, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('feedback with featureId and key that agree is one feature; disagreeing or missing both is a 400', () => {
    expect(track('feedback', { featureId: 'f', key: 'f', userId: 'u', score: 1 })[0]?.feature_id).toBe('f');
    expect(problems(() => track('feedback', { featureId: 'f', key: 'g', userId: 'u', score: 1 }))).toEqual([
      { field: 'key', problem: 'must equal featureId when both are sent (key is its alias)' },
    ]);
    expect(problems(() => track('feedback', { userId: 'u', score: 1 }))).toEqual([
      { field: 'featureId', problem: 'is required (or its alias key)' },
    ]);
  });

  it('the single routes of the two SDK types store one row, source api', () => {
    const [flag] = track('ignored', { action: 'check-is-enabled', key: 'f', evalResult: false }, 'feature-flag-event');
    expect(flag).toMatchObject({ event_type: 'feature_flag', event_name: 'check-is-enabled', source: 'api' });
    const [prompt] = track('ignored', { action: 'received', featureId: 'f', userId: 3 }, 'prompt-event');
    expect(prompt).toMatchObject({ event_type: 'prompt_event', user_id: '3', attributes: null });
  });

  it('a timestamp in epoch milliseconds is an instant; out of range or of another type is a 400 naming it', () => {
    const at = Date.parse('2026-03-09T08:00:00.000Z');
    expect(track('event', { event: 'e', userId: 'u', timestamp: at })[0]).toMatchObject({
      timestamp: '2026-03-09T08:00:00.000Z',
      dt: '2026-03-09',
    });
    expect(problems(() => track('event', { event: 'e', userId: 'u', timestamp: 8.64e15 + 1 }))[0]?.field).toBe(
      'timestamp',
    );
    expect(problems(() => track('event', { event: 'e', userId: 'u', timestamp: 0 }))[0]).toEqual({
      field: 'timestamp',
      problem: 'must not be before 2020-01-01',
    });
    expect(problems(() => track('event', { event: 'e', userId: 'u', timestamp: true }))[0]?.problem).toMatch(
      /epoch milliseconds/,
    );
  });

  it('an item type no SDK sends is a 400 naming [i].type, and the whole bulk is refused', () => {
    expect(problems(() => track('bulk', [NODE_SDK_BATCH[0], { type: 'page', userId: 'u' }]))).toEqual([
      {
        field: '[1].type',
        problem: 'must be one of user, company, event, feedback, feature-flag-event, prompt-event',
      },
    ]);
  });

  it('names the new fields’ problems by index', () => {
    expect(
      problems(() =>
        track('bulk', [
          { type: 'feature-flag-event', key: 'f' },
          { type: 'feature-flag-event', action: 'check', key: 'f', evalContext: [1] },
          { type: 'prompt-event', action: 'shown', featureId: 'f' },
          { type: 'feedback', featureId: 'f', userId: 'u', score: 2, source: 7 },
        ]),
      ),
    ).toEqual([
      { field: '[0].action', problem: 'is required' },
      { field: '[1].evalContext', problem: 'must be an object' },
      { field: '[2].userId', problem: 'is required' },
      { field: '[3].source', problem: 'must be a string' },
    ]);
  });

  it('action and source are free strings: a value a later SDK may add is stored as sent', () => {
    expect(track('bulk', [{ type: 'feature-flag-event', action: 'preview', key: 'f' }])[0]?.event_name).toBe('preview');
    const [row] = track('feedback', { featureId: 'f', userId: 'u', score: 5, source: 'slack' });
    expect(JSON.parse(row?.attributes ?? 'null')).toEqual({ source: 'slack' });
  });
});

describe('where the key is', () => {
  it('takes it from the path, a Bearer header or publishableKey, and the same key in two places is fine', () => {
    expect(presentedKey({ path: 'k1' })).toEqual({ key: 'k1', field: 'trackingKey' });
    expect(presentedKey({ authorization: 'bearer  k1 ' })).toEqual({ key: 'k1', field: 'Authorization' });
    expect(presentedKey({ publishableKey: 'k1' })).toEqual({ key: 'k1', field: 'publishableKey' });
    expect(presentedKey({ path: 'k1', authorization: 'Bearer k1', publishableKey: 'k1' }).key).toBe('k1');
  });

  it('two different keys are a 400 naming both places; another scheme a 400; none a 401', () => {
    expect(problems(() => presentedKey({ authorization: 'Bearer k1', publishableKey: 'k2' }))).toEqual([
      {
        field: 'publishableKey',
        problem: 'holds a different key than the Authorization header (Authorization); send one key',
      },
    ]);
    expect(problems(() => presentedKey({ path: 'k1', authorization: 'Bearer k2' }))[0]?.field).toBe('Authorization');
    expect(problems(() => presentedKey({ authorization: 'Token k1' }))).toEqual([
      { field: 'Authorization', problem: 'must be "Bearer <key>"' },
    ]);
    expect(() => presentedKey({ path: '', authorization: ' ', publishableKey: '' })).toThrow(UnauthorizedError);
  });

  it('an unknown key is a 404 naming its place; a long (secret) key is not echoed whole', async () => {
    const secret = `fl_${'s'.repeat(43)}`;
    const error = await environmentOfRequest({ authorization: `Bearer ${secret}` }, async () => undefined).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).field).toBe('Authorization');
    expect((error as NotFoundError).message).not.toContain(secret);
  });
});
