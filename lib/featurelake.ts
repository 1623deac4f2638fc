import type { Stage } from 'aws-cdk-lib';
import type { ExportWorkflowSpecs } from '../lambdas/contract/workflow-spec.ts';
import { FeaturelakeApiStack } from './api-stack.ts';
import { FeaturelakeDataStack } from './data-stack.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';

/** Region used when neither `-c region=…` nor CDK_DEFAULT_REGION says otherwise. */
export const DEFAULT_REGION = 'us-east-1';

export interface FeaturelakeStacks {
  readonly data: FeaturelakeDataStack;
  readonly api: FeaturelakeApiStack;
}

/**
 * Adds the two featurelake stacks to an app (or stage), deploying the given
 * export workflows (lambdas/workflows/exportWorkflowSpecs(): bin/app.ts builds
 * them, so lib/ never builds SQL or documents), configured from CDK context:
 *
 * - `region`: deployment region (else CDK_DEFAULT_REGION, else us-east-1);
 * - `account`: deployment account (else CDK_DEFAULT_ACCOUNT, else unset);
 * - `athenaScanLimitBytes`: the workgroups' per-query scan limit (else 10 GiB);
 * - `emailFrom`: the SES-verified address events export emails come from
 *   (else none: no email is sent);
 * - `emailIdentity`: the SES identity covering `emailFrom`, when it is a parent
 *   domain (else the address and its domain);
 * - `publicBaseUrl`: the custom domain's https URL that download links start
 *   with (else the HTTP API's own URL).
 */
export function addFeaturelakeStacks(scope: Stage, workflows: ExportWorkflowSpecs): FeaturelakeStacks {
  const region = contextString(scope, 'region') ?? process.env.CDK_DEFAULT_REGION ?? DEFAULT_REGION;
  const account = contextString(scope, 'account') ?? process.env.CDK_DEFAULT_ACCOUNT;
  // A region on the stacks is required by the state table's KMS key; the
  // account may stay unset (synth then needs no credentials).
  const env = account === undefined ? { region } : { account, region };
  const athenaScanLimitBytes = contextInteger(scope, 'athenaScanLimitBytes');
  const emailFrom = contextString(scope, 'emailFrom');
  const emailIdentity = contextString(scope, 'emailIdentity');
  const publicBaseUrl = contextString(scope, 'publicBaseUrl');

  const data = new FeaturelakeDataStack(scope, 'FeaturelakeData', {
    env,
    description: 'featurelake: event lake, state table, admin token (stateful)',
    workflows,
    ...(athenaScanLimitBytes === undefined ? {} : { athenaScanLimitBytes }),
  });
  const api = new FeaturelakeApiStack(scope, 'FeaturelakeApi', {
    env,
    description: 'featurelake: HTTP API and Lambda handlers (stateless)',
    data,
    workflows,
    emailFrom,
    emailIdentity,
    publicBaseUrl,
  });
  acknowledgeNagFindings({ data, api });
  return { data, api };
}

function contextString(scope: Stage, key: string): string | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new Error(`context "${key}" must be a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function contextInteger(scope: Stage, key: string): number | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  // `-c key=value` on the command line always arrives as a string.
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new Error(`context "${key}" must be a whole number, got ${JSON.stringify(value)}`);
  }
  return number;
}
