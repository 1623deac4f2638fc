import { gzipSync } from 'node:zlib';
import { EVENTS_EXPORT_UNLOAD_PREFIX } from '../../contract/exports.ts';
import type { EventsExportJobs } from '../../ports/events-export-jobs.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { assertJobId } from '../company-export/rollup/inputs.ts';
import { type ConcatenationPiece, concatenateObjects, type MultipartLimits } from '../shared/concatenate-objects.ts';
import { parseS3Url } from '../shared/s3-url.ts';
import { type EventsExportWorkflowInput, exportFileKey, exportFileName } from './job.ts';
import type { ExportFormat } from './request.ts';
import { EXPORTED_EVENT_FIELDS } from './sql.ts';

const WEEK = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Where a week's UNLOAD writes its files in the results bucket:
 * `events-exports/unload/<job id>/<week>/`. The plan step pastes it into the UNLOAD's
 * `TO` (a literal, the one place a value is not a parameter), so both parts are
 * checked here, where the text is made: the job id a server-made id of a safe
 * alphabet, the week a date.
 */
export function eventsExportUnloadPrefix(jobId: string, week: string): string {
  assertJobId(jobId);
  if (!WEEK.test(week)) throw new RangeError(`week must be a date YYYY-MM-DD: ${JSON.stringify(week.slice(0, 20))}`);
  return `${EVENTS_EXPORT_UNLOAD_PREFIX}${jobId}/${week}/`;
}

const CONTENT_TYPE = { json: 'application/x-ndjson', csv: 'text/csv; charset=utf-8' } as const;
/**
 * What the file starts with, as its own gzip member (RFC 1952 §2.2: a gzip file is a
 * series of members, and gunzip reads them all): the CSV header, the one line the
 * query cannot send as a row. A JSON week with no rows is one empty member, so its
 * file is still a valid gzip file.
 */
const CSV_HEADER_MEMBER = gzipSync(`${EXPORTED_EVENT_FIELDS.join(',')}\r\n`);
const EMPTY_MEMBER = gzipSync(Buffer.alloc(0));

export interface AssembleEventsExportWeekDeps {
  readonly jobs: Pick<EventsExportJobs, 'get' | 'recordChunk'>;
  /** The results bucket (read, listed, cleaned) and the exports bucket (written), in one store. */
  readonly objects: Pick<ObjectStore, 'list' | 'read' | 'remove' | 'startMultipart'>;
  readonly exportsBucket: string;
  /** S3's multipart limits; tests shrink them. */
  readonly multipartLimits?: MultipartLimits;
}

/**
 * Builds one week's `<monday>.json.gz` / `<monday>.csv.gz` in the exports bucket from
 * the week's UNLOAD files (gzip members of finished lines), in key order, with one
 * multipart upload (core/shared/concatenate-objects.ts): the bytes are copied by S3,
 * not by this Lambda, so neither its memory nor its time grows with the week. Then
 * it records the week done and deletes the UNLOAD files.
 *
 * Safe to retry: the file appears whole or not at all (a failed upload is aborted),
 * and a week already recorded done is not built again from what may be a partly
 * deleted UNLOAD output; only the deletion is repeated.
 */
export async function assembleEventsExportWeek(
  deps: AssembleEventsExportWeekDeps,
  input: Readonly<EventsExportWorkflowInput> & {
    readonly partition: { readonly week: string; readonly format: ExportFormat };
    /** Athena's answer: its results location names the workgroup's results bucket. */
    readonly query: { readonly output_location: string };
  },
): Promise<{ parts: number; bytes: number }> {
  const { week, format } = input.partition;
  const resultsBucket = parseS3Url(input.query.output_location).bucket;
  const prefix = eventsExportUnloadPrefix(input.job_id, week);
  const files = await deps.objects.list(resultsBucket, prefix);
  const job = await deps.jobs.get(input.app_id, input.job_id);
  if (!job) throw new Error(`export job ${input.job_id} is not in the state table`);
  let written = { parts: 0, bytes: 0 };
  if (!job.completed_chunks.includes(week)) {
    const parts: ConcatenationPiece[] = files
      .filter((file) => file.size > 0)
      .map((file) => ({ bucket: resultsBucket, key: file.key, size: file.size }));
    const header: ConcatenationPiece[] =
      format === 'csv' ? [{ bytes: CSV_HEADER_MEMBER }] : parts.length === 0 ? [{ bytes: EMPTY_MEMBER }] : [];
    written = await concatenateObjects(
      deps.objects,
      {
        bucket: deps.exportsBucket,
        key: exportFileKey(input.app_id, input.job_id, exportFileName(week, format)),
        contentType: CONTENT_TYPE[format],
      },
      [...header, ...parts],
      deps.multipartLimits,
    );
    await deps.jobs.recordChunk(input.app_id, input.job_id, week);
  }
  // Only once the week is recorded: a retry must never rebuild the file from fewer files.
  await deps.objects.remove(
    resultsBucket,
    files.map((file) => file.key),
  );
  return written;
}
