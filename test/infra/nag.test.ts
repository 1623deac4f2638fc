import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { exportWorkflowSpecs } from '../../lambdas/workflows/specs.ts';
import { addFeaturelakeStacks, DEFAULT_REGION } from '../../lib/featurelake.ts';
import { buildFeaturelake, CONSOLE_FIXTURE, featurelake } from './featurelake-app.ts';

function describeViolations(report: ReturnType<AwsSolutionsChecks['validateScope']>): string[] {
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding on the synthesized app', () => {
    const { app } = featurelake();
    // After synthesis, as `cdk synth` checks it: cross-stack references are
    // then Fn::ImportValue, which is how findings name their resources.
    app.synth();

    expect(describeViolations(new AwsSolutionsChecks().validateScope(app))).toEqual([]);
  });

  it('reports none with the optional parts on either (the alarm topic and its key, email)', () => {
    const { app } = buildFeaturelake({ alarmEmail: 'ops@example.com', emailFrom: 'exports@example.com' });
    app.synth();

    expect(describeViolations(new AwsSolutionsChecks().validateScope(app))).toEqual([]);
  });

  it('passes synthesis with CloudFormation validation on and the nag plugin registered, as the CLI runs it', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    addFeaturelakeStacks(app, exportWorkflowSpecs(), CONSOLE_FIXTURE);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // An unacknowledged nag finding throws here.
    const assembly = app.synth();

    // CloudFormation schema problems are only warnings by default: there must be none either.
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string; description: string }[] }[];
    };
    expect(
      report.pluginReports.flatMap((plugin) =>
        plugin.violations.map((violation) => `${plugin.pluginName} ${violation.ruleName}: ${violation.description}`),
      ),
    ).toEqual([]);
    // With no region in context or environment, the stacks still name one (the state table's KMS key needs it).
    expect(assembly.getStackByName('FeaturelakeData').environment.region).toBe(
      process.env.CDK_DEFAULT_REGION ?? DEFAULT_REGION,
    );
  });
});
