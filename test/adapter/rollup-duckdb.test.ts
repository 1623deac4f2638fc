import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { FileLakeInputsWriter } from '../../lambdas/adapters/local/file-lake-inputs-writer.ts';
import { EXPORT_INPUT_COLUMNS } from '../../lambdas/contract/export-inputs.ts';
import { prepareCompanyRollup } from '../../lambdas/core/company-export/rollup/prepare.ts';
import { companyRollupSql } from '../../lambdas/core/company-export/rollup/sql.ts';
import { COMPANY_EXPORT_HEADER } from '../../lambdas/core/company-export/rollup/types.ts';
import { tempHome } from '../support/local-stack.ts';

let home: string;
let lakeDir: string;
let outDir: string;
let engine: DuckDbQueryEngine;

beforeAll(async () => {
  home = await tempHome('featurelake-rollup-duckdb-');
  lakeDir = join(home, 'lake');
  outDir = join(home, 'out');
  engine = await DuckDbQueryEngine.open({ lakeDir, csvOutputDir: outDir });
});
afterAll(async () => {
  engine.close();
  await rm(home, { recursive: true, force: true });
});

describe('DuckDbQueryEngine.runToCsv', () => {
  it('streams a query with bound values into an RFC 4180 CSV: header, quoting only where needed, NULL empty', async () => {
    const file = join(outDir, 'a.csv');
    const result = await engine.runToCsv(
      `SELECT * FROM (VALUES (1, 'plain', NULL), (2, 'with, comma', 'say "hi"'), (3, ?, 'two\nlines')) t ("n", "Text A", "B") WHERE n <= ?`,
      ["it's bound", 3],
      file,
    );
    expect(result).toEqual({ rows: 3 });
    expect(await readFile(file, 'utf8')).toBe(
      'n,Text A,B\n1,plain,\n2,"with, comma","say ""hi"""\n3,it\'s bound,"two\nlines"\n',
    );
  });

  it('writes nowhere but its csvOutputDir, and only SELECTs', async () => {
    await expect(engine.runToCsv('SELECT 1', [], join(home, 'elsewhere.csv'))).rejects.toThrow(/csvOutputDir/);
    await expect(engine.runToCsv('SELECT 1', [], join(outDir, '..', 'escape.csv'))).rejects.toThrow(/csvOutputDir/);
    await expect(
      engine.runToCsv(`COPY (SELECT 1) TO '${join(outDir, 'sneaky.csv')}'`, [], join(outDir, 'b.csv')),
    ).rejects.toThrow(/one SELECT/);
    await expect(engine.runToCsv("COPY (SELECT 1) TO '/tmp/x.csv'", [], join(outDir, 'b.csv'))).rejects.toThrow();
    expect(await readdir(outDir).catch(() => [])).not.toContain('sneaky.csv');
    await expect(engine.runToCsv('SELECT 1; SELECT 2', [], join(outDir, 'b.csv'))).rejects.toThrow(/one SELECT/);
    const bare = await DuckDbQueryEngine.open({ lakeDir });
    try {
      await expect(bare.runToCsv('SELECT 1', [], join(outDir, 'c.csv'))).rejects.toThrow(/none configured/);
    } finally {
      bare.close();
    }
  });

  it('runs in bounded memory when told to, spilling inside its own folder', async () => {
    const spillDir = join(home, 'spill');
    const bounded = await DuckDbQueryEngine.open({ lakeDir, csvOutputDir: outDir, memoryLimit: '150MB', spillDir });
    try {
      const [settings] = await bounded.readRows(
        "SELECT current_setting('memory_limit') AS memory, current_setting('temp_directory') AS spill",
      );
      expect(settings).toEqual({ memory: expect.stringMatching(/^1(43|50)\.\d+ MiB$/), spill: spillDir });
    } finally {
      bounded.close();
    }
    await expect(DuckDbQueryEngine.open({ lakeDir, memoryLimit: "1GB'; SET x = '1" })).rejects.toThrow(/memoryLimit/);
  });

  it('leaves no file behind when the query fails', async () => {
    await mkdir(outDir, { recursive: true });
    const before = await readdir(outDir);
    await expect(
      engine.runToCsv('SELECT CAST(? AS INTEGER) AS n', ['not a number'], join(outDir, 'd.csv')),
    ).rejects.toThrow();
    expect(await readdir(outDir)).toEqual(before);
  });

  it('readRows stays read-only: the new write path is not reachable from client SQL', async () => {
    await expect(engine.readRows(`COPY (SELECT 1) TO '${join(outDir, 'e.csv')}'`)).rejects.toThrow();
    expect(await readdir(outDir)).not.toContain('e.csv');
  });
});

describe('the export_inputs view', () => {
  it('exists with the declared columns and types before any job wrote inputs', async () => {
    const described = await engine.readRows(
      'SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM export_inputs)',
    );
    expect(described).toEqual([
      ...EXPORT_INPUT_COLUMNS.map((c) => ({
        column_name: c.name,
        column_type: c.type === 'int' ? 'INTEGER' : 'VARCHAR',
      })),
    ]);
    expect(await engine.readRows('SELECT count(*) AS n FROM export_inputs')).toEqual([{ n: 0 }]);
  });

  it('serves each job’s rows under its job_id, with the writer’s values and types', async () => {
    const writer = new FileLakeInputsWriter({ lakeDir });
    const prepare = (jobId: string, name: string) =>
      prepareCompanyRollup({
        jobId,
        environmentId: 'app',
        aggregation: 'today',
        asOf: new Date('2025-01-01T10:00:00Z'),
        features: [{ id: 'f', name, type: 'event', event_names: ['e'] }],
        segments: [],
      });
    await writer.writeInputs('job-a', prepare('job-a', "it's A").inputRows);
    await writer.writeInputs('job-b', prepare('job-b', 'B').inputRows);
    await writer.writeInputs('job-b', prepare('job-b', 'B again').inputRows); // a retried step replaces
    const rows = await engine.readRows(
      "SELECT job_id, feature_name, adoption_min_days, e_day FROM export_inputs WHERE kind IN ('feature', 'date') ORDER BY job_id, kind",
    );
    expect(rows).toEqual([
      { job_id: 'job-a', feature_name: null, adoption_min_days: null, e_day: 20089 },
      { job_id: 'job-a', feature_name: "it's A", adoption_min_days: 5, e_day: null },
      { job_id: 'job-b', feature_name: null, adoption_min_days: null, e_day: 20089 },
      { job_id: 'job-b', feature_name: 'B again', adoption_min_days: 5, e_day: null },
    ]);
  });

  it('the rollup runs on a lake without events: the header alone', async () => {
    const prepared = prepareCompanyRollup({
      jobId: 'job-empty',
      environmentId: 'app',
      aggregation: '6m_weekly',
      asOf: new Date('2025-01-01T10:00:00Z'),
      features: [{ id: 'f', name: 'F', type: 'event', event_names: ['e'] }],
      segments: [{ id: 's', name: 'S', filters: [] }],
    });
    await new FileLakeInputsWriter({ lakeDir }).writeInputs('job-empty', prepared.inputRows);
    const file = join(outDir, 'empty.csv');
    expect(await engine.runToCsv(companyRollupSql('duckdb'), prepared.params, file)).toEqual({ rows: 0 });
    expect(await readFile(file, 'utf8')).toBe(`${COMPANY_EXPORT_HEADER.join(',')}\n`);
  });
});
