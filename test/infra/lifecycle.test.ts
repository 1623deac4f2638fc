import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { VENDED_LOGS_PREFIX } from '../../lib/vended-log-group.ts';
import { buildFeaturelake, logicalId, resourcesOf } from './featurelake-app.ts';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Json;
  DeletionPolicy?: string;
}

/**
 * Where each resource type we deploy keeps its physical name (null: it has none
 * that must be unique, or the name is scoped to a parent that goes with it). A
 * type missing here falls back to any top-level `…Name` property that is set.
 */
const PHYSICAL_NAME: Readonly<Record<string, readonly string[] | null>> = {
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::Glue::Database': ['DatabaseInput', 'Name'],
  'AWS::Glue::Table': ['TableInput', 'Name'],
  'AWS::Athena::WorkGroup': ['Name'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::Logs::LogStream': ['LogStreamName'],
  'AWS::KMS::Alias': ['AliasName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::DynamoDB::GlobalTable': ['TableName'],
  'AWS::DynamoDB::Table': ['TableName'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::IAM::ManagedPolicy': ['ManagedPolicyName'],
  'AWS::StepFunctions::StateMachine': ['StateMachineName'],
  'AWS::Scheduler::Schedule': ['Name'],
  'AWS::KinesisFirehose::DeliveryStream': ['DeliveryStreamName'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
  'AWS::ApiGatewayV2::Api': ['Name'],
  // Names that refer to other resources, or are unique only within their parent.
  'AWS::IAM::Policy': null,
  'AWS::Lambda::Permission': null,
  'AWS::ApiGatewayV2::Stage': null,
  'AWS::CDK::Metadata': null,
};

/** The resource's physical name as the template sets it, or undefined when CloudFormation generates one. */
function physicalName(resource: Resource): unknown {
  const path = PHYSICAL_NAME[resource.Type];
  if (path === null) return undefined;
  if (path === undefined) {
    const named = Object.entries(resource.Properties ?? {}).find(([key]) => key.endsWith('Name'));
    return named?.[1];
  }
  let value: unknown = resource.Properties;
  for (const key of path) value = (value as Json | undefined)?.[key];
  return value;
}

const RETAINED = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

/**
 * Resources that would make the next create of their stack fail with "already
 * exists": a name the template fixes, and a deletion policy that leaves the
 * resource behind when the stack is destroyed (or a first create is rolled back).
 */
function namedAndRetained(template: Template): string[] {
  return Object.entries(template.toJSON().Resources as Record<string, Resource>)
    .filter(([, resource]) => physicalName(resource) !== undefined && RETAINED.has(resource.DeletionPolicy ?? 'Delete'))
    .map(([id, resource]) => `${resource.Type} ${id} (${JSON.stringify(physicalName(resource))})`);
}

function retained(template: Template): string[] {
  return Object.entries(template.toJSON().Resources as Record<string, Resource>)
    .filter(([, resource]) => RETAINED.has(resource.DeletionPolicy ?? 'Delete'))
    .map(([, resource]) => resource.Type)
    .sort();
}

describe('create → destroy → create', () => {
  // With every optional part on, so that its resources are checked too.
  const built = buildFeaturelake({ alarmEmail: 'ops@example.com', emailFrom: 'exports@example.com' });

  it('no resource with a fixed name outlives its stack', () => {
    expect(namedAndRetained(built.data)).toEqual([]);
    expect(namedAndRetained(built.api)).toEqual([]);
  });

  it('the rule sees a retained resource with a fixed name, and ignores one whose name CloudFormation makes', () => {
    const stack = new Stack(new App(), 'Probe');
    new CfnWorkGroup(stack, 'Named', { name: 'fixed' }).applyRemovalPolicy(RemovalPolicy.RETAIN);
    new LogGroup(stack, 'Unnamed', { removalPolicy: RemovalPolicy.RETAIN });

    expect(namedAndRetained(Template.fromStack(stack))).toEqual([
      `AWS::Athena::WorkGroup ${logicalId(stack.node.findChild('Named'))} ("fixed")`,
    ]);
  });

  it('drops the Glue database and tables with the stack: they hold no data, and the database has a fixed name', () => {
    const { data, stacks } = built;
    const database = (data.toJSON().Resources as Record<string, Resource>)[logicalId(stacks.data.lake.database)];

    expect(database).toMatchObject({ Type: 'AWS::Glue::Database', DeletionPolicy: 'Delete' });
    expect(physicalName(database as Resource)).toBe('featurelake');
    for (const table of Object.values(resourcesOf(data, 'AWS::Glue::Table'))) {
      expect((table as Resource).DeletionPolicy ?? 'Delete').toBe('Delete');
    }
  });

  it('retains exactly what holds data or unlocks it, as docs/deploy.md lists: four buckets, two keys, the state table and the admin token', () => {
    expect(retained(built.data)).toEqual([
      'AWS::DynamoDB::GlobalTable',
      'AWS::KMS::Key',
      'AWS::KMS::Key',
      // Firehose's error log stream: it goes with its log group, which is deleted.
      'AWS::Logs::LogStream',
      'AWS::S3::Bucket',
      'AWS::S3::Bucket',
      'AWS::S3::Bucket',
      'AWS::S3::Bucket',
      'AWS::SecretsManager::Secret',
    ]);
    expect(retained(built.api)).toEqual([]);
  });
});

describe('log groups that services deliver into', () => {
  const built = buildFeaturelake();
  const { api, stacks } = built;
  const logGroupName = (group: LogGroup) =>
    (api.toJSON().Resources as Record<string, Resource>)[logicalId(group)]?.Properties?.LogGroupName;
  const stackGuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };

  it.each([
    ['the company export state machine', 'states', () => stacks.api.companyExportWorkflow.logGroup],
    ['the events export state machine', 'states', () => stacks.api.eventsExportWorkflow.logGroup],
  ])('%s logs under /aws/vendedlogs/%s/, named per stack and per creation', (_what, service, group) => {
    const name = logGroupName(group()) as { 'Fn::Join': [string, [string, unknown]] };
    const [prefix, suffix] = name['Fn::Join'][1];

    expect(prefix.startsWith(`${VENDED_LOGS_PREFIX}${service}/FeaturelakeApi-`)).toBe(true);
    expect(suffix).toEqual(stackGuid);
  });

  it('the HTTP API access log likewise, under /aws/vendedlogs/apigateway/', () => {
    const stage = Object.values(resourcesOf(api, 'AWS::ApiGatewayV2::Stage'))[0]?.Properties as {
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [string, string] } };
    };
    const accessLogId = stage.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    const name = (api.toJSON().Resources as Record<string, Resource>)[accessLogId]?.Properties?.LogGroupName as {
      'Fn::Join': [string, [string, unknown]];
    };

    expect(name['Fn::Join'][1][0]).toMatch(
      /^\/aws\/vendedlogs\/apigateway\/FeaturelakeApi-HttpApi-[0-9A-F]{8}-AccessLogs-$/,
    );
    expect(name['Fn::Join'][1][1]).toEqual(stackGuid);
  });

  it('no two log groups share a name, and each goes with its stack', () => {
    const names = Object.values(resourcesOf(api, 'AWS::Logs::LogGroup'))
      .map((group) => JSON.stringify(group.Properties.LogGroupName))
      .filter((name) => name !== undefined);

    expect(new Set(names).size).toBe(names.length);
    for (const group of Object.values(resourcesOf(api, 'AWS::Logs::LogGroup'))) {
      expect((group as Resource).DeletionPolicy).toBe('Delete');
    }
  });
});
