import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { z } from 'zod';
import { lazyHandler } from '../config.ts';
import { readableWorkflowFailure } from '../core/company-export/job.ts';
import { asLakeInputRows, eventsExportInputRows } from '../core/events-export/inputs.ts';
import {
  downloadableFiles,
  type EventsExportJob,
  exportFileKey,
  exportFileName,
  presignSeconds,
} from '../core/events-export/job.ts';
import { exportReadyEmail } from '../core/events-export/notification.ts';
import { planWeeklyPartitions } from '../core/events-export/partitions.ts';
import { EXPORT_FORMATS } from '../core/events-export/request.ts';
import { ResultLinesDecoder } from '../core/events-export/result-lines.ts';
import { EXPORTED_EVENT_FIELDS, eventsExportParams, LINE_COLUMN } from '../core/events-export/sql.ts';
import { EVENTS_EXPORT_STEPS } from '../core/events-export/step-names.ts';
import { toAthenaLiteral } from '../core/shared/athena-literals.ts';
import { systemClock } from '../core/shared/clock.ts';
import { parseS3Url } from '../core/shared/s3-url.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { EventsExportJobs } from '../ports/events-export-jobs.ts';
import type { LakeInputsWriter } from '../ports/lake-inputs.ts';
import type { Mailer } from '../ports/mailer.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { awsDeps } from './aws-deps.ts';
import { workflowStep, workflowStepsHandler } from './workflow-steps.ts';

export interface EventsExportStepsDeps {
  readonly jobs: EventsExportJobs;
  readonly catalog: Pick<CatalogStore, 'getSegment' | 'getExclusions'>;
  readonly inputs: LakeInputsWriter;
  /** Where the partition queries' results are read from (Athena's results bucket). */
  readonly results: Pick<ObjectStore, 'read'>;
  /** The exports bucket's files: written here, downloaded through presigned URLs. */
  readonly files: Pick<ObjectStore, 'write' | 'signedGetUrl'>;
  readonly mailer: Mailer;
  readonly exportsBucket: string;
  /** The API's public base URL, for the links in the email (known late locally, hence a function). */
  readonly apiBaseUrl: () => string;
  /** How long the presigned links in the email work. @default 1 hour */
  readonly emailLinkSeconds?: number;
  readonly clock?: Clock;
  /** Where errors that must not fail the job (an email that could not be sent) are reported. */
  readonly log?: (entry: Record<string, unknown>) => void;
}

const job = z.object({ job_id: z.string().min(1), app_id: z.string().min(1) });
const partition = z.object({
  week: z.string(),
  from: z.string(),
  to: z.string(),
  file_name: z.string(),
  format: z.enum(EXPORT_FORMATS),
  athena_params: z.array(z.string()),
});

const writeWeekInput = job.extend({ partition, query: z.object({ output_location: z.string() }) });
const failInput = job.extend({
  failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
export type EventsExportPartitionItem = z.output<typeof partition>;
type WriteWeekInput = z.output<typeof writeWeekInput>;

/** Line ends of the two file formats: JSON lines, and RFC 4180's CRLF (as the company export CSV). */
const TERMINATOR = { json: '\n', csv: '\r\n' } as const;
const CSV_HEADER = EXPORTED_EVENT_FIELDS.join(',');
const CONTENT_TYPE = { json: 'application/x-ndjson', csv: 'text/csv; charset=utf-8' } as const;

/**
 * The Lambda behind the events export workflow's Task states. Step Functions calls
 * it with `{step, job}`; what it returns lands at the state's ResultPath. What it
 * throws ends the run through the Catch, which records the job as failed.
 */
export function makeHandler(deps: EventsExportStepsDeps) {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? ((entry) => console.error(JSON.stringify(entry)));

  async function load(input: { job_id: string; app_id: string }): Promise<EventsExportJob> {
    const found = await deps.jobs.get(input.app_id, input.job_id);
    if (!found) throw new Error(`export job ${input.job_id} is not in the state table`);
    return found;
  }

  async function plan(input: { job_id: string; app_id: string }) {
    const stored = await load(input);
    const request = stored.request;
    const segment = request.segment_id ? await deps.catalog.getSegment(input.app_id, request.segment_id) : undefined;
    if (request.segment_id && !segment) {
      throw new Error(`segment ${request.segment_id} was deleted before the export ran`);
    }
    const exclusions = request.exclusions ? await deps.catalog.getExclusions(input.app_id) : undefined;
    const rows = eventsExportInputRows({
      jobId: stored.job_id,
      appToken: stored.app_token,
      request,
      segment,
      exclusions: exclusions ?? { user_ids: [], company_ids: [] },
    });
    await deps.inputs.writeInputs(stored.job_id, asLakeInputRows(rows));
    const partitions: EventsExportPartitionItem[] = planWeeklyPartitions(request.from, request.to).map((p) => ({
      ...p,
      file_name: exportFileName(p.week, request.format),
      format: request.format,
      // Athena takes execution parameters as SQL literal texts (and only in WHERE clauses).
      athena_params: eventsExportParams({
        jobId: stored.job_id,
        appId: input.app_id,
        partition: p,
        segmentAsOf: segment ? request.to : undefined,
      }).map(toAthenaLiteral),
    }));
    return { partitions };
  }

  async function writeWeek(input: WriteWeekInput) {
    const { bucket, key } = parseS3Url(input.query.output_location);
    const format = input.partition.format;
    const lines = new ResultLinesDecoder({ header: LINE_COLUMN, terminator: TERMINATOR[format] });
    // Larger output chunks than zlib's 16 KiB: fewer callbacks on the event loop, fewer upload writes.
    const gzip = createGzip({ chunkSize: 256 * 1024 });
    const target = exportFileKey(input.app_id, input.job_id, input.partition.file_name);
    // The result first: were it missing, an upload already started would wait forever on the gzip.
    const result = await deps.results.read(bucket, key);
    // A failed upload stops reading the gzip; destroying it ends the pipeline (and closes the result)
    // rather than leaving it stalled on a full buffer.
    const upload = deps.files.write(deps.exportsBucket, target, gzip, CONTENT_TYPE[format]).catch((error: unknown) => {
      gzip.destroy(error as Error);
      throw error;
    });
    // The CSV header is the one line the query cannot send as a row (its text has no values).
    if (format === 'csv') gzip.write(`${CSV_HEADER}\r\n`);
    await Promise.all([pipeline(result, lines, gzip), upload]);
    await deps.jobs.recordChunk(input.app_id, input.job_id, input.partition.week);
    return { lines: lines.lines };
  }

  async function complete(input: { job_id: string; app_id: string }) {
    const now = clock.now();
    const completed = await deps.jobs.markCompleted(input.app_id, input.job_id, now.toISOString());
    await deps.jobs.releaseExportLock(input.app_id, input.job_id);
    const stored = await load(input);
    if (!completed || stored.request.emails.length === 0) return {};
    // The files are written and the job is done: an email that cannot be sent is logged, not a failure.
    try {
      const linkSeconds = Math.min(deps.emailLinkSeconds ?? 3600, presignSeconds(stored, now));
      const files = await Promise.all(
        downloadableFiles(stored, now).map(async (filename) => ({
          filename,
          url: await deps.files.signedGetUrl(deps.exportsBucket, exportFileKey(input.app_id, input.job_id, filename), {
            expiresInSeconds: linkSeconds,
            fileName: filename,
          }),
        })),
      );
      await deps.mailer.send(exportReadyEmail({ job: stored, files, apiBaseUrl: deps.apiBaseUrl(), linkSeconds }));
    } catch (error) {
      log({ level: 'error', step: 'complete-events-export', job_id: input.job_id, email: (error as Error).message });
    }
    return {};
  }

  async function fail(input: { job_id: string; app_id: string; failure?: { Error?: string; Cause?: string } }) {
    // The user reads a message without the machine's paths; the whole failure stays in the log.
    log({ level: 'error', step: 'fail-events-export', job_id: input.job_id, failure: input.failure });
    const message =
      input.failure?.Error === 'States.Timeout'
        ? 'A week of the export took longer than its time limit and was stopped. Export a shorter range, or try again later.'
        : readableWorkflowFailure(input.failure);
    await deps.jobs.markFailed(input.app_id, input.job_id, { error: message, completed_at: clock.now().toISOString() });
    await deps.jobs.releaseExportLock(input.app_id, input.job_id);
    return {};
  }

  return workflowStepsHandler({
    [EVENTS_EXPORT_STEPS.plan]: workflowStep(job, plan),
    [EVENTS_EXPORT_STEPS.writeWeek]: workflowStep(writeWeekInput, writeWeek),
    [EVENTS_EXPORT_STEPS.complete]: workflowStep(job, complete),
    [EVENTS_EXPORT_STEPS.fail]: workflowStep(failInput, fail),
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('events-export-steps');
  const publicApiUrl = aws.setting('publicApiUrl');
  return makeHandler({
    jobs: aws.eventsExportJobs(),
    catalog: aws.catalog(),
    inputs: aws.lakeInputs(),
    results: aws.objects(),
    files: aws.objects(),
    mailer: aws.mailer(),
    exportsBucket: aws.setting('exportsBucket'),
    apiBaseUrl: () => publicApiUrl,
  });
});
