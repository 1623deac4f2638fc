import { describe, expect, it } from 'vitest';
import {
  call,
  NETWORK_MESSAGE,
  problemFromResponse,
  SERVER_MESSAGE,
  THROTTLED_MESSAGE,
} from '../../console/src/api/problems.ts';
import { UnauthorizedError, ValidationError } from '../../lambdas/core/shared/errors.ts';

/** The console's reading of the API's error bodies, fed with the bodies the API really makes. */
describe('problemFromResponse', () => {
  it('puts each 400 entry beside the field it names, and asks to correct them', () => {
    const body = new ValidationError([
      { field: 'name', problem: 'must not be empty' },
      { field: 'plan', problem: 'must be one of free, pro, enterprise' },
    ]).toBody();
    expect(problemFromResponse(400, body)).toEqual({
      message: 'Please correct the highlighted fields.',
      fields: { name: 'Must not be empty', plan: 'Must be one of free, pro, enterprise' },
      retryable: false,
      status: 400,
    });
  });

  it("shows a 401's details (seed 002 puts the specific words there)", () => {
    const body = new UnauthorizedError('The API token is not valid: no environment has this key.').toBody();
    expect(problemFromResponse(401, body)).toMatchObject({
      message: 'The API token is not valid: no environment has this key.',
      fields: {},
      retryable: false,
    });
  });

  it('uses the message when there are no details, and says the status for a body it cannot read', () => {
    expect(problemFromResponse(409, { errors: [{ error: 'Conflict', message: 'Busy.', details: null }] }).message).toBe(
      'Busy.',
    );
    expect(problemFromResponse(404, { message: 'Not Found' }).message).toBe('Not Found');
    expect(problemFromResponse(418, 'teapot').message).toBe('The request failed (HTTP 418).');
  });

  it('makes a 5xx and a 429 retryable, whatever their body says', () => {
    expect(problemFromResponse(502, { message: 'Bad gateway' })).toMatchObject({
      message: SERVER_MESSAGE,
      retryable: true,
    });
    expect(problemFromResponse(429, { message: 'Too Many Requests' })).toMatchObject({
      message: THROTTLED_MESSAGE,
      retryable: true,
    });
  });
});

describe('call', () => {
  it('returns the data of a 2xx, the problem of an error answer, and a retryable problem when fetch throws', async () => {
    const ok = await call(Promise.resolve({ data: { a: 1 }, response: new Response('{}', { status: 200 }) }));
    expect(ok).toEqual({ ok: true, data: { a: 1 } });
    const refused = await call(
      Promise.resolve({
        error: { errors: [{ message: 'm', details: 'd' }] },
        response: new Response('', { status: 401 }),
      }),
    );
    expect(refused).toMatchObject({ ok: false, problem: { message: 'd', status: 401 } });
    const offline = await call(Promise.reject(new TypeError('Failed to fetch')));
    expect(offline).toEqual({
      ok: false,
      problem: { message: NETWORK_MESSAGE, fields: {}, retryable: true, status: undefined },
    });
  });
});
