import { EVENTS_EXPORTS_PREFIX, FILES_VISIBLE_DAYS, RUN_TIME_LIMIT_SECONDS } from '../../contract/exports.ts';
import { DAY_MS } from '../../contract/lake.ts';
import { WORKFLOW_DEADLINE_MARGIN_MS } from '../../contract/lambdas.ts';
import { planWeeklyPartitions } from './partitions.ts';
import type { EventsExportRequest, ExportFormat } from './request.ts';

/**
 * A bulk raw-event export job (seed 002): what is stored, how long it lives, and
 * the JSON each endpoint shows. Pure: the handlers pass `now` from their Clock.
 */

export type EventsExportStatus = 'running' | 'completed' | 'failed';

/** What the state table holds for one job (scoped by environment). */
export interface EventsExportJob {
  job_id: string;
  environment_id: string;
  /** The environment's app token, shown as `app_token` and written into every exported event. */
  app_token: string;
  status: EventsExportStatus;
  request: EventsExportRequest;
  /** Every partition's Monday, oldest first, planned when the job is created. */
  all_chunks: string[];
  /** Partitions whose file is written, oldest first. */
  completed_chunks: string[];
  /** ISO-8601 UTC instants with milliseconds. */
  created_at: string;
  completed_at: string | null;
  /** After this instant a job still marked running is shown as failed: its run died without a word. */
  deadline: string;
  error: string | null;
}

/** The workflow's execution input: the job is read from the state table, not carried. */
export interface EventsExportWorkflowInput {
  job_id: string;
  app_id: string;
}

/** Seed 002: "the job status and related information will be available for 3 days" after it is created. */
export const JOB_VISIBLE_DAYS = 3;
/** SigV4 presigned URLs live at most 7 days; ours never reach it (2 days), but the cap is the service's. */
const MAX_PRESIGN_SECONDS = 7 * 86_400;

export const EVENTS_EXPORTS_PATH = '/api/v1/analytics/exports';
export const jobLink = (jobId: string) => `${EVENTS_EXPORTS_PATH}/jobs/${jobId}`;
export const fileLink = (jobId: string, fileName: string) => `${jobLink(jobId)}/files/${encodeURIComponent(fileName)}`;

export function exportFileName(week: string, format: ExportFormat): string {
  return `${week}.${format}.gz`;
}

export function exportFileKey(environmentId: string, jobId: string, fileName: string): string {
  return `${EVENTS_EXPORTS_PREFIX}${environmentId}/${jobId}/${fileName}`;
}

export function newEventsExportJob(input: {
  jobId: string;
  environmentId: string;
  appToken: string;
  request: EventsExportRequest;
  now: Date;
}): EventsExportJob {
  return {
    job_id: input.jobId,
    environment_id: input.environmentId,
    app_token: input.appToken,
    status: 'running',
    request: input.request,
    all_chunks: planWeeklyPartitions(input.request.from, input.request.to).map((p) => p.week),
    completed_chunks: [],
    created_at: input.now.toISOString(),
    completed_at: null,
    deadline: new Date(input.now.getTime() + RUN_TIME_LIMIT_SECONDS * 1000 + WORKFLOW_DEADLINE_MARGIN_MS).toISOString(),
    error: null,
  };
}

/** Until when the one-job lock of the job's environment holds, if nothing releases it. */
export function lockExpiry(job: Pick<EventsExportJob, 'deadline'>): Date {
  return new Date(job.deadline);
}

/** The instant after which the job is gone (404), as the DynamoDB TTL that deletes it later. */
export function jobExpiry(job: Pick<EventsExportJob, 'created_at'>): Date {
  return new Date(Date.parse(job.created_at) + JOB_VISIBLE_DAYS * DAY_MS);
}

export function isJobVisible(job: Pick<EventsExportJob, 'created_at'>, now: Date): boolean {
  return now.getTime() < jobExpiry(job).getTime();
}

/** When the files stop being downloadable; undefined while there are none. */
export function filesExpiry(job: Pick<EventsExportJob, 'status' | 'completed_at'>): Date | undefined {
  if (job.status !== 'completed' || !job.completed_at) return undefined;
  return new Date(Date.parse(job.completed_at) + FILES_VISIBLE_DAYS * DAY_MS);
}

/** Seconds a URL signed now may live: never past the files' expiry. 0 means no URL. */
export function presignSeconds(job: Pick<EventsExportJob, 'status' | 'completed_at'>, now: Date): number {
  const expiry = filesExpiry(job);
  if (!expiry) return 0;
  return Math.max(0, Math.min(MAX_PRESIGN_SECONDS, Math.floor((expiry.getTime() - now.getTime()) / 1000)));
}

/** The job's files, in chunk order, while they may be downloaded. */
export function downloadableFiles(job: EventsExportJob, now: Date): string[] {
  if (presignSeconds(job, now) <= 0) return [];
  return job.all_chunks.map((week) => exportFileName(week, job.request.format));
}

export const TIMED_OUT_MESSAGE =
  'The export did not finish within its time limit and was stopped. Export a shorter range, or try again later.';

/** The job as a reader sees it now: a run that outlived its deadline has failed, whatever the item says. */
export function effectiveJob(job: EventsExportJob, now: Date): EventsExportJob {
  if (job.status === 'running' && now.getTime() > Date.parse(job.deadline)) {
    return { ...job, status: 'failed', completed_at: job.deadline, error: TIMED_OUT_MESSAGE };
  }
  return job;
}

/**
 * Instants as the seed prints them: microseconds, and a `Z` only where the seed's
 * examples have one (the POST answer and the list's start_time have none).
 */
export function seedInstant(iso: string, zone: 'Z' | ''): string {
  const date = new Date(iso);
  return `${date.toISOString().slice(0, 23)}000${zone}`;
}

export function elapsedSeconds(job: EventsExportJob, now: Date): number {
  const end = job.completed_at ? Date.parse(job.completed_at) : now.getTime();
  // The seed's example (11:20:14.73 → 11:20:58.01) says 44 seconds: whole seconds, rounded up.
  return Math.max(0, Math.ceil((end - Date.parse(job.created_at)) / 1000));
}

export function elapsedText(seconds: number): string {
  return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
}

export function progressText(job: Pick<EventsExportJob, 'all_chunks' | 'completed_chunks'>): string {
  return `${job.completed_chunks.length} out of ${job.all_chunks.length} partitions`;
}

/**
 * The chunk being worked on: while running (or after a failure) the oldest one not
 * yet written; once completed, the last one. Null when there is none.
 */
export function currentChunk(job: EventsExportJob): string | null {
  if (job.status === 'completed') return job.all_chunks[job.all_chunks.length - 1] ?? null;
  const done = new Set(job.completed_chunks);
  return job.all_chunks.find((week) => !done.has(week)) ?? null;
}

/** `POST /api/v1/analytics/exports` answer. */
export function startedView(job: EventsExportJob, environmentName: string) {
  return {
    environment_app_token: job.app_token,
    environment_name: environmentName,
    job_id: job.job_id,
    links: jobLink(job.job_id),
    start_time: seedInstant(job.created_at, ''),
  };
}

/** One entry of `GET /api/v1/analytics/exports/jobs`; `job` is the effective job. */
export function listedView(job: EventsExportJob, now: Date) {
  const seconds = elapsedSeconds(job, now);
  return {
    elapsed_time: elapsedText(seconds),
    elapsed_time_seconds: seconds,
    end_time: job.completed_at ? seedInstant(job.completed_at, 'Z') : null,
    job_id: job.job_id,
    progress: progressText(job),
    start_time: seedInstant(job.created_at, ''),
    status: job.status,
  };
}

/** `GET /api/v1/analytics/exports/jobs/{job_id}`; `job` is the effective job, `urls` signed just now. */
export function detailView(job: EventsExportJob, urls: readonly { filename: string; url: string }[]) {
  return {
    app_token: job.app_token,
    completed_chunks: job.completed_chunks,
    current_chunk: currentChunk(job),
    end_time: job.completed_at ? seedInstant(job.completed_at, 'Z') : null,
    job_id: job.job_id,
    presigned_urls: urls,
    progress: progressText(job),
    start_time: seedInstant(job.created_at, 'Z'),
    status: job.status,
    all_chunks: job.all_chunks,
    type: 'export' as const,
    // Not in the seed (clients ignore unknown fields): why a failed job failed.
    error: job.error,
  };
}

/** Newest first, as a person scanning the list expects. */
export function byNewest(a: EventsExportJob, b: EventsExportJob): number {
  return b.created_at.localeCompare(a.created_at) || a.job_id.localeCompare(b.job_id);
}
