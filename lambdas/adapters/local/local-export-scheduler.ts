import { readFile, writeFile } from 'node:fs/promises';
import { snapshotInstant } from '../../core/automatic-export/automatic-export.ts';
import type { Clock } from '../../ports/clock.ts';

export interface LocalExportSchedulerOptions {
  readonly clock: Clock;
  /** What EventBridge Scheduler invokes on AWS: the dispatcher, with the fire's instant. */
  readonly fire: (at: Date) => Promise<unknown>;
  /** Where the last fired midnight is kept, so a restart neither repeats nor forgets it. */
  readonly stateFile: string;
  /** How often the clock is looked at. @default 30 s */
  readonly pollMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * The local stand-in for the daily EventBridge schedule: fires the dispatcher once
 * at (or, if the stack was stopped over midnight, as soon as it starts after) each
 * 00:00 UTC. It reads the time from the stack's Clock, so tests move it by hand. A
 * midnight is fired once; a stack started for the first time does not fire for
 * the midnight that already passed ("the export runs the following day").
 */
export class LocalExportScheduler {
  private timer: NodeJS.Timeout | undefined;
  private lastFired: Date | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: LocalExportSchedulerOptions) {}

  async start(): Promise<void> {
    this.lastFired = await this.readState();
    if (this.lastFired === undefined) {
      this.lastFired = snapshotInstant(this.options.clock.now());
      await this.writeState(this.lastFired);
    }
    await this.runDue();
    this.timer = setInterval(() => {
      this.runDue().catch((error) => this.options.onError?.(error));
    }, this.options.pollMs ?? 30_000);
    // The schedule alone must not keep the process alive.
    this.timer.unref();
  }

  /** Fires the dispatcher if a midnight has passed since the last fire. Runs one at a time. */
  runDue(): Promise<void> {
    const next = this.running.then(async () => {
      const now = this.options.clock.now();
      const midnight = snapshotInstant(now);
      if (this.lastFired !== undefined && midnight.getTime() <= this.lastFired.getTime()) return;
      await this.options.fire(now);
      this.lastFired = midnight;
      await this.writeState(midnight);
    });
    this.running = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async readState(): Promise<Date | undefined> {
    try {
      const state = JSON.parse(await readFile(this.options.stateFile, 'utf8')) as { last_fired_midnight?: string };
      const instant = new Date(state.last_fired_midnight ?? '');
      return Number.isNaN(instant.getTime()) ? undefined : instant;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  private async writeState(midnight: Date): Promise<void> {
    await writeFile(this.options.stateFile, `${JSON.stringify({ last_fired_midnight: midnight.toISOString() })}\n`);
  }
}
