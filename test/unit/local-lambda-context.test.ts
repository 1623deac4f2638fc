import { afterEach, describe, expect, it, vi } from 'vitest';
import { localLambdaContext } from '../../lambdas/adapters/local/api-gateway-server.ts';

describe('localLambdaContext', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("gives a local invocation the deployed function's budget, counting down as a Lambda's does", () => {
    vi.useFakeTimers({ now: new Date('2026-11-22T00:00:00Z') });
    // The workflow steps deploy with 15 minutes; the local stack used to give every
    // invocation 30 s, so publishing a GB-sized export failed locally with a middy timeout.
    const steps = localLambdaContext('export-steps', 900_000);
    expect(steps.getRemainingTimeInMillis()).toBe(900_000);
    vi.advanceTimersByTime(60_000);
    expect(steps.getRemainingTimeInMillis()).toBe(840_000);
    vi.advanceTimersByTime(900_000);
    expect(steps.getRemainingTimeInMillis()).toBe(0);
  });

  it('defaults to 30 s, the HTTP API limit the HTTP handlers run under', () => {
    vi.useFakeTimers({ now: new Date('2026-11-22T00:00:00Z') });
    expect(localLambdaContext('tracking').getRemainingTimeInMillis()).toBe(30_000);
  });
});
