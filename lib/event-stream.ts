import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import {
  DeliveryStream,
  EnableLogging,
  MetadataExtractionProcessor,
  OpenXJsonInputFormat,
  ParquetCompression,
  ParquetOutputFormat,
  RecordDeAggregationProcessor,
  S3Bucket,
  SchemaConfiguration,
  StreamEncryption,
} from 'aws-cdk-lib/aws-kinesisfirehose';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EVENT_PARTITION_COLUMNS } from '../lambdas/contract/lake.ts';
import { EVENTS_PREFIX, type EventLake } from './event-lake.ts';

/** Firehose refuses record format conversion with a buffer under 64 MiB. */
const MIN_CONVERSION_BUFFER_MIB = 64;

export interface EventStreamProps {
  /** The lake the stream writes into (bucket, and the Glue table as the Parquet schema). */
  readonly lake: EventLake;
  /**
   * Longest time a record waits in Firehose's buffer before a file is written.
   * This is how late an event can appear in queries. Dynamic partitioning needs
   * at least 60 seconds.
   *
   * @default Duration.seconds(60)
   */
  readonly bufferingInterval?: Duration;
  /**
   * Buffer size that triggers a write before the interval ends (per partition).
   * Record format conversion needs between 64 and 128 MiB.
   *
   * @default Size.mebibytes(64)
   */
  readonly bufferingSize?: Size;
  /**
   * Retention of Firehose's delivery error log.
   *
   * @default RetentionDays.THREE_MONTHS
   */
  readonly errorLogRetention?: RetentionDays;
}

/**
 * The Direct PUT Firehose stream that turns tracking calls into Parquet files in
 * the lake. A record packs up to 500 LakeEvents as newline-delimited JSON
 * (FirehoseEventSink); Firehose splits them again (JSON multi-record
 * deaggregation), routes each event to `events/shard=<n>/received=<date>/` by the
 * `shard` and `received` fields it carries, and converts it to Parquet with the
 * schema of the Glue `events` table.
 */
export class EventStream extends Construct {
  readonly deliveryStream: DeliveryStream;

  constructor(scope: Construct, id: string, props: EventStreamProps) {
    super(scope, id);
    const bufferingInterval = props.bufferingInterval ?? Duration.seconds(60);
    const bufferingSize = props.bufferingSize ?? Size.mebibytes(MIN_CONVERSION_BUFFER_MIB);
    if (!bufferingSize.isUnresolved() && bufferingSize.toMebibytes() < MIN_CONVERSION_BUFFER_MIB) {
      throw new Error(
        `EventStream: bufferingSize must be at least ${MIN_CONVERSION_BUFFER_MIB} MiB for Parquet conversion, got ${bufferingSize.toMebibytes()} MiB`,
      );
    }

    const errorLog = new LogGroup(this, 'DeliveryErrors', {
      retention: props.errorLogRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const keys = EVENT_PARTITION_COLUMNS.map((column) => column.name);
    const partitionQuery = Object.fromEntries(keys.map((key) => [key, `.${key}`]));
    const partitionPath = keys.map((key) => `${key}=!{partitionKeyFromQuery:${key}}`).join('/');

    this.deliveryStream = new DeliveryStream(this, 'DeliveryStream', {
      // Direct PUT (no source). Records are encrypted at rest while buffered.
      encryption: StreamEncryption.awsOwnedKey(),
      destination: new S3Bucket(props.lake.bucket, {
        dataOutputPrefix: `${EVENTS_PREFIX}${partitionPath}/`,
        // Outside events/ so that Athena never reads a failed record as a row.
        errorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/',
        bufferingInterval,
        bufferingSize,
        loggingConfig: new EnableLogging(errorLog),
        dataFormatConversion: {
          schemaConfiguration: SchemaConfiguration.fromCfnTable(props.lake.cfnTable),
          // OpenX reads the wire instants (`2024-10-06T10:44:50.999Z`) as
          // timestamps natively: it accepts yyyy-MM-dd'T'HH:mm:ss[.S]'Z' with up to
          // nine fraction digits. (Only the Hive deserializer takes format strings.)
          inputFormat: new OpenXJsonInputFormat(),
          outputFormat: new ParquetOutputFormat({ compression: ParquetCompression.SNAPPY }),
        },
        dynamicPartitioning: { enabled: true },
        // Deaggregation runs first, so the partition keys (and the Parquet conversion)
        // see one event per record (AWS "Apply dynamic partitioning to aggregated
        // data": deaggregation → transformation → partitioning keys; JSON sub-records
        // may be newline-delimited; at most 500 per record).
        processors: [RecordDeAggregationProcessor.json(), MetadataExtractionProcessor.jq16(partitionQuery)],
      }),
    });
  }

  get deliveryStreamName(): string {
    return this.deliveryStream.deliveryStreamName;
  }

  /** firehose:PutRecord and firehose:PutRecordBatch on this stream only. */
  grantPutRecords(grantee: IGrantable): void {
    this.deliveryStream.grantPutRecords(grantee);
  }
}
