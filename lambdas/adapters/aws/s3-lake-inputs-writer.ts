import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type ExportInputRow,
  exportInputsJsonLines,
  exportInputsKey,
} from '../../core/company-export/rollup/inputs.ts';
import type { LakeInputsWriter } from '../../ports/lake-inputs.ts';

export interface S3LakeInputsWriterOptions {
  /**
   * Built with `requestChecksumCalculation: 'WHEN_REQUIRED'`: with the SDK's default
   * checksums, s3rver (the local S3) stores a body with its chunk framing inside.
   */
  readonly client: S3Client;
  /** The lake bucket; the Glue table `export_inputs` reads `export_inputs/` in it. */
  readonly bucket: string;
  /** A key prefix before `export_inputs/`, when the lake does not sit at the bucket's root. @default '' */
  readonly prefix?: string;
}

/**
 * Puts a job's inputs as one JSON-lines object at
 * `<prefix>export_inputs/<id>.json`. One PutObject: S3 makes the
 * object visible whole or not at all, and a retry replaces it.
 */
export class S3LakeInputsWriter implements LakeInputsWriter {
  private readonly prefix: string;

  constructor(private readonly options: S3LakeInputsWriterOptions) {
    if (!options.bucket) throw new Error('S3LakeInputsWriter: bucket is required');
    const prefix = options.prefix ?? '';
    if (prefix !== '' && !prefix.endsWith('/')) throw new Error('S3LakeInputsWriter: prefix must end with "/"');
    this.prefix = prefix;
  }

  async writeInputs(jobId: string, rows: readonly ExportInputRow[]): Promise<void> {
    await this.options.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: `${this.prefix}${exportInputsKey(jobId)}`,
        Body: exportInputsJsonLines(jobId, rows),
        ContentType: 'application/x-ndjson; charset=utf-8',
      }),
    );
  }
}
