import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FACTS_BUILD_ID_PATTERN, factsBuildPrefix } from '../../contract/facts.ts';
import { lakeShard } from '../../contract/lake.ts';
import type { FactsBuildFiles } from '../../ports/company-facts.ts';

/** The facts builds of the local lake: folders `<lake>/company_facts/shard=<n>/<app>/<build>/`. */
export class FolderFactsBuildFiles implements FactsBuildFiles {
  constructor(private readonly options: { readonly lakeDir: string }) {}

  async listFactsBuilds(environmentId: string): Promise<string[]> {
    const appDir = join(
      this.options.lakeDir,
      factsBuildPrefix(lakeShard(environmentId), environmentId, ZERO_BUILD),
      '..',
    );
    const entries = await readdir(appDir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && FACTS_BUILD_ID_PATTERN.test(e.name)).map((e) => e.name);
  }

  async deleteFactsBuild(environmentId: string, buildId: string): Promise<void> {
    await rm(join(this.options.lakeDir, factsBuildPrefix(lakeShard(environmentId), environmentId, buildId)), {
      recursive: true,
      force: true,
    });
  }
}

/** A well-formed id, only to name the environment's folder through factsBuildPrefix. */
const ZERO_BUILD = '00000000T000000Z-00000000';
