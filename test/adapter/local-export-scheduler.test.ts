import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalExportScheduler } from '../../lambdas/adapters/local/local-export-scheduler.ts';
import { tempHome } from '../support/local-stack.ts';

/** The local stand-in for the daily EventBridge schedule, on a clock the test moves. */
let home: string;
beforeAll(async () => {
  home = await tempHome();
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

function scheduler(file: string, start: string, pollMs = 10) {
  let now = new Date(start);
  const fired: string[] = [];
  const instance = new LocalExportScheduler({
    clock: { now: () => new Date(now) },
    stateFile: join(home, file),
    pollMs,
    fire: async (at) => {
      fired.push(at.toISOString());
    },
  });
  return {
    instance,
    fired,
    set: (instant: string) => {
      now = new Date(instant);
    },
  };
}

describe('LocalExportScheduler', () => {
  it('fires once when the clock passes 00:00 UTC, on its own timer, and not again that day', async () => {
    const s = scheduler('timer.json', '2025-11-30T23:59:00Z');
    await s.instance.start();
    expect(s.fired).toEqual([]);
    s.set('2025-12-01T00:00:00Z');
    // Up to 10 s: the timer fires within milliseconds, but a loaded machine may stall it.
    await vi.waitFor(() => expect(s.fired).toEqual(['2025-12-01T00:00:00.000Z']), { timeout: 10_000, interval: 10 });
    s.set('2025-12-01T13:00:00Z');
    await new Promise((resolve) => setTimeout(resolve, 60));
    await s.instance.runDue();
    expect(s.fired).toEqual(['2025-12-01T00:00:00.000Z']);
    await s.instance.close();
  });

  it('does not fire for the midnight already past when a stack starts for the first time', async () => {
    const s = scheduler('first.json', '2025-12-01T15:00:00Z');
    await s.instance.start();
    await s.instance.runDue();
    expect(s.fired).toEqual([]);
    expect(JSON.parse(await readFile(join(home, 'first.json'), 'utf8'))).toEqual({
      last_fired_midnight: '2025-12-01T00:00:00.000Z',
    });
    await s.instance.close();
  });

  it('after a restart remembers the last fire, and catches up a midnight missed while stopped', async () => {
    const first = scheduler('restart.json', '2025-12-01T10:00:00Z', 3_600_000);
    await first.instance.start();
    await first.instance.close();

    const sameDay = scheduler('restart.json', '2025-12-01T20:00:00Z', 3_600_000);
    await sameDay.instance.start();
    expect(sameDay.fired).toEqual([]);
    await sameDay.instance.close();

    // Stopped over two midnights: started on Wednesday, it fires once, for Wednesday.
    const later = scheduler('restart.json', '2025-12-03T08:00:00Z', 3_600_000);
    await later.instance.start();
    expect(later.fired).toEqual(['2025-12-03T08:00:00.000Z']);
    await later.instance.close();
  });

  it('a fire that fails is tried again at the next look', async () => {
    let fail = true;
    const attempts: string[] = [];
    let now = new Date('2025-12-01T10:00:00Z');
    const instance = new LocalExportScheduler({
      clock: { now: () => now },
      stateFile: join(home, 'retry.json'),
      pollMs: 3_600_000,
      fire: async (at) => {
        attempts.push(at.toISOString());
        if (fail) throw new Error('dynalite is busy');
      },
    });
    await instance.start();
    now = new Date('2025-12-02T00:00:30Z');
    await expect(instance.runDue()).rejects.toThrow('dynalite is busy');
    fail = false;
    await instance.runDue();
    await instance.runDue();
    expect(attempts).toEqual(['2025-12-02T00:00:30.000Z', '2025-12-02T00:00:30.000Z']);
    await instance.close();
  });
});
