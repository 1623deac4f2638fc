import { Stack } from 'aws-cdk-lib';
import {
  DataFormat,
  PartitionProjectionConfiguration,
  S3Table,
  S3TableStorage,
  Schema,
  type Type,
} from 'aws-cdk-lib/aws-glue';
import { type IRole, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  COMPANY_FACT_COLUMNS,
  COMPANY_FACT_PARTITION_COLUMNS,
  COMPANY_FACTS_TABLE_NAME,
} from '../lambdas/contract/facts.ts';
import { LAKE_SHARDS, type LakeColumn, type LakeColumnType } from '../lambdas/contract/lake.ts';
import type { EventLake } from './event-lake.ts';

/** Where the `company_facts` table's objects live in the lake bucket. */
export const COMPANY_FACTS_PREFIX = `${COMPANY_FACTS_TABLE_NAME}/`;

/** The Glue type of each lake column type (exhaustive: a new type fails to compile here). */
const GLUE_TYPES: Record<LakeColumnType, Type> = {
  string: Schema.STRING,
  int: Schema.INTEGER,
  boolean: Schema.BOOLEAN,
  timestamp: Schema.TIMESTAMP,
};

const glueColumn = (column: LakeColumn) => ({
  name: column.name,
  type: GLUE_TYPES[column.type],
  comment: column.comment,
});

export interface FactsTablesProps {
  /** The lake whose bucket holds the facts and whose database holds their table. */
  readonly lake: EventLake;
}

/**
 * The daily facts in the lake (DESIGN "Daily facts"; lambdas/contract/facts.ts): the
 * Glue table `company_facts` over `company_facts/shard=<0..63>/<app_id>/<build_id>/`
 * in the lake bucket, Parquet, its columns and partition key from the same lists the
 * local lake and the build read. `shard` is projected 0..63 like the events table's
 * (an enumerable range, so every query is valid with its value a literal or an
 * execution parameter); a build's folder lies under its shard's partition, and which
 * build of a day is current is the manifest's say (in the state table), never the
 * layout's. Facts are rebuilt from events whenever needed: nothing here is a record
 * of its own, and superseded builds are deleted by the workflow's cleanup step.
 *
 * Three grants, each the least its holder needs: query (Glue entries, read the
 * objects), write (the build's UNLOAD: put objects under the prefix) and delete
 * (cleanup: list the prefix, delete objects under it).
 */
export class FactsTables extends Construct {
  readonly table: S3Table;
  /** Read the table through Athena: its Glue entries and the objects under `company_facts/`. */
  readonly queryPolicy: ManagedPolicy;
  /** Athena's UNLOAD writes a build's files with the caller's credentials: put under `company_facts/` only. */
  readonly writePolicy: ManagedPolicy;
  /** Cleanup lists one environment's build folders and deletes superseded builds: under `company_facts/` only. */
  readonly deletePolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: FactsTablesProps) {
    super(scope, id);
    const { bucket, database } = props.lake;
    const location = `s3://${bucket.bucketName}/${COMPANY_FACTS_PREFIX}`;
    const [{ name: shardKey }] = COMPANY_FACT_PARTITION_COLUMNS;
    this.table = new S3Table(this, 'CompanyFactsTable', {
      database,
      tableName: COMPANY_FACTS_TABLE_NAME,
      description:
        'Daily facts per environment and day (the company export reads the current builds the manifest names)',
      storage: S3TableStorage.fromBucket(bucket),
      s3Prefix: COMPANY_FACTS_PREFIX,
      dataFormat: DataFormat.PARQUET,
      columns: COMPANY_FACT_COLUMNS.map(glueColumn),
      partitionKeys: COMPANY_FACT_PARTITION_COLUMNS.map(glueColumn),
      // SSE-S3 like the rest of the lake bucket, which S3 undoes transparently.
      hasEncryptedData: false,
      partitionProjection: {
        [shardKey]: PartitionProjectionConfiguration.integer({ min: 0, max: LAKE_SHARDS - 1 }),
      },
      parameters: { 'storage.location.template': `${location}${shardKey}=\${${shardKey}}/` },
    });

    const objects = bucket.arnForObjects(`${COMPANY_FACTS_PREFIX}*`);
    const stack = Stack.of(this);
    this.queryPolicy = new ManagedPolicy(this, 'QueryPolicy', {
      description: 'Query the featurelake company_facts table through Athena',
      statements: [
        new PolicyStatement({
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
          resources: [
            stack.formatArn({ service: 'glue', resource: 'catalog' }),
            database.databaseArn,
            this.table.tableArn,
          ],
        }),
        new PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket'], resources: [bucket.bucketArn] }),
        new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }),
      ],
    });
    this.writePolicy = new ManagedPolicy(this, 'WritePolicy', {
      description: 'Write featurelake company_facts builds (Athena UNLOAD with the caller credentials)',
      statements: [
        new PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [bucket.bucketArn],
        }),
        new PolicyStatement({
          actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [objects],
        }),
      ],
    });
    this.deletePolicy = new ManagedPolicy(this, 'DeletePolicy', {
      description: 'List and delete superseded featurelake company_facts builds',
      statements: [
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${COMPANY_FACTS_PREFIX}*`] } },
        }),
        new PolicyStatement({ actions: ['s3:DeleteObject'], resources: [objects] }),
      ],
    });
  }

  /** Let a role read the facts through Athena (Athena reads the catalog and the objects with the caller's credentials). */
  grantQuery(role: IRole): void {
    role.addManagedPolicy(this.queryPolicy);
  }

  /** Let a role write build files (the facts workflow's role: its Athena UNLOAD writes with it). */
  grantWriteBuilds(role: IRole): void {
    role.addManagedPolicy(this.writePolicy);
  }

  /** Let a role list and delete build files (the facts steps Lambda's cleanup). */
  grantDeleteBuilds(role: IRole): void {
    role.addManagedPolicy(this.deletePolicy);
  }
}
