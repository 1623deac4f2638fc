import { describe, expect, it } from 'vitest';
import { AUTOMATIC_EXPORT_SCHEDULE, AUTOMATIC_EXPORT_SECRET_PURPOSE } from '../../lambdas/contract/exports.ts';
import { ENV } from '../../lambdas/contract/settings.ts';
import {
  actionsOf,
  adminTokenReadStatement,
  describeExecutionsStatement,
  featurelake,
  importOf,
  inlineStatementsOf,
  logicalId,
  managedPolicyArnsOf,
  ownLogsStatement,
  resourceOf,
  resourcesOf,
  type Statement,
  stateTableReadWriteStatements,
} from './featurelake-app.ts';

const PURPOSE = { StringEquals: { 'kms:EncryptionContext:purpose': AUTOMATIC_EXPORT_SECRET_PURPOSE } };

function built() {
  const app = featurelake();
  const { stacks, data } = app;
  const keyArn = importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.exportSecretsKey.key), 'Arn'] });
  const stateMachine = { Ref: logicalId(stacks.api.companyExportWorkflow.stateMachine) };
  const factsMachine = { Ref: logicalId(stacks.api.dailyFactsWorkflow.stateMachine) };
  return { ...app, keyArn, stateMachine, factsMachine };
}

describe('the daily automatic-export schedule', () => {
  it('fires every day at 00:15 UTC into the dispatcher, with the scheduled time as `at`', () => {
    const { api, stacks } = built();
    const schedule = stacks.api.exportSchedule;
    const properties = resourceOf(api, schedule.schedule).Properties;

    expect(AUTOMATIC_EXPORT_SCHEDULE).toEqual({ hourUtc: 0, minuteUtc: 15 });
    expect(properties).toMatchObject({
      ScheduleExpression: 'cron(15 0 * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [logicalId(schedule.dispatcher.function), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [logicalId(schedule.schedulerRole), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) },
      },
    });
    expect(JSON.parse((properties.Target as { Input: string }).Input)).toEqual({
      at: '<aws.scheduler.scheduled-time>',
    });
    expect(Object.keys(resourcesOf(api, 'AWS::Scheduler::Schedule'))).toHaveLength(1);
  });

  it('is assumed by EventBridge Scheduler of this account only, to invoke the dispatcher and nothing else', () => {
    const { api, stacks } = built();
    const schedule = stacks.api.exportSchedule;
    const fn = { 'Fn::GetAtt': [logicalId(schedule.dispatcher.function), 'Arn'] };

    expect(resourceOf(api, schedule.schedulerRole).Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    expect(inlineStatementsOf(api, logicalId(schedule.schedulerRole))).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [fn, { 'Fn::Join': ['', [fn, ':*']] }] },
    ]);
    expect(managedPolicyArnsOf(api, schedule.schedulerRole)).toEqual([]);
  });
});

describe('the dispatcher Lambda', () => {
  it('knows the state table, the company export state machine and the daily facts one', () => {
    const { api, data, stacks, stateMachine, factsMachine } = built();
    const fn = resourceOf(api, stacks.api.exportSchedule.dispatcher.function).Properties;

    expect((fn.Environment as { Variables: object }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      [ENV.stateTable]: importOf(data, { Ref: logicalId(stacks.data.stateTable.table) }),
      [ENV.companyExportStateMachineArn]: stateMachine,
      [ENV.dailyFactsStateMachineArn]: factsMachine,
    });
  });

  it('starts executions of those two state machines only; besides, the state table and its logs', () => {
    const app = built();
    const dispatcher = app.stacks.api.exportSchedule.dispatcher;

    expect(inlineStatementsOf(app.api, logicalId(dispatcher.role))).toEqual([
      ownLogsStatement(dispatcher.logGroup),
      ...stateTableReadWriteStatements(app),
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: app.stateMachine },
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: app.factsMachine },
    ]);
    expect(managedPolicyArnsOf(app.api, dispatcher.role)).toEqual([]);
  });

  it('is reached by no route: only the schedule invokes it', () => {
    const { api, stacks } = built();
    const target = JSON.stringify({ 'Fn::GetAtt': [logicalId(stacks.api.exportSchedule.dispatcher.function), 'Arn'] });
    const permissions = Object.values(resourcesOf(api, 'AWS::Lambda::Permission')).filter(
      ({ Properties }) => JSON.stringify(Properties.FunctionName) === target,
    );

    expect(permissions).toEqual([]);
  });
});

describe('the export secrets KMS key', () => {
  it('rotates, is kept when the stack goes, and its policy allows no use without the automatic-export context', () => {
    const { data, stacks } = built();
    const key = (data.toJSON().Resources as Record<string, { DeletionPolicy?: string }>)[
      logicalId(stacks.data.exportSecretsKey.key)
    ];
    const properties = resourceOf(data, stacks.data.exportSecretsKey.key).Properties;

    expect(key?.DeletionPolicy).toBe('Retain');
    expect(properties.EnableKeyRotation).toBe(true);
    expect(properties.KeyPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AccountAdministersTheKeyAndDelegatesUseToIam',
          Effect: 'Allow',
          Principal: {
            AWS: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']],
            },
          },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Sid: 'OnlyForAutomaticExportSecrets',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: { StringNotEquals: { 'kms:EncryptionContext:purpose': AUTOMATIC_EXPORT_SECRET_PURPOSE } },
        },
      ],
    });
  });

  it('is used by two roles only: the settings API seals and opens, the delivery step only opens', () => {
    const { api, keyArn, stacks } = built();
    const byRole = new Map<string, Statement[]>();
    for (const policy of Object.values(resourcesOf(api, 'AWS::IAM::Policy'))) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
        (statement) => JSON.stringify(statement.Resource) === JSON.stringify(keyArn),
      );
      for (const role of policy.Properties.Roles as { Ref: string }[]) {
        if (statements.length) byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...statements]);
      }
    }

    expect(Object.fromEntries(byRole)).toEqual({
      [logicalId(stacks.api.automaticExports.handler.role)]: [
        { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: keyArn, Condition: PURPOSE },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: PURPOSE },
      ],
      [logicalId(stacks.api.exportSteps.handler.role)]: [
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: PURPOSE },
      ],
    });
  });
});

describe('the automatic exports settings Lambda', () => {
  it('knows the state table and the key, and may take 29 s (a bucket check waits up to 15 s)', () => {
    const { api, data, stacks, keyArn } = built();
    const fn = resourceOf(api, stacks.api.automaticExports.handler.function).Properties;

    expect((fn.Environment as { Variables: object }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      [ENV.stateTable]: importOf(data, { Ref: logicalId(stacks.data.stateTable.table) }),
      [ENV.adminSecretArn]: importOf(data, { Ref: logicalId(stacks.data.adminToken.secret) }),
      [ENV.exportSecretsKeyArn]: keyArn,
    });
    expect(fn.Timeout).toBe(29);
  });

  it('holds its logs, the state table, the admin token and the key grants: no workflow, no bucket of ours', () => {
    const app = built();
    const handler = app.stacks.api.automaticExports.handler;
    const statements = inlineStatementsOf(app.api, logicalId(handler.role));

    expect(statements).toEqual([
      ownLogsStatement(handler.logGroup),
      ...stateTableReadWriteStatements(app),
      adminTokenReadStatement(app),
      { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: app.keyArn, Condition: PURPOSE },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: app.keyArn, Condition: PURPOSE },
    ]);
    expect(managedPolicyArnsOf(app.api, handler.role)).toEqual([]);
    expect(statements.flatMap(actionsOf).filter((action) => /^(s3|states|lambda):/.test(action))).toEqual([]);
  });
});

describe('the admin Lambda, for POST /admin/v1/scheduler/tick', () => {
  it('may start executions of the company export and daily facts state machines (and describe the latter), and nothing else', () => {
    const { api, stacks, stateMachine, factsMachine } = built();
    const statements = inlineStatementsOf(api, logicalId(stacks.api.admin.handler.role));

    expect(statements.filter((statement) => actionsOf(statement).some((a) => a.startsWith('states:')))).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: stateMachine },
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: factsMachine },
      describeExecutionsStatement(stacks.api.dailyFactsWorkflow.stateMachine),
    ]);
  });
});
