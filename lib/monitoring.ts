import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * A delivery stream's Direct PUT quotas (combined for PutRecord and
 * PutRecordBatch) in one account and region.
 */
export interface FirehoseQuota {
  readonly recordsPerSecond: number;
  readonly requestsPerSecond: number;
  readonly mibPerSecond: number;
}

/**
 * Regions with Firehose's larger Direct PUT defaults. "Amazon Data Firehose
 * Quota" (https://docs.aws.amazon.com/firehose/latest/dev/limits.html): US East
 * (N. Virginia), US West (Oregon) and Europe (Ireland) get 500,000 records/s,
 * 2,000 requests/s and 5 MiB/s per stream; the other regions 100,000 records/s,
 * 1,000 requests/s and 1 MiB/s. An account may have had its quota raised: the
 * firehose*Quota context parameters then say so.
 */
const LARGE_FIREHOSE_QUOTA_REGIONS: ReadonlySet<string> = new Set(['us-east-1', 'us-west-2', 'eu-west-1']);

/** The default Direct PUT quotas of a delivery stream in `region` (see LARGE_FIREHOSE_QUOTA_REGIONS). */
export function defaultFirehoseQuota(region: string): FirehoseQuota {
  return LARGE_FIREHOSE_QUOTA_REGIONS.has(region)
    ? { recordsPerSecond: 500_000, requestsPerSecond: 2_000, mibPerSecond: 5 }
    : { recordsPerSecond: 100_000, requestsPerSecond: 1_000, mibPerSecond: 1 };
}

/**
 * The share of a Firehose quota at which the quota alarms fire, over 5 minutes:
 * early enough to ask for an increase before records are throttled (the
 * "IncomingX (Sum per 5 minutes) / 300 approaches a percentage of the limit"
 * alarms of Firehose's "Implement best practices with CloudWatch Alarms").
 */
export const QUOTA_ALARM_FRACTION = 0.8;

/**
 * Data freshness past which delivery is stuck: the 15-minute ceiling of a
 * buffering interval ("Implement best practices with CloudWatch Alarms",
 * https://docs.aws.amazon.com/firehose/latest/dev/firehose-cloudwatch-metrics-best-practices.html).
 * Ours is 60 s (1.5× that with dynamic partitioning's multi-stage buffering).
 */
export const FRESHNESS_ALARM_SECONDS = 15 * 60;

/** The period every alarm evaluates, and the quota alarms' window (the best-practices page's 5 minutes). */
const PERIOD = Duration.minutes(5);

export interface FeaturelakeMonitoringProps {
  /** The tracking stream into the lake. */
  readonly deliveryStream: IDeliveryStream;
  /** Its Direct PUT quotas, which the quota alarms compare the incoming traffic with. */
  readonly firehoseQuota: FirehoseQuota;
  /** The lake bucket's name (the request metrics' BucketName dimension). */
  readonly lakeBucketName: string;
  /** The id of the lake bucket's request-metrics filter on the Firehose error prefix. */
  readonly lakeErrorsMetricsFilterId: string;
  /** The HTTP API's id (the API Gateway metrics' ApiId dimension). */
  readonly apiId: string;
  /** Every featurelake Lambda, by a name the alarms and dashboard show. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** The export workflows, by a name the alarms and dashboard show. */
  readonly workflows: Readonly<Record<string, IStateMachine>>;
  /** The state table's name. */
  readonly stateTableName: string;
  /** The Athena workgroups whose scanned bytes the dashboard shows. */
  readonly workgroupNames: readonly string[];
  /**
   * Who is told when an alarm fires: an SNS topic with this email
   * subscription (the recipient confirms it once).
   *
   * @default none: the alarms change state with no action
   */
  readonly alarmEmail?: string;
}

/**
 * The alarms and the dashboard of a deployed featurelake (docs/deploy.md,
 * "Runbook", says what each alarm means and what to do). No alarm or dashboard
 * has a fixed name, so a stack can be created again beside or after another.
 *
 * Metric names and dimensions are the services' documented ones (a wrong name is
 * an alarm that never fires): Firehose's `AWS/Firehose` by DeliveryStreamName,
 * S3 request metrics by BucketName and FilterId, HTTP API metrics by ApiId (the
 * route-level dimension needs paid detailed metrics and is documented two ways),
 * Lambda by FunctionName, Step Functions by StateMachineArn, DynamoDB by
 * TableName, Athena by WorkGroup.
 */
export class FeaturelakeMonitoring extends Construct {
  /** Every alarm, by a stable name (the runbook's headings). */
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly dashboard: Dashboard;
  /** The alarms' SNS topic, when `alarmEmail` is set. */
  readonly topic: Topic | undefined;

  constructor(scope: Construct, id: string, props: FeaturelakeMonitoringProps) {
    super(scope, id);
    const stream = props.deliveryStream;
    const firehose = (metricName: string, statistic: string) =>
      stream.metric(metricName, { statistic, period: PERIOD });
    const api = (metricName: string, statistic: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.apiId },
        statistic,
        period: PERIOD,
      });
    const alarms: Record<string, Alarm> = {};
    const alarm = (
      name: string,
      metric: IMetric,
      options: {
        readonly threshold: number;
        readonly description: string;
        readonly comparison?: ComparisonOperator;
        readonly periods?: number;
      },
    ) => {
      alarms[name] = new Alarm(this, `${name}Alarm`, {
        metric,
        threshold: options.threshold,
        comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: options.periods ?? 1,
        // No traffic, no data: nothing is wrong.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `featurelake: ${options.description} See docs/deploy.md, Runbook, "${name}".`,
      });
    };

    // The lake: every acknowledged event must reach it.
    alarm('FirehoseDeliveryFailed', firehose('DeliveryToS3.Success', 'Minimum'), {
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      description: 'Firehose failed some deliveries to the lake bucket (it retries for a day, then gives up).',
    });
    alarm('FirehoseDeliveryLate', firehose('DeliveryToS3.DataFreshness', 'Maximum'), {
      threshold: FRESHNESS_ALARM_SECONDS,
      description: `accepted events have waited more than ${FRESHNESS_ALARM_SECONDS / 60} minutes in Firehose for the lake.`,
    });
    alarm('FirehoseConversionFailed', firehose('FailedConversion.Records', 'Sum'), {
      threshold: 0,
      description: 'records failed Parquet conversion and went to the errors/ prefix instead of the events table.',
    });
    alarm('FirehosePartitionsExceeded', firehose('PartitionCountExceeded', 'Maximum'), {
      threshold: 0,
      description: 'the stream had more active dynamic partitions than its quota; records went to errors/.',
    });
    alarm('FirehoseThrottled', firehose('ThrottledRecords', 'Sum'), {
      threshold: 0,
      description: 'Firehose throttled tracking records (the tracking API answered 5xx for them).',
    });
    const quota = props.firehoseQuota;
    const window = PERIOD.toSeconds();
    alarm('FirehoseRecordsNearQuota', firehose('IncomingRecords', 'Sum'), {
      threshold: Math.floor(QUOTA_ALARM_FRACTION * quota.recordsPerSecond * window),
      description: `incoming records passed ${QUOTA_ALARM_FRACTION * 100}% of the ${quota.recordsPerSecond}/s Direct PUT quota (firehoseRecordsPerSecondQuota).`,
    });
    alarm('FirehoseRequestsNearQuota', firehose('IncomingPutRequests', 'Sum'), {
      threshold: Math.floor(QUOTA_ALARM_FRACTION * quota.requestsPerSecond * window),
      description: `incoming put requests passed ${QUOTA_ALARM_FRACTION * 100}% of the ${quota.requestsPerSecond}/s Direct PUT quota (firehoseRequestsPerSecondQuota).`,
    });
    alarm('FirehoseBytesNearQuota', firehose('IncomingBytes', 'Sum'), {
      threshold: Math.floor(QUOTA_ALARM_FRACTION * quota.mibPerSecond * 1024 * 1024 * window),
      description: `incoming bytes passed ${QUOTA_ALARM_FRACTION * 100}% of the ${quota.mibPerSecond} MiB/s Direct PUT quota (firehoseMiBPerSecondQuota).`,
    });
    const lakeErrorObjects = new Metric({
      namespace: 'AWS/S3',
      metricName: 'PutRequests',
      dimensionsMap: { BucketName: props.lakeBucketName, FilterId: props.lakeErrorsMetricsFilterId },
      statistic: 'Sum',
      period: PERIOD,
    });
    alarm('LakeErrorObjects', lakeErrorObjects, {
      threshold: 0,
      description:
        "objects were written under the lake bucket's errors/ prefix: records that are not in the events table.",
    });

    // The API and its Lambdas.
    alarm('Api5xx', api('5xx', 'Sum'), {
      threshold: 0,
      periods: 2,
      description:
        'the API answered 5xx in two 5-minute periods in a row (tracking clients retry; admin and export calls fail).',
    });
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}Errors`, fn.metricErrors({ period: PERIOD }), {
        threshold: 0,
        description: `the ${name} Lambda failed invocations (uncaught errors or timeouts).`,
      });
      alarm(`${name}Throttles`, fn.metricThrottles({ period: PERIOD }), {
        threshold: 0,
        description: `the ${name} Lambda was throttled (account concurrency exhausted).`,
      });
    }

    // The export workflows: a job that fails ends its execution in a Fail state.
    for (const [name, machine] of Object.entries(props.workflows)) {
      alarm(
        `${name}Failed`,
        new MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
          usingMetrics: {
            failed: machine.metricFailed({ period: PERIOD, statistic: 'Sum' }),
            timedOut: machine.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
          },
          label: `${name} executions failed or timed out`,
          period: PERIOD,
        }),
        { threshold: 0, description: `${name} executions failed or timed out (each is a job marked failed).` },
      );
    }

    const dynamo = (metricName: string) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: props.stateTableName },
        statistic: 'Sum',
        period: PERIOD,
      });
    alarm(
      'StateTableThrottled',
      new MathExpression({
        expression: 'FILL(reads, 0) + FILL(writes, 0)',
        usingMetrics: { reads: dynamo('ReadThrottleEvents'), writes: dynamo('WriteThrottleEvents') },
        label: 'state table throttled requests',
        period: PERIOD,
      }),
      { threshold: 0, description: 'DynamoDB throttled reads or writes of the state table.' },
    );

    this.alarms = alarms;

    if (props.alarmEmail !== undefined) {
      // CloudWatch cannot publish to a topic under the AWS managed SNS key: a key
      // of our own whose policy lets CloudWatch use it.
      const key = new Key(this, 'AlarmTopicKey', {
        description: 'featurelake alarm notifications (SNS topic encryption)',
        enableKeyRotation: true,
        // Encrypts notifications in transit through SNS only; nothing at rest outlives the stack.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
      this.topic = new Topic(this, 'AlarmTopic', {
        displayName: 'featurelake alarms',
        masterKey: key,
        enforceSSL: true,
      });
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      const action = new SnsAction(this.topic);
      for (const each of Object.values(alarms)) {
        each.addAlarmAction(action);
        each.addOkAction(action);
      }
    }

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 12, height: 6 });
    const workflowMetric = (machine: IStateMachine, metricName: string, label: string) =>
      machine.metric(metricName, { statistic: 'Sum', period: PERIOD, label });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# featurelake\nAlarms and what to do: docs/deploy.md, "Runbook". Tracking 5xx by route: the HTTP API access log (Logs Insights, `status >= 500`, by `routeKey`).',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('API requests and errors', [api('Count', 'Sum'), api('4xx', 'Sum'), api('5xx', 'Sum')]),
      graph('API latency (ms)', [api('Latency', 'p50'), api('Latency', 'p99'), api('IntegrationLatency', 'p99')]),
    );
    this.dashboard.addWidgets(
      graph(
        'Firehose: incoming and throttled records',
        [firehose('IncomingRecords', 'Sum'), firehose('ThrottledRecords', 'Sum')],
        [firehose('IncomingPutRequests', 'Sum')],
      ),
      graph(
        'Firehose: delivery to the lake',
        [firehose('DeliveryToS3.DataFreshness', 'Maximum')],
        [firehose('DeliveryToS3.Success', 'Minimum')],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Records outside the events table',
        [
          firehose('FailedConversion.Records', 'Sum'),
          firehose('PartitionCountExceeded', 'Maximum'),
          lakeErrorObjects.with({ label: 'objects under errors/' }),
        ],
        [firehose('PartitionCount', 'Maximum')],
      ),
      graph(
        'Export jobs by status',
        Object.entries(props.workflows).flatMap(([name, machine]) => [
          workflowMetric(machine, 'ExecutionsStarted', `${name} started`),
          workflowMetric(machine, 'ExecutionsSucceeded', `${name} succeeded`),
          workflowMetric(machine, 'ExecutionsFailed', `${name} failed`),
          workflowMetric(machine, 'ExecutionsTimedOut', `${name} timed out`),
        ]),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Athena scanned bytes per workgroup',
        props.workgroupNames.map(
          (workgroup) =>
            // Athena publishes ProcessedBytes under WorkGroup with QueryState and
            // QueryType: a search sums whichever combinations exist.
            new MathExpression({
              expression: `SUM(SEARCH('{AWS/Athena,QueryState,QueryType,WorkGroup} MetricName="ProcessedBytes" WorkGroup="${workgroup}"', 'Sum', 300))`,
              label: workgroup,
              period: PERIOD,
            }),
        ),
      ),
      graph(
        'Lambda errors and throttles',
        Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ period: PERIOD, label: name })),
        Object.entries(props.functions).map(([name, fn]) =>
          fn.metricThrottles({ period: PERIOD, label: `${name} throttled` }),
        ),
      ),
    );
  }
}
