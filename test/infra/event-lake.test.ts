import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  EVENT_COLUMNS,
  EVENT_PARTITION_KEYS,
  EVENTS_TABLE_NAME,
  LAKE_FIRST_DATE,
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

  it('is partitioned by app_id then dt, both strings', () => {
    expect(eventsTable().PartitionKeys).toEqual(EVENT_PARTITION_KEYS.map((name) => ({ Name: name, Type: 'string' })));
  });

  it('reads Parquet under events/ in the lake bucket', () => {
    const { StorageDescriptor } = eventsTable();

    expect(StorageDescriptor.Location).toEqual(lakeUrl('/events/'));
    expect(StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
  });

  it('projects partitions (app_id injected, dt daily from LAKE_FIRST_DATE to tomorrow) at the Firehose paths', () => {
    expect(eventsTable().Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.app_id.type': 'injected',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': `${LAKE_FIRST_DATE},NOW+1DAYS`,
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's placeholders, literally.
      'storage.location.template': lakeUrl('/events/app_id=${app_id}/dt=${dt}/'),
    });
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
