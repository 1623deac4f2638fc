import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  type CfnTable,
  Database,
  DataFormat,
  DateIntervalUnit,
  PartitionProjectionConfiguration,
  S3Table,
  S3TableStorage,
  Schema,
  type Type,
} from 'aws-cdk-lib/aws-glue';
import { type IRole, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  EVENT_COLUMNS,
  EVENT_PARTITION_COLUMNS,
  EVENTS_TABLE_NAME,
  LAKE_FIRST_DATE,
  LAKE_SHARDS,
  type LakeColumn,
  type LakeColumnType,
} from '../lambdas/contract/lake.ts';

/** Where the `events` table's objects live in the lake bucket. */
export const EVENTS_PREFIX = `${EVENTS_TABLE_NAME}/`;

/** The Glue type of each lake column type (exhaustive: a new type fails to compile here). */
const GLUE_TYPES: Record<LakeColumnType, Type> = {
  string: Schema.STRING,
  int: Schema.INTEGER,
  boolean: Schema.BOOLEAN,
  timestamp: Schema.TIMESTAMP,
};

export interface EventLakeProps {
  /** Bucket that receives the lake bucket's S3 server access logs. */
  readonly accessLogsBucket: IBucket;
  /**
   * Name of the Glue database holding the `events` table. Athena needs it
   * lowercase; letters, digits and underscores only.
   *
   * @default 'featurelake'
   */
  readonly databaseName?: string;
  /**
   * How long an overwritten or deleted lake object stays recoverable.
   *
   * @default Duration.days(30)
   */
  readonly noncurrentVersionRetention?: Duration;
}

const glueColumn = (column: LakeColumn) => ({
  name: column.name,
  type: GLUE_TYPES[column.type],
  comment: column.comment,
});

/**
 * The event lake: an S3 bucket of Parquet files partitioned
 * `events/shard=<0..63>/received=<YYYY-MM-DD>/` (see `lambdas/contract/lake.ts`
 * for why), and the Glue `events` table that describes them. The table's columns
 * and partition keys come from EVENT_COLUMNS and EVENT_PARTITION_COLUMNS, the same
 * lists the local lake compacts with, so Firehose's conversion and Athena's reads
 * use one schema definition.
 */
export class EventLake extends Construct {
  readonly bucket: Bucket;
  readonly database: Database;
  readonly table: S3Table;
  /**
   * What querying the `events` table needs: the Glue catalog entries and the
   * objects under `events/`, nothing else in the bucket. A managed policy
   * here, beside the data, that consumer stacks attach to their roles.
   */
  readonly queryPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: EventLakeProps) {
    super(scope, id);
    const databaseName = props.databaseName ?? 'featurelake';
    if (!/^[a-z0-9_]{1,255}$/.test(databaseName)) {
      throw new Error(
        `EventLake: databaseName "${databaseName}" must be lowercase letters, digits and underscores (Athena rejects other names)`,
      );
    }

    this.bucket = new Bucket(this, 'Bucket', {
      // SSE-S3: Firehose, Athena and the admin Lambda read and write it without
      // KMS grants, and S3 decrypts transparently (hence hasEncryptedData false below).
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Every accepted call must survive: versioning makes an accidental delete
      // or overwrite recoverable, for a bounded time so storage does not grow forever.
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(30),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.database = new Database(this, 'Database', {
      databaseName,
      description: 'featurelake event lake',
    });

    const location = `s3://${this.bucket.bucketName}/${EVENTS_PREFIX}`;
    const [{ name: shardKey }, { name: receivedKey }] = EVENT_PARTITION_COLUMNS;
    this.table = new S3Table(this, 'EventsTable', {
      database: this.database,
      tableName: EVENTS_TABLE_NAME,
      description: 'One row per accepted tracking call (written by Firehose as Parquet)',
      storage: S3TableStorage.fromBucket(this.bucket),
      s3Prefix: EVENTS_PREFIX,
      dataFormat: DataFormat.PARQUET,
      columns: EVENT_COLUMNS.map(glueColumn),
      partitionKeys: EVENT_PARTITION_COLUMNS.map(glueColumn),
      // Objects are SSE-S3 encrypted, which S3 undoes transparently;
      // has_encrypted_data is only for client-side (CSE-KMS) encrypted data.
      hasEncryptedData: false,
      // Projection instead of a crawler or MSCK REPAIR: partitions exist as soon
      // as Firehose writes them. Both keys are enumerable ranges (no `injected`
      // key), so Athena can list every partition itself and any query is valid,
      // with or without a `shard` condition, whether its values are literals or
      // execution parameters (docs/architecture.md "The lake layout").
      partitionProjection: {
        [shardKey]: PartitionProjectionConfiguration.integer({ min: 0, max: LAKE_SHARDS - 1 }),
        [receivedKey]: PartitionProjectionConfiguration.date({
          min: LAKE_FIRST_DATE,
          // `received` is the server's clock at acceptance, and a row reaches S3 only
          // after Firehose's buffer interval (at least 60 s), longer than any skew
          // between the Lambda's clock and Athena's: NOW always covers it.
          max: 'NOW',
          format: 'yyyy-MM-dd',
          step: { interval: 1, intervalUnit: DateIntervalUnit.DAYS },
        }),
      },
      parameters: {
        'storage.location.template': `${location}${shardKey}=\${${shardKey}}/${receivedKey}=\${${receivedKey}}/`,
      },
    });

    const stack = Stack.of(this);
    this.queryPolicy = new ManagedPolicy(this, 'QueryPolicy', {
      description: 'Query the featurelake events table through Athena',
      statements: [
        new PolicyStatement({
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
          resources: [
            stack.formatArn({ service: 'glue', resource: 'catalog' }),
            this.database.databaseArn,
            this.table.tableArn,
          ],
        }),
        new PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket'],
          resources: [this.bucket.bucketArn],
        }),
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.bucket.arnForObjects(`${EVENTS_PREFIX}*`)],
        }),
      ],
    });
  }

  /** The L1 table, which Firehose's schema configuration needs. */
  get cfnTable(): CfnTable {
    return this.table.node.defaultChild as CfnTable;
  }

  /**
   * Let a role read the `events` table through Athena (Athena reads the
   * catalog and the objects with the caller's credentials).
   */
  grantQuery(role: IRole): void {
    role.addManagedPolicy(this.queryPolicy);
  }
}
