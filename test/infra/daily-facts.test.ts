import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { substitute } from '../../lambdas/adapters/local/local-workflow-runner.ts';
import {
  COMPANY_FACT_COLUMNS,
  COMPANY_FACT_PARTITION_COLUMNS,
  COMPANY_FACTS_TABLE_NAME,
} from '../../lambdas/contract/facts.ts';
import { ENV } from '../../lambdas/contract/settings.ts';
import { companyFactsBuildSql } from '../../lambdas/core/company-export/facts/sql.ts';
import { FACTS_RESULTS_PREFIX, FACTS_STEPS } from '../../lambdas/core/daily-facts/orchestration.ts';
import {
  DAILY_FACTS_MAX_CONCURRENCY,
  dailyFactsDefinition,
  dailyFactsWorkflow,
  DAILY_FACTS_STATES as S,
} from '../../lambdas/workflows/daily-facts.ts';
import { DEFAULT_SCAN_LIMITS } from '../../lib/data-stack.ts';
import { itGrantsTheExportWorkflowRoleOnlyItsOwn } from './export-workflow-role.ts';
import {
  buildFeaturelake,
  describeExecutionsStatement,
  featurelake,
  importOf,
  inlineStatementsOf,
  logicalId,
  managedPolicyArnsOf,
  managedStatementsOf,
  ownLogsStatement,
  resourceOf,
  type Statement,
  stateTableReadWriteStatements,
} from './featurelake-app.ts';

function workflow() {
  const built = featurelake();
  const workflow = built.stacks.api.dailyFactsWorkflow;
  return { ...built, workflow, properties: resourceOf(built.api, workflow.stateMachine).Properties };
}

interface State {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Next?: string;
  End?: boolean;
  Catch?: unknown[];
  Choices?: unknown[];
  Default?: string;
  ItemsPath?: string;
  MaxConcurrency?: number;
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
}

function deployedDefinition(): { StartAt: string; States: Record<string, State> } {
  const { properties } = workflow();
  expect(typeof properties.DefinitionString).toBe('string');
  return JSON.parse(properties.DefinitionString as string);
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
const STEPS_ARN = '${FactsStepsFunctionArn}';

describe('the company_facts Glue table', () => {
  it('is Parquet under company_facts/ of the lake bucket, with the contract columns and the shard projected 0..63', () => {
    const { data, stacks } = featurelake();
    const input = resourceOf(data, stacks.data.facts.table).Properties.TableInput as Record<string, any>;
    const lakeBucket = { Ref: logicalId(stacks.data.lake.bucket) };

    expect(input.Name).toBe(COMPANY_FACTS_TABLE_NAME);
    expect(input.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(
      COMPANY_FACT_COLUMNS.map((c) => [c.name, c.type === 'int' ? 'int' : c.type]),
    );
    expect(input.PartitionKeys.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(
      COMPANY_FACT_PARTITION_COLUMNS.map((c) => [c.name, c.type]),
    );
    expect(input.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
    expect(input.StorageDescriptor.Location).toEqual({
      'Fn::Join': ['', ['s3://', lakeBucket, '/company_facts/']],
    });
    expect(input.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.shard.type': 'integer',
      'projection.shard.range': '0,63',
      'storage.location.template': {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Glue's projection template, literally.
        'Fn::Join': ['', ['s3://', lakeBucket, '/company_facts/shard=${shard}/']],
      },
    });
  });

  it('grants reading, writing and deleting under company_facts/ only, each in its own policy', () => {
    const { data, stacks } = featurelake();
    const facts = {
      'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stacks.data.lake.bucket), 'Arn'] }, '/company_facts/*']],
    };
    const bucket = { 'Fn::GetAtt': [logicalId(stacks.data.lake.bucket), 'Arn'] };
    const objectStatements = (policy: Parameters<typeof managedStatementsOf>[1]) =>
      managedStatementsOf(data, policy).filter((s: Statement) => JSON.stringify(s.Resource).includes('/company_facts'));

    expect(objectStatements(stacks.data.facts.queryPolicy)).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: facts },
    ]);
    expect(objectStatements(stacks.data.facts.writePolicy)).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: facts,
      },
    ]);
    expect(managedStatementsOf(data, stacks.data.facts.deletePolicy)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucket,
        Condition: { StringLike: { 's3:prefix': ['company_facts/*'] } },
      },
      { Effect: 'Allow', Action: 's3:DeleteObject', Resource: facts },
    ]);
    // None of them reaches the events or anything else of the lake.
    for (const policy of [
      stacks.data.facts.queryPolicy,
      stacks.data.facts.writePolicy,
      stacks.data.facts.deletePolicy,
    ]) {
      expect(JSON.stringify(managedStatementsOf(data, policy))).not.toMatch(/\/events\/|export_inputs/);
    }
  });
});

describe('the daily facts workgroup', () => {
  it('has its own scan cutoff (default, or dailyFactsScanLimitBytes) and its own results prefix', () => {
    const { data, stacks } = featurelake();
    const config = (template: typeof data, built = stacks) =>
      resourceOf(template, built.data.dailyFactsWorkgroup.workgroup).Properties.WorkGroupConfiguration as Record<
        string,
        unknown
      >;
    expect(config(data)).toMatchObject({
      BytesScannedCutoffPerQuery: DEFAULT_SCAN_LIMITS.dailyFacts,
      EnforceWorkGroupConfiguration: true,
    });
    expect(stacks.data.dailyFactsWorkgroup.resultsPrefix).toBe(FACTS_RESULTS_PREFIX);
    const custom = buildFeaturelake({ dailyFactsScanLimitBytes: String(50 * 1024 ** 3) });
    expect(config(custom.data, custom.stacks)).toMatchObject({ BytesScannedCutoffPerQuery: 50 * 1024 ** 3 });
  });
});

describe('the daily facts state machine', () => {
  it('deploys the very document the local stack runs, valid ASL, with the lake bucket as the UNLOAD destination', () => {
    const { data, stacks, properties } = workflow();
    const definition = deployedDefinition();
    const substitutions = properties.DefinitionSubstitutions as Record<string, unknown>;

    expect(definition).toEqual(dailyFactsDefinition(companyFactsBuildSql('trino')));
    expect(Object.keys(substitutions).sort()).toEqual(Object.values(dailyFactsWorkflow().placeholders).sort());
    expect(substitutions).toMatchObject({
      FactsStepsFunctionArn: { 'Fn::GetAtt': [logicalId(stacks.api.factsSteps.handler.function), 'Arn'] },
      LakeBucket: importOf(data, { Ref: logicalId(stacks.data.lake.bucket) }),
      AthenaWorkGroup: resourceOf(data, stacks.data.dailyFactsWorkgroup.workgroup).Properties.Name,
    });
    const filled = substitute(definition as unknown as Record<string, unknown>, {
      FactsStepsFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:steps',
      GlueDatabase: 'featurelake',
      AthenaWorkGroup: 'featurelake-daily-facts',
      ResultsBucket: 'results',
      LakeBucket: 'lake',
    });
    const { isValid, errorsText } = aslValidator(filled);
    expect(isValid, errorsText()).toBe(true);
  });

  it('lists the environments, then per environment (at most DAILY_FACTS_MAX_CONCURRENCY at once) plans, builds, commits and cleans up', () => {
    const { StartAt, States } = deployedDefinition();
    const each = States[S.each] as State;
    const inner = each.ItemProcessor?.States ?? {};

    expect(StartAt).toBe(S.list);
    expect(States[S.list]).toMatchObject({ Resource: STEPS_ARN, Parameters: { step: FACTS_STEPS.list }, Next: S.each });
    expect(each).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.list.environments',
      MaxConcurrency: DAILY_FACTS_MAX_CONCURRENCY,
      Next: S.finish,
    });
    expect(each.ItemProcessor?.StartAt).toBe(S.plan);
    expect(inner[S.plan]).toMatchObject({
      Resource: STEPS_ARN,
      Parameters: { step: FACTS_STEPS.plan },
      Next: S.hasDays,
    });
    expect(inner[S.hasDays]).toMatchObject({
      Choices: [{ Variable: '$.plan.days_count', NumericGreaterThan: 0, Next: S.build }],
      Default: S.commit,
    });
    expect(inner[S.build]).toMatchObject({
      Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
      Next: S.commit,
      Parameters: { 'ExecutionParameters.$': '$.plan.athena_params' },
    });
    expect(inner[S.commit]).toMatchObject({
      Parameters: { step: FACTS_STEPS.commit, 'job.$': '$.plan' },
      Next: S.cleanup,
    });
    expect(inner[S.cleanup]).toMatchObject({ Parameters: { step: FACTS_STEPS.cleanup }, Next: S.built });
    expect(States[S.finish]).toMatchObject({
      Resource: STEPS_ARN,
      Parameters: { step: FACTS_STEPS.finish },
      End: true,
    });
  });

  it("UNLOADs the build as Parquet into the plan's destination under the lake bucket, every value a parameter", () => {
    const inner = (deployedDefinition().States[S.each] as State).ItemProcessor?.States ?? {};
    const format = String(inner[S.build]?.Parameters?.['QueryString.$']);

    expect(format).toMatch(/^States\.Format\('UNLOAD \(/);
    expect(format).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
      "TO \\'s3://${LakeBucket}/{}\\' WITH (format = \\'PARQUET\\', compression = \\'SNAPPY\\')'",
    );
    expect(format.endsWith(', $.plan.destination)')).toBe(true);
    expect(inner[S.build]?.Parameters).toMatchObject({
      ResultConfiguration: { OutputLocation: `s3://\${ResultsBucket}/${FACTS_RESULTS_PREFIX}` },
    });
  });

  it("catches one environment's failure inside its iteration, so the others still build; the end fails the run if any did", () => {
    const inner = (deployedDefinition().States[S.each] as State).ItemProcessor?.States ?? {};
    const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: S.failed }];

    for (const name of [S.plan, S.build, S.commit, S.cleanup]) expect(inner[name]?.Catch, name).toEqual(catchAll);
    expect(inner[S.failed]).toMatchObject({ Type: 'Pass', End: true });
    expect(inner[S.built]).toMatchObject({ Type: 'Pass', End: true });
  });

  describe('its role', () => {
    itGrantsTheExportWorkflowRoleOnlyItsOwn({
      name: 'daily facts',
      build: workflow,
      steps: { name: 'facts-steps', of: (stacks) => stacks.api.factsSteps.handler },
      facts: (stacks) => [stacks.data.facts.writePolicy],
      workgroup: {
        name: 'featurelake-daily-facts',
        prefix: 'daily-facts',
        of: (stacks) => stacks.data.dailyFactsWorkgroup,
      },
    });
  });
});

describe('the facts steps Lambda', () => {
  it('has the state table, lake bucket, facts workgroup and database as settings', () => {
    const { api, data, stacks } = featurelake();
    const fn = resourceOf(api, stacks.api.factsSteps.handler.function).Properties;

    expect((fn.Environment as { Variables: object }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      [ENV.stateTable]: importOf(data, { Ref: logicalId(stacks.data.stateTable.table) }),
      [ENV.lakeBucket]: importOf(data, { Ref: logicalId(stacks.data.lake.bucket) }),
      [ENV.dailyFactsWorkgroup]: resourceOf(data, stacks.data.dailyFactsWorkgroup.workgroup).Properties.Name,
      [ENV.glueDatabase]: importOf(data, { Ref: logicalId(stacks.data.lake.database) }),
    });
  });

  it('reads and writes the state table, scans only the tracking-key index (the environments), and holds only its policies', () => {
    const built = featurelake();
    const { api, data, stacks } = built;
    const steps = stacks.api.factsSteps.handler;
    const tableArn = importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.stateTable.table), 'Arn'] });

    expect(inlineStatementsOf(api, logicalId(steps.role))).toEqual([
      ownLogsStatement(steps.logGroup),
      ...stateTableReadWriteStatements(built),
      {
        Effect: 'Allow',
        Action: 'dynamodb:Scan',
        Resource: { 'Fn::Join': ['', [tableArn, '/index/by-tracking-key']] },
      },
      // What the Scan reads is encrypted with the table's key: decrypt only, and only by way of DynamoDB.
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey'],
        Resource: importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.stateTable.encryptionKey), 'Arn'] }),
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
      },
    ]);
    expect(managedPolicyArnsOf(api, steps.role)).toEqual(
      [
        stacks.data.dailyFactsWorkgroup.queryExecutionPolicy,
        stacks.data.lake.queryPolicy,
        stacks.data.exportInputs.writePolicy,
        stacks.data.facts.deletePolicy,
      ].map((policy) => importOf(data, { Ref: logicalId(policy) })),
    );
  });
});

describe('the order before the automatic exports', () => {
  it('the dispatcher starts the daily facts workflow and the company export workflow, and nothing else', () => {
    const built = featurelake();
    const { api, stacks } = built;
    const dispatcher = stacks.api.exportSchedule.dispatcher;
    const fn = resourceOf(api, dispatcher.function).Properties;

    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables[ENV.dailyFactsStateMachineArn]).toEqual(
      {
        Ref: logicalId(stacks.api.dailyFactsWorkflow.stateMachine),
      },
    );
    const starts = inlineStatementsOf(api, logicalId(dispatcher.role)).filter((s) =>
      JSON.stringify(s.Action).includes('states:'),
    );
    expect(starts).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: logicalId(stacks.api.companyExportWorkflow.stateMachine) },
      },
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: logicalId(stacks.api.dailyFactsWorkflow.stateMachine) },
      },
    ]);
  });

  it("an automatic export may ask whether the fire's facts build still runs: DescribeExecution on its executions only", () => {
    const { api, stacks } = featurelake();
    const statements = inlineStatementsOf(api, logicalId(stacks.api.exportSteps.handler.role)).filter((s) =>
      JSON.stringify(s.Action).includes('states:'),
    );

    expect(statements).toEqual([describeExecutionsStatement(stacks.api.dailyFactsWorkflow.stateMachine)]);
  });

  it('the admin Lambda starts the facts workflow (tick, POST /admin/v1/facts/build) and describes its executions', () => {
    const { api, stacks } = featurelake();
    const statements = inlineStatementsOf(api, logicalId(stacks.api.admin.handler.role)).filter((s) =>
      JSON.stringify(s.Action).includes('states:'),
    );

    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: logicalId(stacks.api.companyExportWorkflow.stateMachine) },
      },
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: logicalId(stacks.api.dailyFactsWorkflow.stateMachine) },
      },
      describeExecutionsStatement(stacks.api.dailyFactsWorkflow.stateMachine),
    ]);
  });
});
