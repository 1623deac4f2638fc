#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { exportWorkflowSpecs } from '../lambdas/workflows/specs.ts';
import { addFeaturelakeStacks } from '../lib/featurelake.ts';

const app = new App();
addFeaturelakeStacks(app, exportWorkflowSpecs());
// cdk-nag 3 is a policy validation plugin: an unacknowledged AwsSolutions
// finding fails `cdk synth` and `cdk deploy`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
