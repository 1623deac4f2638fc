import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  EVENT_COLUMNS,
  EVENT_PARTITION_COLUMNS,
  EVENTS_TABLE_NAME,
  LAKE_FIRST_DATE,
  LAKE_SHARDS,
} from '../../lambdas/contract/lake.ts';
import { featurelake, logicalId, resourceOf } from './featurelake-app.ts';

interface TableInput {
  Name: string;
  Parameters: Record<string, unknown>;
  PartitionKeys: { Name: string; Type: string }[];
  StorageDescriptor: {
    Columns: { Name: string; Type: string }[];
    Location: unknown;
    SerdeInfo: { SerializationLibrary: string };
    InputFormat: string;
    OutputFormat: string;
  };
}

function eventsTable(): TableInput {
  const { data, stacks } = featurelake();
  return resourceOf(data, stacks.data.lake.table).Properties.TableInput as TableInput;
}

/** `s3://<lake bucket>/<suffix>` as CloudFormation renders it. */
function lakeUrl(suffix: string): unknown {
  const bucket = logicalId(featurelake().stacks.data.lake.bucket);
  return { 'Fn::Join': ['', ['s3://', { Ref: bucket }, suffix]] };
}

describe('the events Glue table', () => {
  it('has exactly the columns of EVENT_COLUMNS, in order, with their types (the schema Firehose converts with)', () => {
    const table = eventsTable();

    expect(table.Name).toBe(EVENTS_TABLE_NAME);
    expect(table.StorageDescriptor.Columns.map(({ Name, Type }) => ({ Name, Type }))).toEqual(
      EVENT_COLUMNS.map((column) => ({ Name: column.name, Type: column.type })),
    );
  });

  it('is partitioned by shard (int) then received (string), with app_id and dt as ordinary columns', () => {
    const table = eventsTable();
    expect(table.PartitionKeys.map(({ Name, Type }) => ({ Name, Type }))).toEqual([
      { Name: 'shard', Type: 'int' },
      { Name: 'received', Type: 'string' },
    ]);
    expect(EVENT_PARTITION_COLUMNS.map((c) => c.name)).toEqual(['shard', 'received']);
    expect(table.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(expect.arrayContaining(['app_id', 'dt']));
  });

  it('reads Parquet under events/ in the lake bucket', () => {
    const { StorageDescriptor } = eventsTable();

    expect(StorageDescriptor.Location).toEqual(lakeUrl('/events/'));
    expect(StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
  });

  it('projects partitions (shard 0..63, received daily from LAKE_FIRST_DATE to today) at the Firehose paths', () => {
    const parameters = eventsTable().Parameters;
    expect(parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.shard.type': 'integer',
      'projection.shard.range': `0,${LAKE_SHARDS - 1}`,
      'projection.received.type': 'date',
      'projection.received.format': 'yyyy-MM-dd',
      'projection.received.range': `${LAKE_FIRST_DATE},NOW`,
      'projection.received.interval': '1',
      'projection.received.interval.unit': 'DAYS',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's placeholders, literally.
      'storage.location.template': lakeUrl('/events/shard=${shard}/received=${received}/'),
    });
  });

  it('has no injected projection, so no query depends on Athena reading a parameter as a constant', () => {
    const types = Object.entries(eventsTable().Parameters).filter(([key]) => /^projection\.\w+\.type$/.test(key));
    expect(types.map(([, type]) => type).sort()).toEqual(['date', 'integer']);
  });

  it('says its data is not client-side encrypted, because the bucket encrypts server-side (SSE-S3)', () => {
    const { data, stacks } = featurelake();

    expect(eventsTable().Parameters.has_encrypted_data).toBe(false);
    expect(resourceOf(data, stacks.data.lake.bucket).Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });
});

describe('the lake bucket', () => {
  it('is private, versioned, retained, and logs access to the access-logs bucket', () => {
    const { data, stacks } = featurelake();
    const bucket = data.toJSON().Resources[logicalId(stacks.data.lake.bucket)];

    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(stacks.data.accessLogs.bucket) } },
    });
  });

  it('refuses requests that are not TLS', () => {
    const { data, stacks } = featurelake();

    data.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stacks.data.lake.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});
