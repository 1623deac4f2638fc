import type { ExportInputRow } from '../core/company-export/rollup/inputs.ts';

/**
 * Writes a job's rows of the lake's `export_inputs` table (the catalog snapshot and
 * output dates the rollup query reads), replacing any earlier file of the same job,
 * so a retried step writes the same inputs again.
 */
export interface LakeInputsWriter {
  writeInputs(jobId: string, rows: readonly ExportInputRow[]): Promise<void>;
}
