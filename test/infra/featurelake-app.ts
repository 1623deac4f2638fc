import { join } from 'node:path';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { exportWorkflowSpecs } from '../../lambdas/workflows/specs.ts';
import { addFeaturelakeStacks, type FeaturelakeStacks } from '../../lib/featurelake.ts';
import type { QueryWorkgroup } from '../../lib/query-workgroup.ts';

/**
 * A stand-in for the built console (test/infra/console.test.ts deploys the real build):
 * the stacks only zip the directory as an asset.
 */
export const CONSOLE_FIXTURE = join(import.meta.dirname, 'fixtures', 'console');

export interface BuiltFeaturelake {
  readonly app: App;
  readonly stacks: FeaturelakeStacks;
  readonly data: Template;
  readonly api: Template;
}

/**
 * The app as `cdk synth` builds it (bin/app.ts: the same workflow specs), minus esbuild bundling and CloudFormation
 * schema validation (both slow; one test in nag.test.ts turns validation on).
 */
export function buildFeaturelake(context: Record<string, unknown> = {}): BuiltFeaturelake {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], region: 'eu-west-1', ...context },
    builtinCloudFormationValidation: false,
  });
  const stacks = addFeaturelakeStacks(app, exportWorkflowSpecs(), CONSOLE_FIXTURE);
  return { app, stacks, data: Template.fromStack(stacks.data), api: Template.fromStack(stacks.api) };
}

let shared: BuiltFeaturelake | undefined;

/** One default build per worker, shared by the read-only assertions. */
export function featurelake(): BuiltFeaturelake {
  shared ??= buildFeaturelake();
  return shared;
}

/** The logical id of a construct's CloudFormation resource (or of the resource itself). */
export function logicalId(construct: IConstruct): string {
  const resource = (construct.node.defaultChild ?? construct) as CfnResource;
  const stack = Stack.of(resource);
  return stack.resolve(stack.getLogicalId(resource)) as string;
}

type Json = Record<string, unknown>;

/**
 * How the API stack refers to a data stack value: `Fn::ImportValue` of the
 * export whose value is `value` (`{ Ref: … }` or `{ 'Fn::GetAtt': … }`).
 */
export function importOf(data: Template, value: unknown): Json {
  const outputs = (data.toJSON().Outputs ?? {}) as Record<string, { Value: unknown; Export?: { Name: string } }>;
  const match = Object.values(outputs).find(
    (output) => output.Export !== undefined && JSON.stringify(output.Value) === JSON.stringify(value),
  );
  if (!match?.Export) throw new Error(`the data stack exports no ${JSON.stringify(value)}`);
  return { 'Fn::ImportValue': match.Export.Name };
}

/** Resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Json }> {
  return template.findResources(type) as Record<string, { Properties: Json }>;
}

/** The single resource of a construct, by its logical id. */
export function resourceOf(template: Template, construct: IConstruct): { Type: string; Properties: Json } {
  const id = logicalId(construct);
  const resource = (template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>)[id];
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return resource;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of every inline policy attached to a role (by the role's logical id). */
export function inlineStatementsOf(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties.Roles as unknown[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The ARNs (as the template writes them) of the managed policies attached to a role. */
export function managedPolicyArnsOf(template: Template, role: IConstruct): unknown[] {
  return (resourceOf(template, role).Properties.ManagedPolicyArns ?? []) as unknown[];
}

/** The statements of a managed policy (by its construct). */
export function managedStatementsOf(template: Template, policy: IConstruct): Statement[] {
  return (resourceOf(template, policy).Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

/**
 * What StateTable.grantReadWrite gives, as the API stack writes it: item reads
 * and writes on the table and its two indexes, and the table key through
 * DynamoDB only.
 */
export function stateTableReadWriteStatements(built: BuiltFeaturelake): Statement[] {
  const { data, stacks } = built;
  const tableArn = importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.stateTable.table), 'Arn'] });
  return [
    {
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DescribeTable',
      ],
      Resource: [
        tableArn,
        { 'Fn::Join': ['', [tableArn, '/index/by-tracking-key']] },
        { 'Fn::Join': ['', [tableArn, '/index/by-api-key-hash']] },
      ],
    },
    {
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: importOf(data, { 'Fn::GetAtt': [logicalId(stacks.data.stateTable.encryptionKey), 'Arn'] }),
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
    },
  ];
}

/** What a HandlerFunction's role always holds: writing its own log group. */
export function ownLogsStatement(logGroup: IConstruct): Statement {
  return {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: { 'Fn::GetAtt': [logicalId(logGroup), 'Arn'] },
  };
}

/** Errors where trying again can help: the service was busy or briefly failing, never a wrong request. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Athena.TooManyRequestsException',
  'Athena.InternalServerException',
];

/**
 * What a StateMachine L2 with logging and tracing grants on `*`: CloudWatch
 * Logs vended-log delivery and X-Ray, which accept no resource-level permission.
 */
export const LOG_DELIVERY_AND_XRAY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];

/** An ARN in the test app's region and account, as the template writes it. */
export function regionalArn(service: string, resource: string): Json {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, `:${service}:eu-west-1:`, { Ref: 'AWS::AccountId' }, `:${resource}`],
    ],
  };
}

/**
 * states:DescribeExecution on one state machine's executions (`execution:<its name>:*`),
 * as the export APIs hold it to settle jobs whose execution ended without a word.
 */
export function describeExecutionsStatement(stateMachine: IConstruct): Statement {
  return {
    Effect: 'Allow',
    Action: 'states:DescribeExecution',
    Resource: {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:eu-west-1:',
          { Ref: 'AWS::AccountId' },
          ':execution:',
          { 'Fn::GetAtt': [logicalId(stateMachine), 'Name'] },
          ':*',
        ],
      ],
    },
  };
}

/** athena:GetDataCatalog on the one catalog the export queries use. */
export const ATHENA_DATA_CATALOG_STATEMENT: Statement = {
  Effect: 'Allow',
  Action: 'athena:GetDataCatalog',
  Resource: regionalArn('athena', 'datacatalog/AwsDataCatalog'),
};

/**
 * A QueryWorkgroup's query execution policy: queries in that workgroup only,
 * and reads and writes of its results prefix (Athena writes with the caller's
 * credentials).
 */
export function queryExecutionStatements(workgroup: QueryWorkgroup): Statement[] {
  const resultsBucket = { 'Fn::GetAtt': [logicalId(workgroup.resultsBucket), 'Arn'] };
  return [
    {
      Effect: 'Allow',
      Action: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      Resource: regionalArn('athena', `workgroup/${workgroup.workgroupName}`),
    },
    {
      Effect: 'Allow',
      Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      Resource: resultsBucket,
    },
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: { 'Fn::Join': ['', [resultsBucket, `/${workgroup.resultsPrefix}*`]] },
    },
  ];
}

/** The inline and managed grants of a state machine's role. */
export function stateMachineGrants(built: BuiltFeaturelake, stateMachine: StateMachine) {
  return {
    inline: inlineStatementsOf(built.api, logicalId(stateMachine.role)),
    managed: managedPolicyArnsOf(built.api, stateMachine.role),
  };
}

/** What DownloadLinkKey.grantRead gives, as the API stack writes it: read the one secret. */
export function downloadLinkKeyReadStatement(built: BuiltFeaturelake): Statement {
  const { data, stacks } = built;
  return {
    Effect: 'Allow',
    Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    Resource: importOf(data, { Ref: logicalId(stacks.data.downloadLinkKey.secret) }),
  };
}

/**
 * What AdminToken.grantRead gives, as the API stack writes it: read the one secret
 * (every Lambda with `Token` routes: the admin token also opens them, acting in one environment).
 */
export function adminTokenReadStatement(built: BuiltFeaturelake): Statement {
  const { data, stacks } = built;
  return {
    Effect: 'Allow',
    Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    Resource: importOf(data, { Ref: logicalId(stacks.data.adminToken.secret) }),
  };
}
