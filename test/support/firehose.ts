import type { PutRecordBatchCommandInput } from '@aws-sdk/client-firehose';
import { MAX_EVENTS_PER_RECORD } from '../../lambdas/adapters/aws/firehose-event-sink.ts';
import type { LakeEvent } from '../../lambdas/contract/lake.ts';

const decoder = new TextDecoder();

/**
 * One Firehose record split as the stream's JSON multi-record deaggregation does
 * (AWS "Apply dynamic partitioning to aggregated data": consecutive JSON objects,
 * newline-delimited allowed, an array is not; at most 500 per record). Throws where
 * Firehose would not split the record as we mean it.
 */
export function deaggregate(data: Uint8Array): LakeEvent[] {
  const text = decoder.decode(data);
  if (!text.endsWith('\n')) throw new Error('a packed record must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length > MAX_EVENTS_PER_RECORD) {
    throw new Error(
      `${lines.length} sub-records in one record; Firehose deaggregates at most ${MAX_EVENTS_PER_RECORD}`,
    );
  }
  return lines.map((line) => {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error('every sub-record must be one JSON object');
    }
    return value as LakeEvent;
  });
}

/** The records of one PutRecordBatch call. */
export const recordsOf = (input: PutRecordBatchCommandInput) => (input.Records ?? []) as { Data: Uint8Array }[];

/**
 * Evaluates a Firehose MetadataExtractionQuery of the form the stack synthesizes,
 * `{"key":.field,…}` (jq 1.6 object construction from top-level fields), on one
 * deaggregated record, giving each key's text as `partitionKeyFromQuery` substitutes
 * it. Any other jq form is refused, so a change to the query fails the test that
 * uses this rather than being read wrongly.
 */
export function partitionKeys(query: string, record: Record<string, unknown>): Record<string, string> {
  const body = /^\{(.*)\}$/.exec(query)?.[1];
  if (body === undefined) throw new Error(`not a jq object construction: ${query}`);
  const keys: Record<string, string> = {};
  for (const entry of body.split(',')) {
    const match = /^"(\w+)":\.(\w+)$/.exec(entry);
    if (!match) throw new Error(`unsupported jq entry: ${entry}`);
    const value = record[match[2] as string];
    // jq yields null for a missing field; Firehose then fails the record (error prefix).
    if (value === undefined || value === null) throw new Error(`record has no ${match[2]}`);
    keys[match[1] as string] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return keys;
}

/** Fills a Firehose S3 prefix's `!{partitionKeyFromQuery:key}` placeholders. */
export function s3Prefix(template: string, keys: Record<string, string>): string {
  return template.replace(/!\{partitionKeyFromQuery:(\w+)\}/g, (_, key: string) => {
    const value = keys[key];
    if (value === undefined) throw new Error(`no partition key ${key}`);
    return value;
  });
}
