import { App, Duration, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { HANDLER_ENTRIES, type LambdaName } from '../../lambdas/contract/lambdas.ts';
import { type HandlerName, ROUTES } from '../../lambdas/contract/routes.ts';
import { ENV, LAMBDA_SETTINGS, type Setting } from '../../lambdas/contract/settings.ts';
import { STATE_TABLE } from '../../lambdas/contract/state-table.ts';
import { UNCONFIGURED_EMAIL_FROM } from '../../lib/events-export-steps.ts';
import { HandlerFunction } from '../../lib/handler-function.ts';
import { SDK_REQUEST_HEADERS } from '../support/sdk-cors.ts';
import {
  actionsOf,
  adminTokenReadStatement,
  describeExecutionsStatement,
  downloadLinkKeyReadStatement,
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
} from './featurelake-app.ts';

function handlers(): Record<HandlerName, HandlerFunction> {
  const { stacks } = featurelake();
  return {
    tracking: stacks.api.tracking.handler,
    admin: stacks.api.admin.handler,
    health: stacks.api.health,
    openapi: stacks.api.openApi,
    catalog: stacks.api.catalog.handler,
    'company-exports': stacks.api.companyExports.handler,
    'automatic-exports': stacks.api.automaticExports.handler,
    'events-exports': stacks.api.eventsExports.handler,
    'lake-insights': stacks.api.lakeInsights.handler,
  };
}

/** Every Lambda: the route handlers, the workflows' step Lambdas and the dispatcher, which no route reaches. */
function lambdas(): Record<LambdaName, HandlerFunction> {
  return {
    ...handlers(),
    'export-steps': featurelake().stacks.api.exportSteps.handler,
    'export-dispatcher': featurelake().stacks.api.exportSchedule.dispatcher,
    'events-export-steps': featurelake().stacks.api.eventsExportSteps.handler,
    'facts-steps': featurelake().stacks.api.factsSteps.handler,
  };
}

const ROUTED = [...new Set(ROUTES.map((route) => route.handler))];

describe('the HTTP API', () => {
  it('has exactly the routes of ROUTES, each sent to the Lambda of its handler', () => {
    const { api } = featurelake();
    const handlerByFunction = new Map(
      Object.entries(handlers()).map(([name, handler]) => [logicalId(handler.function), name]),
    );
    const integrations = resourcesOf(api, 'AWS::ApiGatewayV2::Integration');

    const routes = Object.values(resourcesOf(api, 'AWS::ApiGatewayV2::Route')).map(({ Properties }) => {
      const target = JSON.stringify(Properties.Target);
      const integrationId = Object.keys(integrations).find((id) => target.includes(`"Ref":"${id}"`));
      const integration = integrations[integrationId ?? '']?.Properties;
      const uri = integration?.IntegrationUri as { 'Fn::GetAtt': [string, string] };
      return {
        routeKey: Properties.RouteKey,
        handler: handlerByFunction.get(uri['Fn::GetAtt'][0]),
        type: integration?.IntegrationType,
        payload: integration?.PayloadFormatVersion,
      };
    });

    const byKey = (a: { routeKey: unknown }, b: { routeKey: unknown }) =>
      String(a.routeKey).localeCompare(String(b.routeKey));
    expect(routes.sort(byKey)).toEqual(
      ROUTES.map((route) => ({
        routeKey: `${route.method} ${route.path}`,
        handler: route.handler,
        type: 'AWS_PROXY',
        payload: '2.0',
      })).sort(byKey),
    );
  });

  it('sends what Bucket’s and Reflag’s SDKs call to the tracking Lambda (DESIGN "Tracking: SDK wire compatibility")', () => {
    const { api } = featurelake();
    const tracking = { 'Fn::GetAtt': [logicalId(handlers().tracking.function), 'Arn'] };
    const integrations = resourcesOf(api, 'AWS::ApiGatewayV2::Integration');
    const trackingIntegration = Object.keys(integrations).find(
      (id) => JSON.stringify(integrations[id]?.Properties.IntegrationUri) === JSON.stringify(tracking),
    );
    const keys = Object.values(resourcesOf(api, 'AWS::ApiGatewayV2::Route'))
      .filter(({ Properties }) => JSON.stringify(Properties.Target).includes(`"Ref":"${trackingIntegration}"`))
      .map(({ Properties }) => Properties.RouteKey);
    expect(keys).toEqual(
      expect.arrayContaining([
        'POST /{trackingKey}/{method}',
        ...['user', 'company', 'event', 'events', 'feedback', 'bulk'].map((method) => `POST /${method}`),
        'POST /features/events',
        'POST /feedback/prompt-events',
        'POST /feedback/prompting-init',
        'POST /flags/opt-in',
        'GET /features',
        'GET /features/evaluated',
        'GET /features/enabled',
        'GET /sse/client',
      ]),
    );
  });

  it('lets API Gateway invoke each handler Lambda', () => {
    const { api } = featurelake();
    const invoked = Object.values(resourcesOf(api, 'AWS::Lambda::Permission'))
      .filter(({ Properties }) => Properties.Principal === 'apigateway.amazonaws.com')
      .map(({ Properties }) => JSON.stringify(Properties.FunctionName));

    for (const name of new Set(ROUTES.map((route) => route.handler))) {
      const fn = { 'Fn::GetAtt': [logicalId(handlers()[name].function), 'Arn'] };
      expect(invoked).toContain(JSON.stringify(fn));
    }
  });

  it('serves an auto-deployed $default stage with throttling and access logs', () => {
    const { api, stacks } = featurelake();
    const stage = resourceOf(api, stacks.api.api.stage).Properties;

    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) },
      AccessLogSettings: { DestinationArn: expect.anything(), Format: expect.stringContaining('$context.routeKey') },
    });
    expect(stage.AccessLogSettings).not.toMatchObject({ Format: expect.stringContaining('authorization') });
  });

  it("answers browsers' preflights itself: any origin, the SDKs' headers, every method of ROUTES, no credentials", () => {
    const { api, stacks } = featurelake();
    const cors = resourceOf(api, stacks.api.api.httpApi).Properties.CorsConfiguration as Record<string, unknown>;

    expect(cors.AllowOrigins).toEqual(['*']);
    // A browser's Access-Control-Request-Headers are lower case; API Gateway compares them as such.
    const allowedHeaders = (cors.AllowHeaders as string[]).map((name) => name.toLowerCase());
    expect(allowedHeaders).toEqual(expect.arrayContaining(SDK_REQUEST_HEADERS));
    expect(cors.AllowMethods).toEqual(expect.arrayContaining([...new Set(ROUTES.map((route) => route.method))]));
    // Credentials mode would let a browser attach cookies on its own; featurelake has none to attach.
    expect(cors.AllowCredentials).not.toBe(true);
    expect(cors.MaxAge).toBeGreaterThan(0);
  });

  it('outputs its URL', () => {
    const { api, stacks } = featurelake();

    const url = JSON.stringify(api.toJSON().Outputs.ApiUrl.Value);

    expect(url).toContain(`"https://",{"Ref":"${logicalId(stacks.api.api.httpApi)}"},".execute-api.eu-west-1."`);
    expect(url.endsWith(`"/"]]}`)).toBe(true);
  });
});

describe('the handler Lambdas', () => {
  it('are one per handler of ROUTES, plus the step Lambdas and the dispatcher', () => {
    expect(Object.keys(handlers()).sort()).toEqual([...ROUTED].sort());
  });

  it.each(Object.keys(HANDLER_ENTRIES) as LambdaName[])(
    '%s runs an ESM bundle on Node.js 22 or newer, arm64, logging JSON to its own log group',
    (name) => {
      const { api } = featurelake();
      const handler = lambdas()[name];
      const fn = resourceOf(api, handler.function).Properties;

      expect(fn.Runtime).toMatch(/^nodejs\d+\.x$/);
      expect(Number(String(fn.Runtime).match(/\d+/)?.[0])).toBeGreaterThanOrEqual(22);
      expect(fn.Architectures).toEqual(['arm64']);
      // NodejsFunction names an ESM bundle index.mjs; the handler is its `handler` export.
      expect(fn.Handler).toBe('index.handler');
      expect(fn.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: { Ref: logicalId(handler.logGroup) } });
      expect(resourceOf(api, handler.logGroup).Properties.RetentionInDays).toEqual(expect.any(Number));
    },
  );

  it.each(ROUTED)('%s answers inside API Gateway’s 30 seconds', (name) => {
    const { api } = featurelake();

    expect(resourceOf(api, handlers()[name].function).Properties.Timeout).toBeLessThan(30);
  });

  it('refuses a routed handler a timeout API Gateway would not wait for, and any Lambda more than 15 minutes', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Scratch');

    expect(
      () =>
        new HandlerFunction(stack, 'Catalog', {
          handler: 'catalog',
          settings: { stateTable: 'state', adminSecretArn: 'admin' },
          timeout: Duration.seconds(60),
        }),
    ).toThrow(/catalog.*at most 29 seconds/);
    expect(
      () =>
        new HandlerFunction(stack, 'ExportSteps', {
          handler: 'export-steps',
          settings: {
            stateTable: 'state',
            exportsBucket: 'exports',
            lakeBucket: 'lake',
            exportSecretsKeyArn: 'key',
            dailyFactsStateMachineArn: 'arn',
            rollupFromFacts: '1',
          },
          timeout: Duration.minutes(16),
        }),
    ).toThrow(/export-steps.*at most 900 seconds/);
  });

  it('refuses a Lambda settings missing from its list in LAMBDA_SETTINGS, or not in it, naming them and the table', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Scratch');
    const table =
      /LAMBDA_SETTINGS\['company-exports'\] in lambdas\/contract\/settings\.ts \(stateTable, adminSecretArn, exportsBucket, companyExportStateMachineArn, publicApiUrl, downloadLinkSecretArn\)/;

    const missing = () =>
      new HandlerFunction(stack, 'Missing', {
        handler: 'company-exports',
        // @ts-expect-error: the state machine ARN is missing
        settings: {
          stateTable: 'state',
          adminSecretArn: 'admin',
          exportsBucket: 'exports',
          publicApiUrl: 'u',
          downloadLinkSecretArn: 'k',
        },
      });
    expect(missing).toThrow(new RegExp(`${table.source}; missing companyExportStateMachineArn$`));

    const extra = () =>
      new HandlerFunction(stack, 'Extra', {
        handler: 'company-exports',
        settings: {
          stateTable: 'state',
          adminSecretArn: 'admin',
          exportsBucket: 'exports',
          companyExportStateMachineArn: 'arn',
          publicApiUrl: 'u',
          downloadLinkSecretArn: 'k',
          // @ts-expect-error: not a setting of this Lambda
          lakeBucket: 'lake',
        },
      });
    expect(extra).toThrow(
      new RegExp(`${table.source}; not in its list lakeBucket \\(if the handler reads it, add it to the table\\)$`),
    );
  });

  /** What each setting must hold, wherever a Lambda has it: the resource it names. */
  function settingValues(): Record<Setting, unknown> {
    const { api, data, stacks } = featurelake();
    return {
      stateTable: importOf(data, { Ref: logicalId(stacks.data.stateTable.table) }),
      eventStream: importOf(data, { Ref: logicalId(stacks.data.eventStream.deliveryStream) }),
      adminSecretArn: importOf(data, { Ref: logicalId(stacks.data.adminToken.secret) }),
      athenaWorkgroup: resourceOf(data, stacks.data.workgroup.workgroup).Properties.Name,
      glueDatabase: importOf(data, { Ref: logicalId(stacks.data.lake.database) }),
      lakeBucket: importOf(data, { Ref: logicalId(stacks.data.lake.bucket) }),
      exportsBucket: importOf(data, { Ref: logicalId(stacks.data.exports.bucket) }),
      companyExportStateMachineArn: { Ref: logicalId(stacks.api.companyExportWorkflow.stateMachine) },
      eventsExportStateMachineArn: { Ref: logicalId(stacks.api.eventsExportWorkflow.stateMachine) },
      dailyFactsStateMachineArn: { Ref: logicalId(stacks.api.dailyFactsWorkflow.stateMachine) },
      dailyFactsWorkgroup: resourceOf(data, stacks.data.dailyFactsWorkgroup.workgroup).Properties.Name,
      // No emailFrom context: a sender SES refuses (events-export.test.ts covers both).
      emailFrom: UNCONFIGURED_EMAIL_FROM,
      // The download links (API answers and the events export email) point at this very API.
      publicApiUrl: api.toJSON().Outputs.ApiUrl.Value,
      downloadLinkSecretArn: importOf(data, { Ref: logicalId(stacks.data.downloadLinkKey.secret) }),
      exportSecretsKeyArn: importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.exportSecretsKey.key), 'Arn'] }),
      // Company exports read the daily facts unless an operator switches back to the full recompute.
      rollupFromFacts: '1',
    };
  }

  it.each(Object.keys(HANDLER_ENTRIES) as LambdaName[])(
    '%s gets exactly the settings of its LAMBDA_SETTINGS list, by name',
    (name) => {
      const { api } = featurelake();
      const values = settingValues();
      const fn = resourceOf(api, lambdas()[name].function).Properties;
      const settings: readonly Setting[] = LAMBDA_SETTINGS[name];

      expect((fn.Environment as { Variables: object }).Variables).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        ...Object.fromEntries(settings.map((setting) => [ENV[setting], values[setting]])),
      });
    },
  );
});

describe('the tracking Lambda role', () => {
  function trackingRole() {
    const { api } = featurelake();
    const roleId = logicalId(handlers().tracking.role);
    return { role: resourceOf(api, handlers().tracking.role).Properties, statements: inlineStatementsOf(api, roleId) };
  }

  it('may put records on this delivery stream only, and query the two key indexes only (no table item)', () => {
    const { data, stacks } = featurelake();
    const { role, statements } = trackingRole();
    const tableArn = importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.stateTable.table), 'Arn'] });

    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
      Resource: importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.eventStream.deliveryStream), 'Arn'] }),
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: [
        { 'Fn::Join': ['', [tableArn, `/index/${STATE_TABLE.byTrackingKey.indexName}`]] },
        { 'Fn::Join': ['', [tableArn, `/index/${STATE_TABLE.byApiKeyHash.indexName}`]] },
      ],
    });
  });

  it('holds nothing else: logs, the table key through DynamoDB, no write, no wildcard resource', () => {
    const { data, stacks } = featurelake();
    const { statements } = trackingRole();
    const actions = statements.flatMap(actionsOf).sort();

    expect(actions).toEqual(
      [
        'dynamodb:Query',
        'firehose:PutRecord',
        'firehose:PutRecordBatch',
        'kms:Decrypt',
        'kms:DescribeKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    expect(statements.find((statement) => actionsOf(statement).includes('kms:Decrypt'))).toMatchObject({
      Resource: importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.stateTable.encryptionKey), 'Arn'] }),
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
    });
    expect(statements.find((statement) => actionsOf(statement).includes('logs:PutLogEvents'))?.Resource).toEqual({
      'Fn::GetAtt': [logicalId(handlers().tracking.logGroup), 'Arn'],
    });
    expect(JSON.stringify(statements.map((statement) => statement.Resource))).not.toContain('*');
  });
});

describe('the admin Lambda role', () => {
  function adminGrants() {
    const { api, data, stacks } = featurelake();
    const roleId = logicalId(handlers().admin.role);
    const managed = (resourceOf(api, handlers().admin.role).Properties.ManagedPolicyArns ?? []) as unknown[];
    return { api, data, stacks, inline: inlineStatementsOf(api, roleId), managed };
  }

  it('reads and writes the state table (and its indexes) and reads the admin secret', () => {
    const { data, stacks, inline } = adminGrants();
    const tableArn = importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.stateTable.table), 'Arn'] });
    const dynamo = inline.find((statement) => actionsOf(statement).includes('dynamodb:PutItem'));

    expect(actionsOf(dynamo ?? { Effect: '', Action: [], Resource: null })).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
    );
    expect(dynamo?.Resource).toEqual([
      tableArn,
      { 'Fn::Join': ['', [tableArn, `/index/${STATE_TABLE.byTrackingKey.indexName}`]] },
      { 'Fn::Join': ['', [tableArn, `/index/${STATE_TABLE.byApiKeyHash.indexName}`]] },
    ]);
    expect(inline).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: importOf(data, { Ref: logicalId(stacks.data.adminToken.secret) }),
    });
  });

  it('queries through Athena with the lake and workgroup policies (and nothing runs on *)', () => {
    const { data, stacks, inline, managed } = adminGrants();
    const workgroupPolicy = resourceOf(data, stacks.data.workgroup.queryExecutionPolicy).Properties;
    const lakePolicy = resourceOf(data, stacks.data.lake.queryPolicy).Properties;
    const statementsOf = (policy: Record<string, unknown>) =>
      (policy.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement;

    // Its own workgroup and the events table: not the company export workgroup, its results or export_inputs.
    expect(managed).toEqual([
      importOf(data, { Ref: logicalId(stacks.data.workgroup.queryExecutionPolicy) }),
      importOf(data, { Ref: logicalId(stacks.data.lake.queryPolicy) }),
    ]);
    expect(statementsOf(workgroupPolicy)[0]).toMatchObject({
      Action: expect.arrayContaining(['athena:StartQueryExecution', 'athena:GetQueryResults']),
      Resource: {
        'Fn::Join': ['', expect.arrayContaining([`:workgroup/${stacks.data.workgroup.workgroupName}`])],
      },
    });
    expect(statementsOf(lakePolicy).flatMap((statement) => [statement.Action].flat())).toEqual([
      'glue:GetDatabase',
      'glue:GetTable',
      'glue:GetPartitions',
      's3:GetBucketLocation',
      's3:ListBucket',
      's3:GetObject',
    ]);
    const resources = [...inline, ...statementsOf(workgroupPolicy), ...statementsOf(lakePolicy)].map(
      (statement) => statement.Resource,
    );
    expect(resources).not.toContain('*');
  });
});

describe('the health Lambda role', () => {
  it('may only write its own logs', () => {
    const { api } = featurelake();
    const statements = inlineStatementsOf(api, logicalId(handlers().health.role));

    expect(statements.flatMap(actionsOf).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(resourceOf(api, handlers().health.role).Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('the OpenAPI Lambda role', () => {
  it('may only write its own logs: the document is built from its own code', () => {
    const { api } = featurelake();
    const { role, logGroup } = handlers().openapi;

    expect(inlineStatementsOf(api, logicalId(role))).toEqual([ownLogsStatement(logGroup)]);
    expect(resourceOf(api, role).Properties.ManagedPolicyArns).toBeUndefined();
    expect(
      (resourceOf(api, handlers().openapi.function).Properties.Environment as { Variables: unknown }).Variables,
    ).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
    });
  });
});

describe('the catalog Lambda role', () => {
  it('reads and writes the state table, reads the admin token, and holds nothing else', () => {
    const built = featurelake();
    const { catalog } = handlers();

    expect(inlineStatementsOf(built.api, logicalId(catalog.role))).toEqual([
      ownLogsStatement(catalog.logGroup),
      ...stateTableReadWriteStatements(built),
      adminTokenReadStatement(built),
    ]);
    expect(managedPolicyArnsOf(built.api, catalog.role)).toEqual([]);
  });
});

describe('the company exports Lambda role', () => {
  function companyExports() {
    const built = featurelake();
    const handler = handlers()['company-exports'];
    return {
      ...built,
      handler,
      inline: inlineStatementsOf(built.api, logicalId(handler.role)),
      managed: managedPolicyArnsOf(built.api, handler.role),
    };
  }

  it('starts executions of the company export state machine only, reads only its executions, and uses the state table', () => {
    const built = companyExports();
    const { api, stacks, handler, inline } = built;

    expect(inline).toEqual([
      ownLogsStatement(handler.logGroup),
      ...stateTableReadWriteStatements(built),
      adminTokenReadStatement(built),
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: logicalId(stacks.api.companyExportWorkflow.stateMachine) },
      },
      describeExecutionsStatement(stacks.api.companyExportWorkflow.stateMachine),
      downloadLinkKeyReadStatement(built),
    ]);
    expect(resourceOf(api, stacks.api.companyExportWorkflow.stateMachine).Type).toBe(
      'AWS::StepFunctions::StateMachine',
    );
  });

  it('reads company export files (a presigned URL is checked against the signer), and cannot write them', () => {
    const { data, stacks, managed } = companyExports();
    const exportsBucket = logicalId(stacks.data.exports.bucket);

    expect(managed).toEqual([importOf(data, { Ref: logicalId(stacks.data.exports.companyExportsReadPolicy) })]);
    expect(managedStatementsOf(data, stacks.data.exports.companyExportsReadPolicy)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [exportsBucket, 'Arn'] }, '/company-exports/*']] },
      },
    ]);
  });
});

describe('the lake insights Lambda role (console: recent events, unassociated tracks, STARS funnel)', () => {
  it('uses the state table and the admin token, queries in the admin workgroup over the lake, the daily facts and export_inputs, and writes only inputs files', () => {
    const built = featurelake();
    const { data, stacks } = built;
    const insights = handlers()['lake-insights'];

    expect(inlineStatementsOf(built.api, logicalId(insights.role))).toEqual([
      ownLogsStatement(insights.logGroup),
      ...stateTableReadWriteStatements(built),
      adminTokenReadStatement(built),
    ]);
    // No workflow, no exports bucket, no results of another workgroup: only what its synchronous queries need.
    expect(managedPolicyArnsOf(built.api, insights.role)).toEqual([
      importOf(data, { Ref: logicalId(stacks.data.workgroup.queryExecutionPolicy) }),
      importOf(data, { Ref: logicalId(stacks.data.lake.queryPolicy) }),
      importOf(data, { Ref: logicalId(stacks.data.exportInputs.queryPolicy) }),
      importOf(data, { Ref: logicalId(stacks.data.exportInputs.writePolicy) }),
      // The STARS funnel reads the facts its manifest names, as a company export does.
      importOf(data, { Ref: logicalId(stacks.data.facts.queryPolicy) }),
    ]);
    // The funnel follows the exports' switch (rollupFromFacts, on by default).
    const { Variables } = resourceOf(built.api, insights.function).Properties.Environment as {
      Variables: Record<string, string>;
    };
    expect(Variables.FEATURELAKE_ROLLUP_FROM_FACTS).toBe('1');
    // API Gateway gives up after 30 s: the Lambda stops its query before that.
    expect(resourceOf(built.api, insights.function).Properties.Timeout).toBe(29);
  });
});
