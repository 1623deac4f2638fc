import { join } from 'node:path';
import { cruise, type ICruiseOptions, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { beforeAll, describe, expect, it } from 'vitest';

// The rules live in .dependency-cruiser.cjs, which `npm run lint` runs too; this file
// checks the real tree with them and shows each one catching a deliberate violation.

const ROOT = join(import.meta.dirname, '../..');
const FIXTURES = join(import.meta.dirname, 'fixtures');

let options: ICruiseOptions;
const tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'));

beforeAll(async () => {
  options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
});

/** Cruises `dirs` of `baseDir` with the project's rules; paths in the result are relative to `baseDir`. */
async function cruiseTree(baseDir: string, dirs: string[]): Promise<ICruiseResult> {
  const { output } = await cruise(dirs, { ...options, baseDir }, {}, { tsConfig });
  return output as ICruiseResult;
}

const describeViolation = (v: IViolation) => `${v.rule.name}: ${v.from} → ${v.to}`;

describe('import boundaries', () => {
  it('the real tree (bin, lib, lambdas) breaks none of the rules', async () => {
    const result = await cruiseTree(ROOT, ['bin', 'lib', 'lambdas']);
    // A cruise that found nothing would pass too: make sure it read the tree.
    expect(result.summary.totalCruised).toBeGreaterThan(150);
    expect(result.summary.violations.map(describeViolation)).toEqual([]);
  });

  /**
   * One fixture tree per rule under fixtures/<rule>/, laid out like the repository,
   * with one offending import (`from` → `to`; a cycle is reported once, at the import
   * that closes it); where a rule has exceptions the fixture also holds an allowed
   * import next to the offending one.
   */
  const VIOLATIONS: readonly { readonly rule: string; readonly from: string; readonly to: string | RegExp }[] = [
    { rule: 'no-circular', from: 'lambdas/core/fact.ts', to: 'lambdas/core/timeline.ts' },
    { rule: 'lib-only-contract', from: 'lib/stack.ts', to: 'lambdas/core/rollup.ts' },
    {
      rule: 'core-no-infrastructure',
      from: 'lambdas/core/tracking.ts',
      to: /node_modules\/@aws-sdk\/client-firehose\//,
    },
    { rule: 'core-only-inward', from: 'lambdas/core/tracking.ts', to: 'lambdas/handlers/http.ts' },
    { rule: 'ports-type-only', from: 'lambdas/ports/clock.ts', to: 'lambdas/core/clock.ts' },
    { rule: 'ports-only-inward', from: 'lambdas/ports/query-engine.ts', to: 'lambdas/adapters/local/duckdb.ts' },
    { rule: 'contract-self-contained', from: 'lambdas/contract/routes.ts', to: 'lambdas/core/tracking.ts' },
    {
      rule: 'workflows-only-core-and-contract',
      from: 'lambdas/workflows/company-export.ts',
      to: 'lambdas/handlers/steps.ts',
    },
    {
      rule: 'workflows-no-infrastructure',
      from: 'lambdas/workflows/company-export.ts',
      to: /node_modules\/@aws-sdk\/client-sfn\//,
    },
    { rule: 'handler-not-to-handler', from: 'lambdas/handlers/catalog.ts', to: 'lambdas/handlers/tracking.ts' },
    {
      rule: 'aws-adapters-only-through-aws-deps',
      from: 'lambdas/handlers/catalog.ts',
      to: 'lambdas/adapters/aws/s3-object-store.ts',
    },
    {
      rule: 'handlers-no-local-adapters',
      from: 'lambdas/handlers/tracking.ts',
      to: 'lambdas/adapters/local/durable-log-event-sink.ts',
    },
    { rule: 'adapters-only-inward', from: 'lambdas/adapters/aws/firehose-event-sink.ts', to: 'lambdas/config.ts' },
    { rule: 'nothing-imports-bin-or-test', from: 'lib/api.ts', to: 'bin/local.ts' },
  ];
  const rules = [...new Set(VIOLATIONS.map((v) => v.rule))];

  it('every rule in the configuration has a fixture that breaks it', () => {
    expect(options.ruleSet?.forbidden?.map((rule) => rule.name).sort()).toEqual([...rules].sort());
  });

  it.each(rules)('%s fails on its fixture, and no other rule does', async (rule) => {
    const result = await cruiseTree(join(FIXTURES, rule), ['.']);
    const found = result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
    const expected = VIOLATIONS.filter((v) => v.rule === rule).map((v) => ({
      ...v,
      to: typeof v.to === 'string' ? v.to : expect.stringMatching(v.to),
    }));
    expect(found).toEqual(expected);
  });
});
