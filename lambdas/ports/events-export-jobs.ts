import type { EventsExportJob } from '../core/events-export/job.ts';
import type { ExportLock } from './export-lock.ts';

/**
 * Bulk raw-event export jobs and the one-job-at-a-time lock of each environment
 * (seed 002: one export job in progress per API token). Every call is scoped by
 * environment id. State changes are single-item conditional writes: DynamoDB has
 * transactions, but dynalite (the local DynamoDB) does not.
 */
export interface EventsExportJobs extends ExportLock {
  /** Writes a new job; fails if its id exists. */
  create(job: EventsExportJob): Promise<void>;
  /** The job as stored, expired or not: expiry is the caller's to judge, with its clock. */
  get(environmentId: string, jobId: string): Promise<EventsExportJob | undefined>;
  /** Every job of the environment still stored, in no particular order. */
  list(environmentId: string): Promise<EventsExportJob[]>;
  /**
   * Every job still marked running, in every environment: a Scan, for the local
   * stack's sweep at start (nothing of the last process runs any more), never a request.
   */
  listRunning(): Promise<EventsExportJob[]>;

  /** Marks one partition's file written (idempotent: a retried step adds nothing). */
  recordChunk(environmentId: string, jobId: string, week: string): Promise<void>;
  /** Running → completed. False when the job was no longer running. */
  markCompleted(environmentId: string, jobId: string, completedAt: string): Promise<boolean>;
  /** Running → failed. False when the job was no longer running (a completed job stays completed). */
  markFailed(environmentId: string, jobId: string, result: { error: string; completed_at: string }): Promise<boolean>;
}
