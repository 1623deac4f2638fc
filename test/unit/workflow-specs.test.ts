import { describe, expect, it } from 'vitest';
import {
  collectTaskStates,
  type LocalTaskHandler,
  localWorkflow,
} from '../../lambdas/adapters/local/local-workflow-runner.ts';
import type { ExportWorkflowSpec } from '../../lambdas/contract/workflow-spec.ts';
import { exportWorkflowSpecs } from '../../lambdas/workflows/specs.ts';

const specs: ExportWorkflowSpec[] = Object.values(exportWorkflowSpecs());

describe.each(specs.map((spec) => [spec.name, spec] as const))('the %s workflow spec', (_, spec) => {
  it('names every Task state of its document once: its steps Lambda or one of its queries', () => {
    const wired = [...spec.stepsTasks, ...Object.keys(spec.queries)];

    expect([...wired].sort()).toEqual(collectTaskStates(spec.definition as Record<string, unknown>).sort());
    expect(new Set(wired).size).toBe(wired.length);
  });

  it('uses exactly its placeholders (the lake bucket only where a query UNLOADs into the lake), and its queries write under its results prefix', () => {
    const text = JSON.stringify(spec.definition);
    const used = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]));

    expect([...used].sort()).toEqual(Object.values(spec.placeholders).sort());
    expect(text).toContain(`/${spec.resultsPrefix}"`);
  });

  it('runs locally as given: placeholders filled, steps Tasks on the steps Lambda, each query on its DuckDB text', () => {
    const steps: LocalTaskHandler = async () => null;
    const queries: string[] = [];
    const workflow = localWorkflow(spec, {
      values: {
        stepsFunctionArn: 'arn:steps',
        glueDatabase: 'db',
        athenaWorkGroup: 'wg',
        resultsBucket: 'results',
        lakeBucket: 'lake',
      },
      steps,
      query: (duckdbSql) => {
        queries.push(duckdbSql);
        return async () => null;
      },
    });

    expect(JSON.stringify(workflow.definition)).not.toMatch(/\$\{\w+\}/);
    for (const state of spec.stepsTasks) expect(workflow.tasks[state]).toBe(steps);
    expect(queries).toEqual(Object.values(spec.queries).map((query) => query.duckdb));
    expect(queries.every((sql, i) => sql !== Object.values(spec.queries)[i]?.trino)).toBe(true);
  });
});
