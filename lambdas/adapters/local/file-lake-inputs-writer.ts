import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type ExportInputRow,
  exportInputsJsonLines,
  exportInputsKey,
} from '../../core/company-export/rollup/inputs.ts';
import type { LakeInputsWriter } from '../../ports/lake-inputs.ts';

/**
 * The local lake's `export_inputs`: `<lakeDir>/export_inputs/<id>.json`,
 * which DuckDbQueryEngine serves as the view `export_inputs`. Written beside and
 * renamed into place, so a query never reads half a file.
 */
export class FileLakeInputsWriter implements LakeInputsWriter {
  constructor(private readonly options: { readonly lakeDir: string }) {}

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
  }
}
