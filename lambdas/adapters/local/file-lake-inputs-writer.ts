import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EXPORT_INPUTS_RETENTION_DAYS } from '../../contract/export-inputs.ts';
import { DAY_MS } from '../../contract/lake.ts';
import {
  type ExportInputRow,
  exportInputsJsonLines,
  exportInputsKey,
} from '../../core/company-export/rollup/inputs.ts';
import { systemClock } from '../../core/shared/clock.ts';
import type { Clock } from '../../ports/clock.ts';
import type { LakeInputsWriter } from '../../ports/lake-inputs.ts';

/**
 * The local lake's `export_inputs`: `<lakeDir>/export_inputs/<id>.json`,
 * which DuckDbQueryEngine serves as the view `export_inputs`. Written beside and
 * renamed into place, so a query never reads half a file.
 *
 * Each write also sweeps the folder as the lake bucket's lifecycle rule does on AWS:
 * files (and temporaries a crash left) last modified more than EXPORT_INPUTS_RETENTION_DAYS ago
 * are removed. Every export's query lists and reads every inputs file still there,
 * so without the sweep a local stack's exports would slow down month after month.
 */
export class FileLakeInputsWriter implements LakeInputsWriter {
  constructor(
    private readonly options: {
      readonly lakeDir: string;
      /** @default systemClock */
      readonly clock?: Clock;
    },
  ) {}

  async writeInputs(jobId: string, rows: readonly ExportInputRow[]): Promise<void> {
    const target = join(this.options.lakeDir, exportInputsKey(jobId));
    await mkdir(dirname(target), { recursive: true });
    // Not `.json`: the view's glob must not pick up the file while it is written.
    const temporary = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, exportInputsJsonLines(jobId, rows), { encoding: 'utf8', flag: 'wx' });
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await this.sweep(dirname(target), basename(target));
  }

  private async sweep(folder: string, written: string): Promise<void> {
    const before = (this.options.clock ?? systemClock).now().getTime() - EXPORT_INPUTS_RETENTION_DAYS * DAY_MS;
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (!entry.isFile() || entry.name === written) continue;
      const path = join(folder, entry.name);
      // Another writer may have removed it meanwhile: both outcomes are fine.
      const modified = await stat(path).then(
        (s) => s.mtimeMs,
        () => Number.POSITIVE_INFINITY,
      );
      if (modified < before) await rm(path, { force: true });
    }
  }
}
