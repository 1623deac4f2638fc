#!/usr/bin/env node
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildConsole } from '../console/build.ts';
import { exportWorkflowSpecs } from '../lambdas/workflows/specs.ts';
import { addFeaturelakeStacks } from '../lib/featurelake.ts';

const app = new App();
// The console is built now (esbuild, under a second) and deployed from this directory; nothing built is committed.
const built = await buildConsole(join(await mkdtemp(join(tmpdir(), 'featurelake-console-')), 'console'));
addFeaturelakeStacks(app, exportWorkflowSpecs(), built.outDir);
// cdk-nag 3 is a policy validation plugin: an unacknowledged AwsSolutions
// finding fails `cdk synth` and `cdk deploy`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
