import type { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { expect, it } from 'vitest';
import type { FeaturelakeStacks } from '../../lib/featurelake.ts';
import type { HandlerFunction } from '../../lib/handler-function.ts';
import type { QueryWorkgroup } from '../../lib/query-workgroup.ts';
import {
  ATHENA_DATA_CATALOG_STATEMENT,
  actionsOf,
  type BuiltFeaturelake,
  importOf,
  LOG_DELIVERY_AND_XRAY_ACTIONS,
  logicalId,
  managedStatementsOf,
  queryExecutionStatements,
  type Statement,
  stateMachineGrants,
} from './featurelake-app.ts';

export interface ExportWorkflowRoleSpec {
  /** As the tests name it: `company export`, `events export`. */
  readonly name: string;
  /** The stack with the workflow built. */
  build(): BuiltFeaturelake & { readonly workflow: { readonly stateMachine: StateMachine } };
  /** The Lambda behind the workflow's Task states, and its handler name. */
  readonly steps: { readonly name: string; of(stacks: FeaturelakeStacks): HandlerFunction };
  /** The workflow's own Athena workgroup, its name and its results prefix (no slashes). */
  readonly workgroup: { readonly name: string; readonly prefix: string; of(stacks: FeaturelakeStacks): QueryWorkgroup };
  /**
   * The daily facts' policies the role holds besides (the company export reads the
   * facts; the facts build writes them), after the three every such role holds.
   */
  readonly facts?: (stacks: FeaturelakeStacks) => readonly ManagedPolicy[];
}

/**
 * What an Athena export workflow's state machine role may do, the same for every
 * such workflow (ExportWorkflow): invoke its steps Lambda, query in its own
 * workgroup through the lake's and export_inputs' policies, and nothing that
 * records, writes or sends (the Lambda's work). Registers the tests in the
 * calling `describe`; returns how to build the role, for tests of its own.
 */
export function itGrantsTheExportWorkflowRoleOnlyItsOwn(spec: ExportWorkflowRoleSpec) {
  function role() {
    const built = spec.build();
    return { ...built, ...stateMachineGrants(built, built.workflow.stateMachine) };
  }

  it(`invokes the ${spec.steps.name} Lambda (and its versions) and nothing else`, () => {
    const { inline, stacks } = role();
    const fn = { 'Fn::GetAtt': [logicalId(spec.steps.of(stacks).function), 'Arn'] };
    const invokes = inline.filter((statement) => actionsOf(statement).some((action) => action.startsWith('lambda:')));

    expect(invokes).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [fn, { 'Fn::Join': ['', [fn, ':*']] }] },
    ]);
  });

  it(`runs Athena in the ${spec.name} workgroup and reads the events and export_inputs tables, through their policies`, () => {
    const { data, stacks, managed } = role();

    expect(managed).toEqual([
      importOf(data, { Ref: logicalId(spec.workgroup.of(stacks).queryExecutionPolicy) }),
      importOf(data, { Ref: logicalId(stacks.data.lake.queryPolicy) }),
      importOf(data, { Ref: logicalId(stacks.data.exportInputs.queryPolicy) }),
      ...(spec.facts?.(stacks) ?? []).map((policy) => importOf(data, { Ref: logicalId(policy) })),
    ]);
  });

  it(`writes and reads query results under ${spec.workgroup.prefix}/ of the results bucket only (Athena uses the caller's credentials)`, () => {
    const { data, stacks } = role();
    const workgroup = spec.workgroup.of(stacks);
    const statements = managedStatementsOf(data, workgroup.queryExecutionPolicy);

    expect(statements).toEqual(queryExecutionStatements(workgroup));
    expect(JSON.stringify(statements)).toContain(`:workgroup/${spec.workgroup.name}"`);
    expect(JSON.stringify(statements)).toContain(`"/${spec.workgroup.prefix}/*"`);
  });

  it('holds * only for what accepts no resource (log delivery and X-Ray), and no DynamoDB, KMS, SES or exports bucket', () => {
    const { data, stacks, inline } = role();
    const policies = [
      spec.workgroup.of(stacks).queryExecutionPolicy,
      stacks.data.lake.queryPolicy,
      stacks.data.exportInputs.queryPolicy,
      ...(spec.facts?.(stacks) ?? []),
    ];
    const all: Statement[] = [...inline, ...policies.flatMap((policy) => managedStatementsOf(data, policy))];
    const onStar = all.filter((statement) => [statement.Resource].flat().includes('*')).flatMap(actionsOf);

    expect(onStar.sort()).toEqual([...LOG_DELIVERY_AND_XRAY_ACTIONS].sort());
    expect(inline).toContainEqual(ATHENA_DATA_CATALOG_STATEMENT);
    // Recording the job, writing the files and emailing are the Lambda's work.
    expect(all.flatMap(actionsOf).filter((action) => /^(dynamodb|kms|states|ses):/.test(action))).toEqual([]);
    expect(JSON.stringify(all)).not.toContain(logicalId(stacks.data.exports.bucket));
  });

  return role;
}
