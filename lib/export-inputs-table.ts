import { Duration, Stack } from 'aws-cdk-lib';
import { DataFormat, S3Table, S3TableStorage, Schema, type Type } from 'aws-cdk-lib/aws-glue';
import { type IRole, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  EXPORT_INPUT_COLUMNS,
  EXPORT_INPUTS_RETENTION_DAYS,
  EXPORT_INPUTS_TABLE_NAME,
  type ExportInputColumn,
} from '../lambdas/contract/export-inputs.ts';
import type { EventLake } from './event-lake.ts';

/** Where the `export_inputs` table's objects live in the lake bucket. */
export const EXPORT_INPUTS_PREFIX = `${EXPORT_INPUTS_TABLE_NAME}/`;

/** The Glue type of each input column type (exhaustive: a new type fails to compile here). */
const GLUE_TYPES: Record<ExportInputColumn['type'], Type> = {
  string: Schema.STRING,
  int: Schema.INTEGER,
};

export interface ExportInputsTableProps {
  /** The lake whose bucket holds the inputs files and whose database holds the table. */
  readonly lake: EventLake;
  /**
   * How long a job's inputs file is kept. The rollup query reads it within the
   * job's run (at most an hour); the rest is time to look at a failed job.
   *
   * @default Duration.days(EXPORT_INPUTS_RETENTION_DAYS) (7)
   */
  readonly retention?: Duration;
}

/**
 * The Glue table `export_inputs`: per job, the catalog snapshot and output dates
 * the rollup query joins with the events (Athena takes `?` parameters only in
 * WHERE clauses, so these travel as rows, never as SQL text). The export step
 * writes them as JSON lines to `export_inputs/<job id>.json` in the lake
 * bucket, each row with its `job_id`; the columns come from EXPORT_INPUT_COLUMNS,
 * the list the local DuckDB view reads too. Unpartitioned, so no crawler or MSCK
 * REPAIR is needed and `WHERE job_id = ?` is valid whether or not Athena reads an
 * execution parameter as a constant (lambdas/contract/export-inputs.ts says why).
 */
export class ExportInputsTable extends Construct {
  readonly table: S3Table;
  /**
   * What reading the table through Athena needs: its Glue entries and the
   * objects under `export_inputs/`. A managed policy here, beside the data,
   * that consumer stacks attach to their roles.
   */
  readonly queryPolicy: ManagedPolicy;
  /**
   * s3:PutObject under `export_inputs/` and nothing else in the lake: the
   * writer (one PutObject per job) can neither read the files nor touch `events/`.
   */
  readonly writePolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ExportInputsTableProps) {
    super(scope, id);
    const retention = props.retention ?? Duration.days(EXPORT_INPUTS_RETENTION_DAYS);
    if (!retention.isUnresolved() && retention.toDays() < 1) {
      throw new Error(`ExportInputsTable: retention must be at least one day, got ${retention.toHumanString()}`);
    }
    const { bucket, database } = props.lake;

    this.table = new S3Table(this, 'Table', {
      database,
      tableName: EXPORT_INPUTS_TABLE_NAME,
      description: 'Per export job: the catalog snapshot and output dates the rollup query joins with the events',
      storage: S3TableStorage.fromBucket(bucket),
      s3Prefix: EXPORT_INPUTS_PREFIX,
      // JSON lines read with org.openx.data.jsonserde.JsonSerDe.
      dataFormat: DataFormat.JSON,
      columns: EXPORT_INPUT_COLUMNS.map((column) => ({
        name: column.name,
        type: GLUE_TYPES[column.type],
        comment: column.comment,
      })),
      // SSE-S3 like the rest of the lake bucket, which S3 undoes transparently.
      hasEncryptedData: false,
    });

    bucket.addLifecycleRule({ id: 'expire-export-inputs', prefix: EXPORT_INPUTS_PREFIX, expiration: retention });

    const objects = bucket.arnForObjects(`${EXPORT_INPUTS_PREFIX}*`);
    const stack = Stack.of(this);
    this.queryPolicy = new ManagedPolicy(this, 'QueryPolicy', {
      description: 'Query the featurelake export_inputs table through Athena',
      statements: [
        new PolicyStatement({
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
          resources: [
            stack.formatArn({ service: 'glue', resource: 'catalog' }),
            database.databaseArn,
            this.table.tableArn,
          ],
        }),
        new PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket'],
          resources: [bucket.bucketArn],
        }),
        new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }),
      ],
    });
    this.writePolicy = new ManagedPolicy(this, 'WritePolicy', {
      description: 'Write featurelake export_inputs files',
      statements: [new PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] })],
    });
  }

  /**
   * Let a role read the table through Athena (Athena reads the catalog and the
   * objects with the caller's credentials).
   */
  grantQuery(role: IRole): void {
    role.addManagedPolicy(this.queryPolicy);
  }

  /** Let a role write inputs files (see writePolicy). */
  grantWriteInputs(role: IRole): void {
    role.addManagedPolicy(this.writePolicy);
  }
}
