import { describe, expect, it } from 'vitest';
import { EVENT_PARTITION_COLUMNS } from '../../lambdas/contract/lake.ts';
import { featurelake, logicalId, resourceOf } from './featurelake-app.ts';

interface ExtendedS3Destination {
  BucketARN: unknown;
  BufferingHints: { IntervalInSeconds: number; SizeInMBs: number };
  Prefix: string;
  ErrorOutputPrefix: string;
  DynamicPartitioningConfiguration: { Enabled: boolean };
  ProcessingConfiguration: {
    Enabled: boolean;
    Processors: { Type: string; Parameters: { ParameterName: string; ParameterValue: string }[] }[];
  };
  DataFormatConversionConfiguration: {
    Enabled: boolean;
    SchemaConfiguration: Record<string, unknown>;
    InputFormatConfiguration: { Deserializer: Record<string, unknown> };
    OutputFormatConfiguration: { Serializer: Record<string, unknown> };
  };
}

function deliveryStream() {
  const { data, stacks } = featurelake();
  return resourceOf(data, stacks.data.eventStream.deliveryStream).Properties;
}

function destination(): ExtendedS3Destination {
  return deliveryStream().ExtendedS3DestinationConfiguration as ExtendedS3Destination;
}

describe('the event delivery stream', () => {
  it('is a Direct PUT stream, encrypted at rest, writing into the lake bucket', () => {
    const { stacks } = featurelake();

    expect(deliveryStream()).toMatchObject({
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
    });
    expect(destination().BucketARN).toEqual({ 'Fn::GetAtt': [logicalId(stacks.data.lake.bucket), 'Arn'] });
  });

  it('converts records to Parquet with the schema of the Glue events table', () => {
    const { stacks } = featurelake();
    const conversion = destination().DataFormatConversionConfiguration;

    expect(conversion.Enabled).toBe(true);
    expect(conversion.SchemaConfiguration).toMatchObject({
      DatabaseName: { Ref: logicalId(stacks.data.lake.database) },
      TableName: { Ref: logicalId(stacks.data.lake.table) },
      Region: 'eu-west-1',
      VersionId: 'LATEST',
    });
    expect(Object.keys(conversion.OutputFormatConfiguration.Serializer)).toEqual(['ParquetSerDe']);
  });

  it('reads JSON with the OpenX deserializer, which parses the wire instants (…T10:44:50.999Z) natively', () => {
    // Firehose's OpenX SerDe takes no timestamp formats: it accepts
    // yyyy-MM-dd'T'HH:mm:ss[.S]'Z' (up to 9 fraction digits) by itself. A Hive
    // deserializer here would need explicit formats or fail every record.
    expect(destination().DataFormatConversionConfiguration.InputFormatConfiguration.Deserializer).toEqual({
      OpenXJsonSerDe: {},
    });
  });

  it('splits packed records (JSON deaggregation) before it partitions each event by the shard and received it carries', () => {
    const { DynamicPartitioningConfiguration, ProcessingConfiguration, Prefix } = destination();
    const parametersOf = (type: string) =>
      Object.fromEntries(
        (ProcessingConfiguration.Processors.find((processor) => processor.Type === type)?.Parameters ?? []).map(
          ({ ParameterName, ParameterValue }) => [ParameterName, ParameterValue],
        ),
      );

    expect(DynamicPartitioningConfiguration.Enabled).toBe(true);
    expect(ProcessingConfiguration.Enabled).toBe(true);
    expect(ProcessingConfiguration.Processors.map((processor) => processor.Type)).toEqual([
      'RecordDeAggregation',
      'MetadataExtraction',
    ]);
    expect(parametersOf('RecordDeAggregation')).toEqual({ SubRecordType: 'JSON' });
    expect(parametersOf('MetadataExtraction')).toEqual({
      MetadataExtractionQuery: '{"shard":.shard,"received":.received}',
      JsonParsingEngine: 'JQ-1.6',
    });
    expect(Prefix).toBe('events/shard=!{partitionKeyFromQuery:shard}/received=!{partitionKeyFromQuery:received}/');
    expect(Prefix.match(/\w+(?==!\{partitionKeyFromQuery:)/g)).toEqual(EVENT_PARTITION_COLUMNS.map((c) => c.name));
  });

  it('puts failed records outside events/, where Athena never reads them', () => {
    const { ErrorOutputPrefix } = destination();

    expect(ErrorOutputPrefix).toContain('!{firehose:error-output-type}');
    expect(ErrorOutputPrefix.startsWith('events/')).toBe(false);
  });

  it('buffers at least the 64 MiB Parquet conversion requires, for at most a minute', () => {
    const { BufferingHints } = destination();

    expect(BufferingHints.SizeInMBs).toBeGreaterThanOrEqual(64);
    expect(BufferingHints.IntervalInSeconds).toBe(60);
  });
});
