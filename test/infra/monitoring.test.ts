import { describe, expect, it } from 'vitest';
import { LAKE_ERRORS_METRICS_ID, LAKE_ERRORS_PREFIX } from '../../lib/data-stack.ts';
import { defaultFirehoseQuota, FRESHNESS_ALARM_SECONDS, QUOTA_ALARM_FRACTION } from '../../lib/monitoring.ts';
import {
  type BuiltFeaturelake,
  buildFeaturelake,
  featurelake,
  importOf,
  logicalId,
  resourcesOf,
} from './featurelake-app.ts';

type Json = Record<string, unknown>;

interface AlarmProperties {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Statistic?: string;
  Period?: number;
  Metrics?: { Id: string; Expression?: string; MetricStat?: { Metric: Json; Stat: string } }[];
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  TreatMissingData: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
  AlarmName?: unknown;
}

/** The alarm the monitoring construct built under `name`, as the template has it. */
function alarm(built: BuiltFeaturelake, name: string): AlarmProperties {
  const construct = built.stacks.api.monitoring.alarms[name];
  if (!construct) throw new Error(`no alarm ${name}`);
  const resource = (built.api.toJSON().Resources as Record<string, { Properties: AlarmProperties }>)[
    logicalId(construct)
  ];
  if (!resource) throw new Error(`alarm ${name} is not in the template`);
  return resource.Properties;
}

function dimensions(properties: { Dimensions?: { Name: string; Value: unknown }[] }): Record<string, unknown> {
  return Object.fromEntries((properties.Dimensions ?? []).map((dimension) => [dimension.Name, dimension.Value]));
}

describe('the alarms', () => {
  const built = featurelake();
  const { data, stacks } = built;
  const streamName = importOf(data, { Ref: logicalId(stacks.data.eventStream.deliveryStream) });
  const quota = defaultFirehoseQuota('eu-west-1');

  it.each([
    // name, metric, statistic, comparison, threshold
    ['FirehoseDeliveryFailed', 'DeliveryToS3.Success', 'Minimum', 'LessThanThreshold', 1],
    ['FirehoseDeliveryLate', 'DeliveryToS3.DataFreshness', 'Maximum', 'GreaterThanThreshold', FRESHNESS_ALARM_SECONDS],
    ['FirehoseConversionFailed', 'FailedConversion.Records', 'Sum', 'GreaterThanThreshold', 0],
    ['FirehosePartitionsExceeded', 'PartitionCountExceeded', 'Maximum', 'GreaterThanThreshold', 0],
    ['FirehoseThrottled', 'ThrottledRecords', 'Sum', 'GreaterThanThreshold', 0],
    ['FirehoseRecordsNearQuota', 'IncomingRecords', 'Sum', 'GreaterThanThreshold', 0.8 * 500_000 * 300],
    ['FirehoseRequestsNearQuota', 'IncomingPutRequests', 'Sum', 'GreaterThanThreshold', 0.8 * 2_000 * 300],
    ['FirehoseBytesNearQuota', 'IncomingBytes', 'Sum', 'GreaterThanThreshold', 0.8 * 5 * 1024 * 1024 * 300],
  ])(
    '%s watches the delivery stream’s %s (%s %s %d over 5 minutes)',
    (name, metric, statistic, comparison, threshold) => {
      expect(alarm(built, name)).toMatchObject({
        Namespace: 'AWS/Firehose',
        MetricName: metric,
        Statistic: statistic,
        Period: 300,
        ComparisonOperator: comparison,
        Threshold: threshold,
        TreatMissingData: 'notBreaching',
      });
      expect(dimensions(alarm(built, name))).toEqual({ DeliveryStreamName: streamName });
    },
  );

  it('puts the quota alarms at QUOTA_ALARM_FRACTION of the quota parameters over their 5-minute window', () => {
    expect(QUOTA_ALARM_FRACTION).toBe(0.8);
    expect(quota).toEqual({ recordsPerSecond: 500_000, requestsPerSecond: 2_000, mibPerSecond: 5 });
    const raised = buildFeaturelake({ firehoseRequestsPerSecondQuota: '3000', firehoseMiBPerSecondQuota: '10' });

    expect(alarm(raised, 'FirehoseRequestsNearQuota').Threshold).toBe(0.8 * 3000 * 300);
    expect(alarm(raised, 'FirehoseBytesNearQuota').Threshold).toBe(0.8 * 10 * 1024 * 1024 * 300);
  });

  it('counts objects written under the lake’s errors/ prefix through a request-metrics filter on that prefix', () => {
    const lake = Object.values(resourcesOf(data, 'AWS::S3::Bucket')).find(
      (bucket) => bucket === resourcesOf(data, 'AWS::S3::Bucket')[logicalId(stacks.data.lake.bucket)],
    );
    expect(lake?.Properties.MetricsConfigurations).toEqual([
      { Id: LAKE_ERRORS_METRICS_ID, Prefix: LAKE_ERRORS_PREFIX },
    ]);
    // The filter's prefix is where Firehose puts what it could not deliver as rows.
    const stream = Object.values(resourcesOf(data, 'AWS::KinesisFirehose::DeliveryStream'))[0]?.Properties as {
      ExtendedS3DestinationConfiguration: { ErrorOutputPrefix: string };
    };
    expect(stream.ExtendedS3DestinationConfiguration.ErrorOutputPrefix.startsWith(LAKE_ERRORS_PREFIX)).toBe(true);

    expect(alarm(built, 'LakeErrorObjects')).toMatchObject({
      Namespace: 'AWS/S3',
      MetricName: 'PutRequests',
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(dimensions(alarm(built, 'LakeErrorObjects'))).toEqual({
      BucketName: importOf(data, { Ref: logicalId(stacks.data.lake.bucket) }),
      FilterId: LAKE_ERRORS_METRICS_ID,
    });
  });

  it('Api5xx fires on 5xx answers of the HTTP API in two 5-minute periods in a row', () => {
    expect(alarm(built, 'Api5xx')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Statistic: 'Sum',
      Threshold: 0,
      EvaluationPeriods: 2,
    });
    expect(dimensions(alarm(built, 'Api5xx'))).toEqual({ ApiId: { Ref: logicalId(stacks.api.api.httpApi) } });
  });

  it('watches errors and throttles of every Lambda of the stack', () => {
    const functions = Object.keys(resourcesOf(built.api, 'AWS::Lambda::Function'));
    const watched = (metricName: string) =>
      Object.values(resourcesOf(built.api, 'AWS::CloudWatch::Alarm'))
        .map((resource) => resource.Properties as unknown as AlarmProperties)
        .filter((properties) => properties.Namespace === 'AWS/Lambda' && properties.MetricName === metricName)
        .map((properties) => (dimensions(properties).FunctionName as { Ref: string }).Ref);

    expect(functions.length).toBeGreaterThanOrEqual(10);
    expect(watched('Errors').sort()).toEqual([...functions].sort());
    expect(watched('Throttles').sort()).toEqual([...functions].sort());
    expect(alarm(built, 'TrackingErrors')).toMatchObject({ Statistic: 'Sum', Threshold: 0, Period: 300 });
  });

  it.each([
    ['CompanyExportWorkflowFailed', () => stacks.api.companyExportWorkflow.stateMachine],
    ['EventsExportWorkflowFailed', () => stacks.api.eventsExportWorkflow.stateMachine],
  ])('%s fires on an execution that failed or timed out', (name, machine) => {
    const properties = alarm(built, name);
    const metrics = (properties.Metrics ?? []).filter((query) => query.MetricStat);

    expect(properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(metrics.map((query) => query.MetricStat?.Metric.MetricName).sort()).toEqual([
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
    for (const query of metrics) {
      expect(query.MetricStat).toMatchObject({
        Metric: {
          Namespace: 'AWS/States',
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(machine()) } }],
        },
        Stat: 'Sum',
      });
    }
  });

  it('StateTableThrottled adds the state table’s read and write throttle events', () => {
    const properties = alarm(built, 'StateTableThrottled');
    const metrics = (properties.Metrics ?? []).filter((query) => query.MetricStat);
    const tableName = importOf(data, { Ref: logicalId(stacks.data.stateTable.table) });

    expect(metrics.map((query) => query.MetricStat?.Metric)).toEqual([
      {
        Namespace: 'AWS/DynamoDB',
        MetricName: 'ReadThrottleEvents',
        Dimensions: [{ Name: 'TableName', Value: tableName }],
      },
      {
        Namespace: 'AWS/DynamoDB',
        MetricName: 'WriteThrottleEvents',
        Dimensions: [{ Name: 'TableName', Value: tableName }],
      },
    ]);
    expect(properties.Threshold).toBe(0);
  });

  it('have no actions and no fixed names when alarmEmail is unset', () => {
    const alarms = Object.values(resourcesOf(built.api, 'AWS::CloudWatch::Alarm')).map(
      (resource) => resource.Properties as unknown as AlarmProperties,
    );

    expect(alarms.length).toBe(Object.keys(stacks.api.monitoring.alarms).length);
    for (const properties of alarms) {
      expect(properties.AlarmActions).toBeUndefined();
      expect(properties.AlarmName).toBeUndefined();
    }
    expect(resourcesOf(built.api, 'AWS::SNS::Topic')).toEqual({});
  });
});

describe('with alarmEmail', () => {
  const built = buildFeaturelake({ alarmEmail: 'ops@example.com' });
  const { monitoring } = built.stacks.api;
  const topic = monitoring.topic;

  it('every alarm notifies an SNS topic, on alarm and on recovery, which emails the address', () => {
    if (!topic) throw new Error('no topic');
    const topicRef = { Ref: logicalId(topic) };

    for (const name of Object.keys(monitoring.alarms)) {
      expect(alarm(built, name)).toMatchObject({ AlarmActions: [topicRef], OKActions: [topicRef] });
    }
    expect(Object.values(resourcesOf(built.api, 'AWS::SNS::Subscription')).map((s) => s.Properties)).toEqual([
      { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: topicRef },
    ]);
  });

  it('the topic is encrypted with a rotating key CloudWatch may use, and refuses plain HTTP', () => {
    if (!topic) throw new Error('no topic');
    const topicProperties = Object.values(resourcesOf(built.api, 'AWS::SNS::Topic'))[0]?.Properties as Json;
    const key = Object.values(resourcesOf(built.api, 'AWS::KMS::Key'))[0]?.Properties as {
      EnableKeyRotation: boolean;
      KeyPolicy: { Statement: { Principal: unknown; Action: string | string[] }[] };
    };

    expect(topicProperties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
    const policy = Object.values(resourcesOf(built.api, 'AWS::SNS::TopicPolicy'))[0]?.Properties as {
      PolicyDocument: { Statement: Json[] };
    };
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });
});

describe('the dashboard', () => {
  const built = featurelake();
  const dashboards = Object.values(resourcesOf(built.api, 'AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const dashboard = (dashboards[0] as { Properties: Record<string, unknown> }).Properties;
  // The body is a Fn::Join of JSON text around tokens (ids, region): parse it with the tokens as "TOKEN".
  const parts = (dashboard.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as {
    widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
  };
  /** Each graph's title and what it plots: `namespace metric` or a math expression. */
  const graphs = Object.fromEntries(
    body.widgets
      .filter((widget) => widget.properties.metrics)
      .map((widget) => [
        widget.properties.title,
        (widget.properties.metrics ?? []).map((metric) =>
          typeof metric[0] === 'string'
            ? `${metric[0]} ${metric[1]}`
            : (metric[0] as { expression: string }).expression,
        ),
      ]),
  );

  it('has no fixed name, and the API stack outputs the one it gets', () => {
    expect(dashboard.DashboardName).toBeUndefined();
    expect(built.api.toJSON().Outputs.DashboardName.Value).toEqual({
      Ref: logicalId(built.stacks.api.monitoring.dashboard),
    });
  });

  it('shows tracking requests, 4xx, 5xx and latency', () => {
    expect(graphs['API requests and errors']).toEqual([
      'AWS/ApiGateway Count',
      'AWS/ApiGateway 4xx',
      'AWS/ApiGateway 5xx',
    ]);
    expect(graphs['API latency (ms)']).toEqual([
      'AWS/ApiGateway Latency',
      'AWS/ApiGateway Latency',
      'AWS/ApiGateway IntegrationLatency',
    ]);
  });

  it('shows Firehose freshness and failures, and what went outside the events table', () => {
    expect(graphs['Firehose: delivery to the lake']).toEqual([
      'AWS/Firehose DeliveryToS3.DataFreshness',
      'AWS/Firehose DeliveryToS3.Success',
    ]);
    expect(graphs['Records outside the events table']).toEqual([
      'AWS/Firehose FailedConversion.Records',
      'AWS/Firehose PartitionCountExceeded',
      'AWS/S3 PutRequests',
      'AWS/Firehose PartitionCount',
    ]);
  });

  it('shows export jobs by status, per workflow', () => {
    const statuses = ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'];
    // The daily facts build, the company export and the events export.
    expect(graphs['Export jobs by status']).toEqual(
      [...statuses, ...statuses, ...statuses].map((metric) => `AWS/States ${metric}`),
    );
  });

  it('shows the bytes Athena scanned in each workgroup', () => {
    expect(graphs['Athena scanned bytes per workgroup']).toEqual(
      ['featurelake', 'featurelake-company-exports', 'featurelake-events-exports', 'featurelake-daily-facts'].map(
        (workgroup) =>
          `SUM(SEARCH('{AWS/Athena,QueryState,QueryType,WorkGroup} MetricName="ProcessedBytes" WorkGroup="${workgroup}"', 'Sum', 300))`,
      ),
    );
    // …which they publish.
    for (const workgroup of Object.values(resourcesOf(built.data, 'AWS::Athena::WorkGroup'))) {
      expect(workgroup.Properties.WorkGroupConfiguration).toMatchObject({ PublishCloudWatchMetricsEnabled: true });
    }
  });
});
