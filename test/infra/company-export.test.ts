import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { substitute } from '../../lambdas/adapters/local/local-workflow-runner.ts';
import { COMPANY_EXPORT_RESULTS_PREFIX } from '../../lambdas/contract/exports.ts';
import { ENV } from '../../lambdas/contract/settings.ts';
import { DELIVERY_ERRORS } from '../../lambdas/core/automatic-export/customer-bucket.ts';
import { companyExportCsvKey } from '../../lambdas/core/company-export/job.ts';
import {
  COMPANY_EXPORT_STATES,
  companyExportDefinition,
  companyExportWorkflow,
  companyRollupTexts,
} from '../../lambdas/workflows/company-export.ts';
import { COMPANY_EXPORTS_PREFIX } from '../../lib/exports-bucket.ts';
import { itGrantsTheExportWorkflowRoleOnlyItsOwn } from './export-workflow-role.ts';
import {
  describeExecutionsStatement,
  featurelake,
  importOf,
  inlineStatementsOf,
  logicalId,
  managedPolicyArnsOf,
  managedStatementsOf,
  ownLogsStatement,
  resourceOf,
  resourcesOf,
  stateTableReadWriteStatements,
  TRANSIENT_ERRORS,
} from './featurelake-app.ts';

/** The placeholders its document names, as the deployed substitutions must fill them. */
const COMPANY_EXPORT_SUBSTITUTIONS = Object.values(companyExportWorkflow().placeholders);

interface TaskState {
  Type: string;
  Choices?: { Variable: string; IsPresent?: boolean; Next: string }[];
  Default?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  TimeoutSeconds?: number;
  Retry?: { ErrorEquals: string[]; MaxAttempts: number }[];
  Catch?: { ErrorEquals: string[]; ResultPath: string; Next: string }[];
  Next?: string;
  End?: boolean;
}

interface Definition {
  StartAt: string;
  States: Record<string, TaskState>;
}

function workflow() {
  const built = featurelake();
  const { api, stacks } = built;
  const workflow = stacks.api.companyExportWorkflow;
  const properties = resourceOf(api, workflow.stateMachine).Properties;
  return { ...built, workflow, properties };
}

function deployedDefinition(): Definition {
  const { properties } = workflow();
  // A plain string: every value that only AWS knows is a substitution, not a token inside the text.
  expect(typeof properties.DefinitionString).toBe('string');
  return JSON.parse(properties.DefinitionString as string) as Definition;
}

function tasks(): [string, TaskState][] {
  return Object.entries(deployedDefinition().States).filter(([, state]) => state.Type === 'Task');
}

/** `s3://<bucket>/<suffix>` as the data stack writes it. */
function s3Url(bucketLogicalId: string, suffix: string): unknown {
  return { 'Fn::Join': ['', ['s3://', { Ref: bucketLogicalId }, suffix]] };
}

/**
 * Hard quotas the rollup's three query texts (each ~50 KB, all in the definition) come
 * closest to: a state machine definition of at most 1 MB (Step Functions Developer
 * Guide, "Service quotas", quotas related to accounts: "Maximum size of state machine
 * definition: 1 MB", not adjustable), and a template of at most 1 MB read from S3
 * (CloudFormation User Guide, "Quotas": "Template body size in an Amazon S3 object",
 * 1 MB), where `cdk deploy` puts every template.
 */
const ONE_MB = 1024 * 1024;

describe('the company export state machine', () => {
  it('fits the hard size quotas: its definition and each stack template at most 1 MB', () => {
    const { api, data } = featurelake();
    const definition = String(workflow().properties.DefinitionString);
    expect(Buffer.byteLength(definition)).toBeLessThanOrEqual(ONE_MB);
    for (const template of [api, data]) {
      expect(Buffer.byteLength(JSON.stringify(template.toJSON()))).toBeLessThanOrEqual(ONE_MB);
    }
    // What the quota is held against: all three texts are in the definition.
    const queries = Object.values(deployedDefinition().States).map(
      (state) => (state.Parameters?.QueryString as string | undefined) ?? '',
    );
    expect(queries).toEqual(expect.arrayContaining(Object.values(companyRollupTexts('trino'))));
  });

  it('deploys the very document the local stack runs: companyExportDefinition over the Trino rollup SQL', () => {
    expect(deployedDefinition()).toEqual(companyExportDefinition(companyRollupTexts('trino')));
  });

  it('fills exactly COMPANY_EXPORT_SUBSTITUTIONS: the export-steps Lambda, the Glue database, the export workgroup and its results bucket', () => {
    const { api, data, stacks, properties } = workflow();
    const substitutions = properties.DefinitionSubstitutions as Record<string, unknown>;
    const placeholders = new Set(
      [...String(properties.DefinitionString).matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]),
    );

    expect(Object.keys(substitutions).sort()).toEqual([...COMPANY_EXPORT_SUBSTITUTIONS].sort());
    expect([...placeholders].sort()).toEqual([...COMPANY_EXPORT_SUBSTITUTIONS].sort());
    expect(substitutions).toEqual({
      ExportStepsFunctionArn: { 'Fn::GetAtt': [logicalId(stacks.api.exportSteps.handler.function), 'Arn'] },
      GlueDatabase: importOf(data, { Ref: logicalId(stacks.data.lake.database) }),
      AthenaWorkGroup: resourceOf(data, stacks.data.companyExportWorkgroup.workgroup).Properties.Name,
      ResultsBucket: importOf(data, { Ref: logicalId(stacks.data.companyExportWorkgroup.resultsBucket) }),
    });
    expect(resourceOf(api, stacks.api.exportSteps.handler.function).Type).toBe('AWS::Lambda::Function');
  });

  it('runs the rollup in a workgroup that enforces the very result location the Athena task names', () => {
    // An enforced workgroup ignores a query's OutputLocation: unless the two
    // agree, results land where no grant (and no export step) expects them.
    const { data, stacks } = workflow();
    const query = deployedDefinition().States[COMPANY_EXPORT_STATES.query];
    const workgroup = resourceOf(data, stacks.data.companyExportWorkgroup.workgroup).Properties
      .WorkGroupConfiguration as Record<string, unknown>;

    expect(query?.Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
    expect(query?.Parameters).toMatchObject({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
      ResultConfiguration: { OutputLocation: 's3://${ResultsBucket}/company-exports/' },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
      WorkGroup: '${AthenaWorkGroup}',
    });
    expect(COMPANY_EXPORT_RESULTS_PREFIX).toBe('company-exports/');
    expect(workgroup).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      ResultConfiguration: {
        OutputLocation: s3Url(logicalId(stacks.data.companyExportWorkgroup.resultsBucket), '/company-exports/'),
      },
    });
  });

  it('prepares the inputs, runs the query, publishes the CSV, and on any failure records it and fails', () => {
    const { States, StartAt } = deployedDefinition();
    const S = COMPANY_EXPORT_STATES;

    // A manual export starts preparing at once; an automatic one first waits (bounded) for its fire's facts build.
    expect(StartAt).toBe('WaitForFactsIfAutomatic');
    expect(States.WaitForFactsIfAutomatic).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.delivery.facts_build', IsPresent: true, Next: S.checkFacts }],
      Default: S.prepare,
    });
    expect(States[S.checkFacts]).toMatchObject({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
      Resource: '${ExportStepsFunctionArn}',
      Parameters: { step: 'check-daily-facts', 'job.$': '$.delivery.facts_build' },
      // Waiting is for cost only: a failed check goes on to the export, never to the failure recorder.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.facts_wait', Next: S.prepare }],
      Next: 'FactsStillBuilding',
    });
    expect(States.FactsStillBuilding).toMatchObject({
      Choices: [{ Variable: '$.facts_wait.wait', BooleanEquals: true, Next: 'WaitForDailyFacts' }],
      Default: S.prepare,
    });
    expect(States.WaitForDailyFacts).toEqual({ Type: 'Wait', Seconds: 30, Next: S.checkFacts });
    // The prepare step says which text its inputs are for: facts (the default, in the one-date
    // shape for a job of one date, the weekly one for dates a week apart) or the full recompute.
    expect(States[S.prepare]?.Next).toBe('ReadFactsOrRaw');
    expect(States.ReadFactsOrRaw).toMatchObject({
      // Absent (a prepare result without them): the full recompute, never a failed Choice.
      Choices: [
        {
          And: [
            { Variable: '$.prepared.from_facts', IsPresent: true },
            { Variable: '$.prepared.from_facts', BooleanEquals: true },
            { Variable: '$.prepared.one_date', IsPresent: true },
            { Variable: '$.prepared.one_date', BooleanEquals: true },
          ],
          Next: S.queryOneDateFromFacts,
        },
        {
          And: [
            { Variable: '$.prepared.from_facts', IsPresent: true },
            { Variable: '$.prepared.from_facts', BooleanEquals: true },
            { Variable: '$.prepared.weekly', IsPresent: true },
            { Variable: '$.prepared.weekly', BooleanEquals: true },
          ],
          Next: S.queryWeeklyFromFacts,
        },
        {
          And: [
            { Variable: '$.prepared.from_facts', IsPresent: true },
            { Variable: '$.prepared.from_facts', BooleanEquals: true },
          ],
          Next: S.queryFromFacts,
        },
      ],
      Default: S.query,
    });
    expect(States[S.query]?.Next).toBe(S.publish);
    expect(States[S.queryFromFacts]?.Next).toBe(S.publish);
    expect(States[S.queryOneDateFromFacts]?.Next).toBe(S.publish);
    expect(States[S.queryWeeklyFromFacts]?.Next).toBe(S.publish);
    expect(States[S.fail]?.Next).toBe('ExportFailed');
    expect(States.ExportFailed?.Type).toBe('Fail');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
    for (const name of [S.prepare, S.publish, S.fail]) expect(States[name]?.Resource).toBe('${ExportStepsFunctionArn}');
  });

  it('ends a manual export after publishing, and delivers an automatic one (input with delivery) to the customer bucket first', () => {
    const { States } = deployedDefinition();
    const S = COMPANY_EXPORT_STATES;
    const choice = States[States[S.publish]?.Next ?? ''];

    expect(choice).toEqual({
      Type: 'Choice',
      Comment: expect.any(String),
      Choices: [{ Variable: '$.delivery', IsPresent: true, Next: S.deliver }],
      Default: 'ExportSucceeded',
    });
    expect(States[S.deliver]).toMatchObject({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
      Resource: '${ExportStepsFunctionArn}',
      Parameters: { step: 'deliver-company-export', 'job.$': '$' },
      Next: 'ExportSucceeded',
    });
    expect(States.ExportSucceeded).toEqual({ Type: 'Succeed' });
  });

  it('catches every error of every working Task into the failure recorder', () => {
    const working = tasks().filter(
      ([name]) => name !== COMPANY_EXPORT_STATES.fail && name !== COMPANY_EXPORT_STATES.checkFacts,
    );

    expect(working.map(([name]) => name).sort()).toEqual(
      [
        COMPANY_EXPORT_STATES.prepare,
        COMPANY_EXPORT_STATES.query,
        COMPANY_EXPORT_STATES.queryFromFacts,
        COMPANY_EXPORT_STATES.queryOneDateFromFacts,
        COMPANY_EXPORT_STATES.queryWeeklyFromFacts,
        COMPANY_EXPORT_STATES.publish,
        COMPANY_EXPORT_STATES.deliver,
      ].sort(),
    );
    for (const [, state] of working) {
      expect(state.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: COMPANY_EXPORT_STATES.fail },
      ]);
    }
    expect(deployedDefinition().States[COMPANY_EXPORT_STATES.fail]?.Catch).toBeUndefined();
  });

  it('retries working Tasks on transient service errors only, a bounded number of times, each with a timeout', () => {
    for (const [name, state] of tasks()) {
      expect(state.TimeoutSeconds, name).toBeGreaterThan(0);
      for (const retry of state.Retry ?? []) {
        expect(retry.MaxAttempts, name).toBeLessThanOrEqual(5);
        // Recording a failure is an idempotent write, so it may also be retried
        // after a failed attempt; a working step's real error must not be.
        const allowed =
          name === COMPANY_EXPORT_STATES.fail
            ? [...TRANSIENT_ERRORS, 'States.TaskFailed']
            : name === COMPANY_EXPORT_STATES.deliver
              ? // The customer's bucket throttling, failing with 5xx or out of reach: never its refusals.
                [...TRANSIENT_ERRORS, DELIVERY_ERRORS.retryable]
              : TRANSIENT_ERRORS;
        for (const error of retry.ErrorEquals) expect(allowed, `${name} retries ${error}`).toContain(error);
        expect(retry.ErrorEquals, name).not.toContain(DELIVERY_ERRORS.refused);
      }
    }
  });

  it('is valid Amazon States Language as deployed, and once its substitutions are filled in', () => {
    // Full checks (paths, ARNs): the validator accepts a whole `${Name}` Resource as a substitution.
    const deployed = aslValidator(structuredClone(deployedDefinition()), { checkArn: true, checkPaths: true });
    const filled = aslValidator(
      substitute(structuredClone(deployedDefinition()) as unknown as Record<string, unknown>, {
        ExportStepsFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:featurelake-export-steps',
        GlueDatabase: 'featurelake',
        AthenaWorkGroup: 'featurelake-company-exports',
        ResultsBucket: 'featurelake-results',
      }),
      { checkArn: true, checkPaths: true },
    );

    expect(deployed.errorsText()).toBe('');
    expect(deployed.isValid).toBe(true);
    expect(filled.errorsText()).toBe('');
    expect(filled.isValid).toBe(true);
  });

  it('is a STANDARD machine logging every transition without execution data, traced with X-Ray', () => {
    const { api, workflow: construct, properties } = workflow();

    expect(properties.StateMachineType).toBe('STANDARD');
    expect(properties.LoggingConfiguration).toEqual({
      Level: 'ALL',
      IncludeExecutionData: false,
      Destinations: [
        { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logicalId(construct.logGroup), 'Arn'] } } },
      ],
    });
    expect(properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(resourceOf(api, construct.logGroup).Properties.RetentionInDays).toEqual(expect.any(Number));
  });

  it('is output, so operators can find its executions', () => {
    const { api, workflow: construct } = workflow();

    expect(api.toJSON().Outputs.CompanyExportStateMachineArn.Value).toEqual({
      Ref: logicalId(construct.stateMachine),
    });
  });
});

describe('the company export state machine role', () => {
  const role = itGrantsTheExportWorkflowRoleOnlyItsOwn({
    name: 'company export',
    build: workflow,
    steps: { name: 'export-steps', of: (stacks) => stacks.api.exportSteps.handler },
    facts: (stacks) => [stacks.data.facts.queryPolicy],
    workgroup: {
      name: 'featurelake-company-exports',
      prefix: 'company-exports',
      of: (stacks) => stacks.data.companyExportWorkgroup,
    },
  });

  it('reads the export_inputs table: its Glue entries and the objects under export_inputs/ of the lake', () => {
    const { data, stacks } = role();
    const lake = { 'Fn::GetAtt': [logicalId(stacks.data.lake.bucket), 'Arn'] };
    const statements = managedStatementsOf(data, stacks.data.exportInputs.queryPolicy);
    const glueResources = JSON.stringify(statements[0]?.Resource);

    expect(statements[0]?.Action).toEqual([
      'glue:GetDatabase',
      'glue:GetTable',
      'glue:GetPartition',
      'glue:GetPartitions',
    ]);
    expect(glueResources).toContain(':catalog"');
    expect(glueResources).toContain(`{"Ref":"${logicalId(stacks.data.lake.database)}"}`);
    expect(glueResources).toContain(`{"Ref":"${logicalId(stacks.data.exportInputs.table)}"}`);
    expect(statements.slice(1)).toEqual([
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket'], Resource: lake },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [lake, '/export_inputs/*']] } },
    ]);
  });
});

describe('the export-steps Lambda', () => {
  function exportSteps() {
    const built = featurelake();
    const handler = built.stacks.api.exportSteps.handler;
    return {
      ...built,
      handler,
      fn: resourceOf(built.api, handler.function).Properties,
      inline: inlineStatementsOf(built.api, logicalId(handler.role)),
      managed: managedPolicyArnsOf(built.api, handler.role),
    };
  }

  it('knows the state table, the exports bucket, the lake bucket, the export secrets key and the daily facts state machine', () => {
    const { data, stacks, fn } = exportSteps();

    expect((fn.Environment as { Variables: object }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      [ENV.stateTable]: importOf(data, { Ref: logicalId(stacks.data.stateTable.table) }),
      [ENV.exportsBucket]: importOf(data, { Ref: logicalId(stacks.data.exports.bucket) }),
      [ENV.lakeBucket]: importOf(data, { Ref: logicalId(stacks.data.lake.bucket) }),
      [ENV.exportSecretsKeyArn]: importOf(data, {
        'Fn::GetAtt': [logicalId(stacks.data.exportSecretsKey.key), 'Arn'],
      }),
      [ENV.dailyFactsStateMachineArn]: { Ref: logicalId(stacks.api.dailyFactsWorkflow.stateMachine) },
      // Company exports read the daily facts unless an operator switches back (context rollupFromFacts=0).
      [ENV.rollupFromFacts]: '1',
    });
  });

  it('has the memory and the 15 minutes to stream a ~1 GB CSV, no less than its longest Task allows', () => {
    const { fn } = exportSteps();
    const longestTask = Math.max(
      ...tasks()
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
        .filter(([, state]) => state.Resource === '${ExportStepsFunctionArn}')
        .map(([, state]) => state.TimeoutSeconds ?? 0),
    );

    expect(fn.MemorySize).toBeGreaterThanOrEqual(1024);
    expect(fn.Timeout).toBe(900);
    expect(fn.Timeout).toBeGreaterThanOrEqual(longestTask);
  });

  it('is reached by no route: only the state machine invokes it', () => {
    const { api, stacks } = exportSteps();
    const target = JSON.stringify({ 'Fn::GetAtt': [logicalId(stacks.api.exportSteps.handler.function), 'Arn'] });
    const permissions = Object.values(resourcesOf(api, 'AWS::Lambda::Permission')).filter(
      ({ Properties }) => JSON.stringify(Properties.FunctionName) === target,
    );

    expect(permissions).toEqual([]);
  });

  it('uses the state table, opens automatic-export secrets, describes facts builds, and holds no inline grant beyond them and its logs', () => {
    const built = exportSteps();

    expect(built.inline).toEqual([
      ownLogsStatement(built.handler.logGroup),
      ...stateTableReadWriteStatements(built),
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: importOf(built.data, { 'Fn::GetAtt': [logicalId(built.stacks.data.exportSecretsKey.key), 'Arn'] }),
        Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'featurelake-automatic-export-secret' } },
      },
      // An automatic export asks whether its fire's facts build still runs (CheckDailyFacts).
      describeExecutionsStatement(built.stacks.api.dailyFactsWorkflow.stateMachine),
    ]);
  });

  it('writes export_inputs/ of the lake, reads company-exports/ results, writes and reads company-exports/ of the exports bucket: nothing more', () => {
    const { data, stacks, managed } = exportSteps();
    const lake = { 'Fn::GetAtt': [logicalId(stacks.data.lake.bucket), 'Arn'] };
    const results = { 'Fn::GetAtt': [logicalId(stacks.data.companyExportWorkgroup.resultsBucket), 'Arn'] };
    const exportsBucket = { 'Fn::GetAtt': [logicalId(stacks.data.exports.bucket), 'Arn'] };
    const resultsReadPolicy = stacks.data.companyExportWorkgroup.node.findChild('ResultsReadPolicy');

    expect(managed).toEqual([
      importOf(data, { Ref: logicalId(stacks.data.exportInputs.writePolicy) }),
      importOf(data, { Ref: logicalId(resultsReadPolicy) }),
      importOf(data, { Ref: logicalId(stacks.data.exports.companyExportsWritePolicy) }),
      // Delivery reads the published CSV back to upload it to the customer's bucket.
      importOf(data, { Ref: logicalId(stacks.data.exports.companyExportsReadPolicy) }),
    ]);
    expect(managedStatementsOf(data, stacks.data.exportInputs.writePolicy)).toEqual([
      { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [lake, '/export_inputs/*']] } },
    ]);
    expect(managedStatementsOf(data, resultsReadPolicy)).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [results, '/company-exports/*']] } },
    ]);
    expect(managedStatementsOf(data, stacks.data.exports.companyExportsWritePolicy)).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: { 'Fn::Join': ['', [exportsBucket, '/company-exports/*']] },
      },
    ]);
  });

  it('writes CSVs under the prefix it is granted (and that expires)', () => {
    expect(companyExportCsvKey('env_1', 'job-1').startsWith(COMPANY_EXPORTS_PREFIX)).toBe(true);
  });
});
