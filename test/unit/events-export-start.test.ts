import { describe, expect, it } from 'vitest';
import type { EventsExportJob } from '../../lambdas/core/events-export/job.ts';
import { eventsExportRequest } from '../../lambdas/core/events-export/request.ts';
import { type StartEventsExportDeps, startEventsExport } from '../../lambdas/core/events-export/start.ts';
import { ExportInProgressError, type ValidationError } from '../../lambdas/core/shared/errors.ts';

const NOW = new Date('2025-06-02T10:00:00Z');
const request = eventsExportRequest.parse({ from: '2025-05-01', to: '2025-05-31' });

/** One environment's jobs and lock in memory, and a workflow starter that may refuse. */
function fakes(options: { startFails?: boolean } = {}) {
  const jobs = new Map<string, EventsExportJob>();
  let lock: { job_id: string; until: Date } | undefined;
  const started: string[] = [];
  const deps: StartEventsExportDeps = {
    jobs: {
      create: async (job) => void jobs.set(job.job_id, job),
      get: async (_env, id) => jobs.get(id),
      markFailed: async (_env, id, result) => {
        const job = jobs.get(id);
        if (job?.status !== 'running') return false;
        jobs.set(id, { ...job, status: 'failed', ...result });
        return true;
      },
      acquireExportLock: async (_env, jobId, until, now) => {
        if (lock && lock.until > now) return false;
        lock = { job_id: jobId, until };
        return true;
      },
      exportLockHolder: async () => lock && { job_id: lock.job_id, acquired_at: NOW.toISOString() },
      releaseExportLock: async (_env, jobId) => {
        if (lock?.job_id === jobId) lock = undefined;
      },
    },
    catalog: { getSegment: async () => undefined },
    workflows: {
      start: async (_workflow, name) => {
        if (options.startFails) throw new Error('throttled');
        started.push(name);
        return { started: true };
      },
      executionState: async () => 'running',
    },
    clock: { now: () => NOW },
  };
  return { deps, jobs, started, lockHolder: () => lock?.job_id };
}

const start = (deps: StartEventsExportDeps, segmentId?: string) =>
  startEventsExport(deps, {
    environmentId: 'env-1',
    appToken: 'FL-1',
    request: segmentId ? { ...request, segment_id: segmentId } : request,
  });

describe('startEventsExport', () => {
  it('writes the running job, holds the lock for it and starts its run', async () => {
    const { deps, jobs, started, lockHolder } = fakes();
    const job = await start(deps);
    expect(jobs.get(job.job_id)).toMatchObject({ status: 'running', environment_id: 'env-1', app_token: 'FL-1' });
    expect(started).toEqual([job.job_id]);
    expect(lockHolder()).toBe(job.job_id);
  });

  it('refuses a second export while the first runs (seed 002’s 409)', async () => {
    const { deps, jobs } = fakes();
    await start(deps);
    await expect(start(deps)).rejects.toBeInstanceOf(ExportInProgressError);
    expect(jobs.size).toBe(1);
  });

  it('a run that cannot start leaves the job failed and the lock free, so a retry can start', async () => {
    const { deps, jobs, lockHolder } = fakes({ startFails: true });
    await expect(start(deps)).rejects.toThrow('throttled');
    expect([...jobs.values()]).toEqual([
      expect.objectContaining({ status: 'failed', error: 'The export could not be started; try again.' }),
    ]);
    expect(lockHolder()).toBeUndefined();
  });

  it('a segment that does not exist is a 400 on segment_id, before anything is written', async () => {
    const { deps, jobs, lockHolder } = fakes();
    const error = await start(deps, 'gone').catch((e: unknown) => e);
    expect((error as ValidationError).problems).toEqual([
      { field: 'segment_id', problem: 'no segment has the id gone' },
    ]);
    expect(jobs.size).toBe(0);
    expect(lockHolder()).toBeUndefined();
  });
});
