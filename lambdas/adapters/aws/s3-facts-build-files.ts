import { DeleteObjectsCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { COMPANY_FACTS_TABLE_NAME, FACTS_BUILD_ID_PATTERN, factsBuildPrefix } from '../../contract/facts.ts';
import { lakeShard } from '../../contract/lake.ts';
import type { FactsBuildFiles } from '../../ports/company-facts.ts';

/** DeleteObjects takes at most this many keys per call. */
const DELETE_BATCH = 1000;

/**
 * The daily facts' build folders in the lake bucket
 * (`company_facts/shard=<n>/<app_id>/<build_id>/`, lambdas/contract/facts.ts): what
 * the workflow's cleanup step lists and deletes. Its role may list the bucket under
 * `company_facts/` and delete objects there, nothing else (lib/facts-tables.ts).
 */
export class S3FactsBuildFiles implements FactsBuildFiles {
  constructor(private readonly options: { readonly client: S3Client; readonly bucket: string }) {
    if (!options.bucket) throw new Error('S3FactsBuildFiles: bucket is required');
  }

  /** The environment's folder: the part of a build's prefix before its build id. */
  private environmentPrefix(environmentId: string): string {
    return `${COMPANY_FACTS_TABLE_NAME}/shard=${lakeShard(environmentId)}/${environmentId}/`;
  }

  async listFactsBuilds(environmentId: string): Promise<string[]> {
    // Checks the id as a build's prefix would (a folder name it may hold).
    factsBuildPrefix(lakeShard(environmentId), environmentId, '00000000T000000Z-00000000');
    const prefix = this.environmentPrefix(environmentId);
    const builds = new Set<string>();
    const pages = paginateListObjectsV2(
      { client: this.options.client },
      { Bucket: this.options.bucket, Prefix: prefix, Delimiter: '/' },
    );
    for await (const page of pages) {
      for (const common of page.CommonPrefixes ?? []) {
        const id = (common.Prefix ?? '').slice(prefix.length).replace(/\/$/, '');
        if (FACTS_BUILD_ID_PATTERN.test(id)) builds.add(id);
      }
    }
    return [...builds].sort();
  }

  async deleteFactsBuild(environmentId: string, buildId: string): Promise<void> {
    const prefix = factsBuildPrefix(lakeShard(environmentId), environmentId, buildId);
    const pages = paginateListObjectsV2(
      { client: this.options.client },
      { Bucket: this.options.bucket, Prefix: prefix },
    );
    for await (const page of pages) {
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
      for (let start = 0; start < keys.length; start += DELETE_BATCH) {
        const batch = keys.slice(start, start + DELETE_BATCH);
        const { Errors } = await this.options.client.send(
          new DeleteObjectsCommand({
            Bucket: this.options.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        if (Errors && Errors.length > 0) {
          throw new Error(
            `could not delete ${Errors.length} object(s) of facts build ${buildId}: ${Errors[0]?.Code} ${Errors[0]?.Message}`,
          );
        }
      }
    }
  }
}
