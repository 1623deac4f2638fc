/** Who holds an environment's export lock, and since when. */
export interface ExportLockHolder {
  readonly job_id: string;
  /** When it was taken; undefined for a lock written before this was recorded. */
  readonly acquired_at: string | undefined;
}

/**
 * One export lock per environment (seed 002's one job in progress; one requested
 * company export), a single-item conditional write: dynalite has no transactions.
 */
export interface ExportLock {
  /**
   * Takes the environment's lock for `jobId` until `until`. False when another job
   * holds it and its time has not run out at `now`.
   */
  acquireExportLock(environmentId: string, jobId: string, until: Date, now: Date): Promise<boolean>;
  /** Releases the lock if `jobId` holds it; a no-op otherwise (a retried step, an expired lock). */
  releaseExportLock(environmentId: string, jobId: string): Promise<void>;
  /** The lock's holder, expired or not; undefined when it is free. */
  exportLockHolder(environmentId: string): Promise<ExportLockHolder | undefined>;
}
