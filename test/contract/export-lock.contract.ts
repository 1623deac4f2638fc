import { describe, expect, it } from 'vitest';
import type { ExportLock } from '../../lambdas/ports/export-lock.ts';

const at = (iso: string) => new Date(iso);

/**
 * The ExportLock contract: one lock per environment, a single conditional write.
 * `lock` is called per test; each test uses its own environment ids, so one store
 * can serve the whole suite.
 */
export function behavesAsAnExportLock(name: string, lock: () => ExportLock) {
  describe(`${name}: the ExportLock contract`, () => {
    it('one lock per environment: taken once, refused while held, free again once released', async () => {
      const until = at('2025-12-10T16:05:00Z');
      const now = at('2025-12-10T10:00:00Z');
      expect(await lock().acquireExportLock('env-lock', 'job-1', until, now)).toBe(true);
      expect(await lock().acquireExportLock('env-lock', 'job-2', until, now)).toBe(false);
      // Another environment has its own lock.
      expect(await lock().acquireExportLock('env-other', 'job-3', until, now)).toBe(true);
      // Only its holder releases it.
      await lock().releaseExportLock('env-lock', 'job-2');
      expect(await lock().acquireExportLock('env-lock', 'job-2', until, now)).toBe(false);
      await lock().releaseExportLock('env-lock', 'job-1');
      expect(await lock().acquireExportLock('env-lock', 'job-2', until, now)).toBe(true);
    });

    it('a lock whose run died expires: after its time another job takes it, and the dead one cannot release it', async () => {
      expect(
        await lock().acquireExportLock('env-dead', 'dead', at('2025-12-10T16:05:00Z'), at('2025-12-10T10:00:00Z')),
      ).toBe(true);
      expect(
        await lock().acquireExportLock('env-dead', 'next', at('2025-12-11T16:05:00Z'), at('2025-12-10T16:04:59Z')),
      ).toBe(false);
      expect(
        await lock().acquireExportLock('env-dead', 'next', at('2025-12-11T16:05:00Z'), at('2025-12-10T16:05:00Z')),
      ).toBe(true);
      await lock().releaseExportLock('env-dead', 'dead');
      expect(await lock().exportLockHolder('env-dead')).toMatchObject({ job_id: 'next' });
    });

    it('names its holder and when it was taken, and nobody once released', async () => {
      const now = at('2025-12-10T10:00:00Z');
      expect(await lock().exportLockHolder('env-holder')).toBeUndefined();
      await lock().acquireExportLock('env-holder', 'job-h', at('2025-12-10T16:05:00Z'), now);
      expect(await lock().exportLockHolder('env-holder')).toEqual({ job_id: 'job-h', acquired_at: now.toISOString() });
      await lock().releaseExportLock('env-holder', 'job-h');
      expect(await lock().exportLockHolder('env-holder')).toBeUndefined();
    });
  });
}
