import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { substitute } from '../../lambdas/adapters/local/local-workflow-runner.ts';
import {
  EVENTS_EXPORT_RESULTS_PREFIX,
  EVENTS_EXPORTS_PREFIX,
  FILES_VISIBLE_DAYS,
  RUN_TIME_LIMIT_SECONDS,
} from '../../lambdas/contract/exports.ts';
import { ENV } from '../../lambdas/contract/settings.ts';
import { exportFileKey, exportFileName } from '../../lambdas/core/events-export/job.ts';
import { eventsExportSql } from '../../lambdas/core/events-export/sql.ts';
import { EVENTS_EXPORT_STEPS } from '../../lambdas/core/events-export/step-names.ts';
import {
  EVENTS_EXPORT_MAX_CONCURRENCY,
  EVENTS_EXPORT_STATES,
  eventsExportDefinition,
  eventsExportWorkflow,
} from '../../lambdas/workflows/events-export.ts';
import { UNCONFIGURED_EMAIL_FROM } from '../../lib/events-export-steps.ts';
import { ExportWorkflow } from '../../lib/export-workflow.ts';
import { EVENTS_EXPORT_FILE_RETENTION_DAYS } from '../../lib/exports-bucket.ts';
import { itGrantsTheExportWorkflowRoleOnlyItsOwn } from './export-workflow-role.ts';
import {
  actionsOf,
  adminTokenReadStatement,
  type BuiltFeaturelake,
  buildFeaturelake,
  describeExecutionsStatement,
  downloadLinkKeyReadStatement,
  featurelake,
  importOf,
  inlineStatementsOf,
  logicalId,
  managedPolicyArnsOf,
  managedStatementsOf,
  ownLogsStatement,
  regionalArn,
  resourceOf,
  resourcesOf,
  stateTableReadWriteStatements,
  TRANSIENT_ERRORS,
} from './featurelake-app.ts';

/** The placeholders its document names, as the deployed substitutions must fill them. */
const EVENTS_EXPORT_SUBSTITUTIONS = Object.values(eventsExportWorkflow().placeholders);

interface State {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  MaxConcurrency?: number;
  ItemProcessor?: { ProcessorConfig: { Mode: string }; StartAt: string; States: Record<string, State> };
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  Retry?: { ErrorEquals: string[]; MaxAttempts: number }[];
  Catch?: { ErrorEquals: string[]; ResultPath: string; Next: string }[];
  Next?: string;
  End?: boolean;
}

interface Definition {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
}

const S = EVENTS_EXPORT_STATES;
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
const STEPS_ARN = '${EventsExportStepsFunctionArn}';

function workflow(built: BuiltFeaturelake = featurelake()) {
  const construct = built.stacks.api.eventsExportWorkflow;
  const properties = resourceOf(built.api, construct.stateMachine).Properties;
  return { ...built, workflow: construct, properties };
}

function deployedDefinition(): Definition {
  const { properties } = workflow();
  // A plain string: every value that only AWS knows is a substitution, not a token inside the text.
  expect(typeof properties.DefinitionString).toBe('string');
  return JSON.parse(properties.DefinitionString as string) as Definition;
}

/** Every Task state, those inside the Map's iteration included. */
function tasks(): [string, State][] {
  const all = (states: Record<string, State>): [string, State][] =>
    Object.entries(states).flatMap(([name, state]) => [
      [name, state] as [string, State],
      ...(state.ItemProcessor ? all(state.ItemProcessor.States) : []),
    ]);
  return all(deployedDefinition().States).filter(([, state]) => state.Type === 'Task');
}

function weeks(): State {
  const map = deployedDefinition().States[S.weeks];
  if (!map) throw new Error(`no ${S.weeks} state`);
  return map;
}

describe('the events export state machine', () => {
  it('deploys the very document the local stack runs: eventsExportDefinition over the Trino partition SQL', () => {
    expect(deployedDefinition()).toEqual(eventsExportDefinition(eventsExportSql('trino')));
  });

  it('fills exactly EVENTS_EXPORT_SUBSTITUTIONS: the steps Lambda, the Glue database, the events export workgroup and its results bucket', () => {
    const { api, data, stacks, properties } = workflow();
    const substitutions = properties.DefinitionSubstitutions as Record<string, unknown>;
    const placeholders = new Set(
      [...String(properties.DefinitionString).matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]),
    );

    expect(Object.keys(substitutions).sort()).toEqual([...EVENTS_EXPORT_SUBSTITUTIONS].sort());
    expect([...placeholders].sort()).toEqual([...EVENTS_EXPORT_SUBSTITUTIONS].sort());
    expect(substitutions).toEqual({
      EventsExportStepsFunctionArn: {
        'Fn::GetAtt': [logicalId(stacks.api.eventsExportSteps.handler.function), 'Arn'],
      },
      GlueDatabase: importOf(data, { Ref: logicalId(stacks.data.lake.database) }),
      AthenaWorkGroup: 'featurelake-events-exports',
      ResultsBucket: importOf(data, { Ref: logicalId(stacks.data.eventsExportWorkgroup.resultsBucket) }),
    });
    expect(resourceOf(data, stacks.data.eventsExportWorkgroup.workgroup).Properties.Name).toBe(
      substitutions.AthenaWorkGroup,
    );
    expect(resourceOf(api, stacks.api.eventsExportSteps.handler.function).Type).toBe('AWS::Lambda::Function');
  });

  it('runs each week in a workgroup that enforces the very result location the Athena task names', () => {
    // An enforced workgroup ignores a query's OutputLocation: unless the two
    // agree, results land where no grant (and no write step) expects them.
    const { data, stacks } = workflow();
    const query = weeks().ItemProcessor?.States[S.query];
    const resultsBucket = logicalId(stacks.data.eventsExportWorkgroup.resultsBucket);

    expect(query?.Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
    expect(query?.Parameters).toMatchObject({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
      ResultConfiguration: { OutputLocation: 's3://${ResultsBucket}/events-exports/' },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
      WorkGroup: '${AthenaWorkGroup}',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions definition substitution, literally.
      QueryExecutionContext: { Database: '${GlueDatabase}' },
      // Every value reaches Athena as an execution parameter, never inside the SQL text.
      'ExecutionParameters.$': '$.partition.athena_params',
    });
    expect(EVENTS_EXPORT_RESULTS_PREFIX).toBe('events-exports/');
    expect(stacks.data.eventsExportWorkgroup.resultsPrefix).toBe(EVENTS_EXPORT_RESULTS_PREFIX);
    expect(
      resourceOf(data, stacks.data.eventsExportWorkgroup.workgroup).Properties.WorkGroupConfiguration,
    ).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      ResultConfiguration: {
        OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: resultsBucket }, '/events-exports/']] },
      },
    });
  });

  it('plans, maps over the weeks (query, then file; at most EVENTS_EXPORT_MAX_CONCURRENCY at once), and completes', () => {
    const { StartAt, States, TimeoutSeconds } = deployedDefinition();
    const map = weeks();

    expect(StartAt).toBe(S.plan);
    expect(TimeoutSeconds).toBe(RUN_TIME_LIMIT_SECONDS);
    expect(States[S.plan]).toMatchObject({
      Resource: STEPS_ARN,
      Parameters: { step: EVENTS_EXPORT_STEPS.plan, 'job.$': '$' },
      ResultPath: '$.plan',
      Next: S.weeks,
    });
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.partitions',
      ItemSelector: { 'job_id.$': '$.job_id', 'app_id.$': '$.app_id', 'partition.$': '$$.Map.Item.Value' },
      MaxConcurrency: EVENTS_EXPORT_MAX_CONCURRENCY,
      ResultPath: null,
      Next: S.complete,
    });
    expect(map.ItemProcessor?.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(map.ItemProcessor?.StartAt).toBe(S.query);
    expect(map.ItemProcessor?.States[S.query]?.Next).toBe(S.assemble);
    expect(map.ItemProcessor?.States[S.assemble]).toMatchObject({
      Resource: STEPS_ARN,
      Parameters: { step: EVENTS_EXPORT_STEPS.assembleWeek, 'job.$': '$' },
      End: true,
    });
    expect(States[S.complete]).toMatchObject({
      Resource: STEPS_ARN,
      Parameters: { step: EVENTS_EXPORT_STEPS.complete, 'job.$': '$' },
      End: true,
    });
  });

  it('catches every error of the plan, the Map (any failed week) and the completion into the failure recorder, which ends failed', () => {
    const { States } = deployedDefinition();
    const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: S.fail }];

    for (const name of [S.plan, S.weeks, S.complete]) expect(States[name]?.Catch, name).toEqual(catchAll);
    // Inside an iteration nothing catches: a failed week fails the Map, whose Catch records it.
    for (const [name, state] of Object.entries(weeks().ItemProcessor?.States ?? {})) {
      expect(state.Catch, name).toBeUndefined();
    }
    expect(States[S.fail]).toMatchObject({
      Resource: STEPS_ARN,
      Parameters: { step: EVENTS_EXPORT_STEPS.fail, 'job.$': '$' },
      Next: S.failed,
    });
    expect(States[S.fail]?.Catch).toBeUndefined();
    expect(States[S.failed]).toMatchObject({ Type: 'Fail', Error: 'EventsExportFailed' });
  });

  it('retries Tasks on transient service errors only, a bounded number of times, each with a timeout', () => {
    const names = tasks().map(([name]) => name);

    expect(names.sort()).toEqual([S.plan, S.query, S.assemble, S.complete, S.fail].sort());
    for (const [name, state] of tasks()) {
      expect(state.TimeoutSeconds, name).toBeGreaterThan(0);
      expect(state.Retry?.length, name).toBeGreaterThan(0);
      for (const retry of state.Retry ?? []) {
        expect(retry.MaxAttempts, name).toBeLessThanOrEqual(5);
        // Recording a failure is an idempotent write, so it may also be
        // retried after a failed attempt; a working step's real error must not be.
        const allowed = name === S.fail ? [...TRANSIENT_ERRORS, 'States.TaskFailed'] : TRANSIENT_ERRORS;
        for (const error of retry.ErrorEquals) expect(allowed, `${name} retries ${error}`).toContain(error);
      }
    }
  });

  it('is valid Amazon States Language as deployed, and once its substitutions are filled in', () => {
    const deployed = aslValidator(structuredClone(deployedDefinition()), { checkArn: true, checkPaths: true });
    const filled = aslValidator(
      substitute(structuredClone(deployedDefinition()) as unknown as Record<string, unknown>, {
        EventsExportStepsFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:featurelake-events-export-steps',
        GlueDatabase: 'featurelake',
        AthenaWorkGroup: 'featurelake-events-exports',
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

    expect(api.toJSON().Outputs.EventsExportStateMachineArn.Value).toEqual({ Ref: logicalId(construct.stateMachine) });
  });

  it('refuses a workgroup whose enforced results prefix the definition does not name', () => {
    const { stacks } = buildFeaturelake();

    expect(
      () =>
        new ExportWorkflow(stacks.api, 'InCompanyWorkgroup', {
          spec: eventsExportWorkflow(),
          steps: stacks.api.eventsExportSteps.handler.function,
          lake: stacks.data.lake,
          exportInputs: stacks.data.exportInputs,
          workgroup: stacks.data.companyExportWorkgroup,
        }),
    ).toThrow(/EventsExportWorkflow: .*resultsPrefix must be "events-exports\/".*got "company-exports\/"/);
  });
});

describe('the events export state machine role', () => {
  itGrantsTheExportWorkflowRoleOnlyItsOwn({
    name: 'events export',
    build: () => workflow(),
    steps: { name: 'events-export-steps', of: (stacks) => stacks.api.eventsExportSteps.handler },
    workgroup: {
      name: 'featurelake-events-exports',
      prefix: 'events-exports',
      of: (stacks) => stacks.data.eventsExportWorkgroup,
    },
  });
});

describe('the events-export-steps Lambda', () => {
  function steps(built: BuiltFeaturelake = featurelake()) {
    const handler = built.stacks.api.eventsExportSteps.handler;
    return {
      ...built,
      handler,
      fn: resourceOf(built.api, handler.function).Properties,
      inline: inlineStatementsOf(built.api, logicalId(handler.role)),
      managed: managedPolicyArnsOf(built.api, handler.role),
    };
  }

  it("knows the state table, the exports and lake buckets, the sender address and the API's URL", () => {
    const { api, data, stacks, fn } = steps(buildFeaturelake({ emailFrom: 'exports@example.com' }));

    expect((fn.Environment as { Variables: object }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      [ENV.stateTable]: importOf(data, { Ref: logicalId(stacks.data.stateTable.table) }),
      [ENV.exportsBucket]: importOf(data, { Ref: logicalId(stacks.data.exports.bucket) }),
      [ENV.lakeBucket]: importOf(data, { Ref: logicalId(stacks.data.lake.bucket) }),
      [ENV.emailFrom]: 'exports@example.com',
      // The links in the email point at this very API, signed with the download-link key.
      [ENV.publicApiUrl]: api.toJSON().Outputs.ApiUrl.Value,
      [ENV.downloadLinkSecretArn]: importOf(data, { Ref: logicalId(stacks.data.downloadLinkKey.secret) }),
    });
  });

  it('without emailFrom still starts (the variable is required) with a sender SES refuses, and may send no email', () => {
    const { fn, inline } = steps();
    const variables = (fn.Environment as { Variables: Record<string, unknown> }).Variables;

    expect(variables[ENV.emailFrom]).toBe(UNCONFIGURED_EMAIL_FROM);
    expect(UNCONFIGURED_EMAIL_FROM.endsWith('.invalid')).toBe(true);
    expect(inline.flatMap(actionsOf).filter((action) => action.startsWith('ses:'))).toEqual([]);
  });

  it('has the memory and the 15 minutes to assemble a week, no less than any Task that invokes it allows', () => {
    const { fn } = steps();
    const longestTask = Math.max(
      ...tasks()
        .filter(([, state]) => state.Resource === STEPS_ARN)
        .map(([, state]) => state.TimeoutSeconds ?? 0),
    );

    expect(fn.MemorySize).toBeGreaterThanOrEqual(1769);
    expect(fn.Timeout).toBe(900);
    expect(fn.Timeout).toBeGreaterThanOrEqual(longestTask);
  });

  it('is reached by no route: only the state machine invokes it', () => {
    const { api, stacks } = steps();
    const target = JSON.stringify({
      'Fn::GetAtt': [logicalId(stacks.api.eventsExportSteps.handler.function), 'Arn'],
    });
    const permissions = Object.values(resourcesOf(api, 'AWS::Lambda::Permission')).filter(
      ({ Properties }) => JSON.stringify(Properties.FunctionName) === target,
    );

    expect(permissions).toEqual([]);
  });

  it('uses the state table, and sends email only from emailFrom, through its address or domain identity', () => {
    const built = steps(buildFeaturelake({ emailFrom: 'exports@mail.example.com' }));
    const identity = (name: string) => regionalArn('ses', `identity/${name}`);

    expect(built.inline).toEqual([
      ownLogsStatement(built.handler.logGroup),
      ...stateTableReadWriteStatements(built),
      downloadLinkKeyReadStatement(built),
      {
        Effect: 'Allow',
        Action: 'ses:SendEmail',
        Resource: [identity('exports@mail.example.com'), identity('mail.example.com')],
        Condition: { StringEquals: { 'ses:FromAddress': 'exports@mail.example.com' } },
      },
    ]);
  });

  it('sends through an emailIdentity (a parent domain) when one is given', () => {
    const built = steps(buildFeaturelake({ emailFrom: 'exports@mail.example.com', emailIdentity: 'example.com' }));
    const ses = built.inline.find((statement) => actionsOf(statement).includes('ses:SendEmail'));

    expect(JSON.stringify(ses?.Resource)).toContain(':identity/example.com"');
    expect([ses?.Resource].flat()).toHaveLength(1);
    expect(ses?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'exports@mail.example.com' } });
  });

  it('refuses an emailFrom that is not a plain address, and an emailIdentity without one', () => {
    expect(() => buildFeaturelake({ emailFrom: 'Exports <exports@example.com>' })).toThrow(
      /emailFrom must be a plain address/,
    );
    expect(() => buildFeaturelake({ emailFrom: 'nobody' })).toThrow(/emailFrom must be a plain address/);
    expect(() => buildFeaturelake({ emailIdentity: 'example.com' })).toThrow(/emailIdentity .* needs emailFrom/);
  });

  it('writes export_inputs/ of the lake, reads events-exports/ results (lists and deletes unload/ there), writes events-exports/ of the exports bucket: nothing more', () => {
    const { data, stacks, managed } = steps();
    const lake = { 'Fn::GetAtt': [logicalId(stacks.data.lake.bucket), 'Arn'] };
    const results = { 'Fn::GetAtt': [logicalId(stacks.data.eventsExportWorkgroup.resultsBucket), 'Arn'] };
    const exportsBucket = { 'Fn::GetAtt': [logicalId(stacks.data.exports.bucket), 'Arn'] };
    const resultsReadPolicy = stacks.data.eventsExportWorkgroup.node.findChild('ResultsReadPolicy');

    expect(managed).toEqual([
      importOf(data, { Ref: logicalId(stacks.data.exportInputs.writePolicy) }),
      importOf(data, { Ref: logicalId(resultsReadPolicy) }),
      importOf(data, { Ref: logicalId(stacks.data.exports.eventsExportsWritePolicy) }),
      // No read of the files: the email's links point at the API's file route, which presigns them.
      importOf(data, { Ref: logicalId(stacks.api.eventsExportSteps.unloadCleanupPolicy) }),
    ]);
    // Assembling a week lists its UNLOAD files and deletes them after, under the unload prefix only.
    expect(managedStatementsOf(data, stacks.api.eventsExportSteps.unloadCleanupPolicy)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: results,
        Condition: { StringLike: { 's3:prefix': 'events-exports/unload/*' } },
      },
      {
        Effect: 'Allow',
        Action: 's3:DeleteObject',
        Resource: { 'Fn::Join': ['', [results, '/events-exports/unload/*']] },
      },
    ]);
    expect(managedStatementsOf(data, stacks.data.exportInputs.writePolicy)).toEqual([
      { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [lake, '/export_inputs/*']] } },
    ]);
    expect(managedStatementsOf(data, resultsReadPolicy)).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [results, '/events-exports/*']] } },
    ]);
    // lib-storage's Upload: PutObject covers Create/UploadPart/Complete; it aborts a failed upload.
    expect(managedStatementsOf(data, stacks.data.exports.eventsExportsWritePolicy)).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: { 'Fn::Join': ['', [exportsBucket, '/events-exports/*']] },
      },
    ]);
    expect(managedStatementsOf(data, stacks.data.exports.eventsExportsReadPolicy)).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [exportsBucket, '/events-exports/*']] } },
    ]);
  });

  it('writes files under the prefix it is granted (and that expires)', () => {
    const key = exportFileKey('env_1', 'job-1', exportFileName('2025-11-24', 'csv'));

    expect(EVENTS_EXPORTS_PREFIX).toBe('events-exports/');
    expect(key.startsWith(EVENTS_EXPORTS_PREFIX)).toBe(true);
  });
});

describe('the events exports API Lambda', () => {
  function eventsExports() {
    const built = featurelake();
    const handler = built.stacks.api.eventsExports.handler;
    return {
      ...built,
      handler,
      fn: resourceOf(built.api, handler.function).Properties,
      inline: inlineStatementsOf(built.api, logicalId(handler.role)),
      managed: managedPolicyArnsOf(built.api, handler.role),
    };
  }

  it("knows the state table, the exports bucket, the state machine it starts, the download-link key and the API's URL", () => {
    const { api, data, stacks, fn } = eventsExports();

    expect((fn.Environment as { Variables: object }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      [ENV.stateTable]: importOf(data, { Ref: logicalId(stacks.data.stateTable.table) }),
      [ENV.adminSecretArn]: importOf(data, { Ref: logicalId(stacks.data.adminToken.secret) }),
      [ENV.exportsBucket]: importOf(data, { Ref: logicalId(stacks.data.exports.bucket) }),
      [ENV.eventsExportStateMachineArn]: { Ref: logicalId(stacks.api.eventsExportWorkflow.stateMachine) },
      [ENV.publicApiUrl]: api.toJSON().Outputs.ApiUrl.Value,
      [ENV.downloadLinkSecretArn]: importOf(data, { Ref: logicalId(stacks.data.downloadLinkKey.secret) }),
    });
  });

  it('starts executions of the events export state machine only, reads only its executions, and uses the state table', () => {
    const built = eventsExports();

    expect(built.inline).toEqual([
      ownLogsStatement(built.handler.logGroup),
      ...stateTableReadWriteStatements(built),
      adminTokenReadStatement(built),
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: logicalId(built.stacks.api.eventsExportWorkflow.stateMachine) },
      },
      describeExecutionsStatement(built.stacks.api.eventsExportWorkflow.stateMachine),
      downloadLinkKeyReadStatement(built),
    ]);
  });

  it('reads events export files (a presigned URL is checked against the signer), and cannot write them', () => {
    const { data, stacks, managed } = eventsExports();

    expect(managed).toEqual([importOf(data, { Ref: logicalId(stacks.data.exports.eventsExportsReadPolicy) })]);
  });
});

describe('how long events export files live', () => {
  const DAY = 86_400_000;
  /** When S3 deletes an object created at `created` under an ExpirationInDays rule: rounded up to midnight UTC. */
  const s3Deletes = (created: number, days: number) => Math.ceil((created + days * DAY) / DAY) * DAY;

  /** Whether some file would vanish before 2 days after its job completed, for runs up to RUN_TIME_LIMIT_SECONDS. */
  function deletesEarly(days: number): boolean {
    const start = Date.parse('2025-12-01T00:00:00Z');
    const runMs = RUN_TIME_LIMIT_SECONDS * 1000;
    for (let created = start; created < start + DAY; created += 15 * 60_000) {
      // A file is written after the run starts; the job completes at most the run's limit after it starts.
      for (let completed = created; completed <= created + runMs; completed += 15 * 60_000) {
        if (s3Deletes(created, days) < completed + FILES_VISIBLE_DAYS * DAY) return true;
      }
    }
    return false;
  }

  it('expires them with the smallest whole-day rule that never deletes one before its 2 days are up', () => {
    expect(FILES_VISIBLE_DAYS).toBe(2);
    expect(EVENTS_EXPORT_FILE_RETENTION_DAYS).toBe(3);
    expect(deletesEarly(EVENTS_EXPORT_FILE_RETENTION_DAYS)).toBe(false);
    expect(deletesEarly(EVENTS_EXPORT_FILE_RETENTION_DAYS - 1)).toBe(true);
  });
});
