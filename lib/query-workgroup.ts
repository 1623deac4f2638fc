import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { type IRole, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Athena's own floor for a per-query data usage control. */
export const MIN_SCAN_LIMIT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_SCAN_LIMIT_BYTES = 10 * 1024 ** 3;

/** Key prefix of query results in the results bucket (an object key, so no trailing slash). */
const RESULTS_PREFIX = 'results';

export interface QueryWorkgroupProps {
  /** Bucket that receives the results bucket's S3 server access logs. */
  readonly accessLogsBucket: IBucket;
  /**
   * Athena cancels any query that scans more than this many bytes. Protects the
   * bill from a runaway `POST /admin/v1/sql` or export.
   *
   * @default DEFAULT_SCAN_LIMIT_BYTES (10 GiB)
   */
  readonly bytesScannedCutoffPerQuery?: number;
  /**
   * Workgroup name (letters, digits, `.`, `_` and `-`).
   *
   * @default 'featurelake'
   */
  readonly workgroupName?: string;
  /**
   * How long query result files are kept. Exports copy what they need, so
   * results are only scratch space.
   *
   * @default Duration.days(7)
   */
  readonly resultsRetention?: Duration;
}

/**
 * The Athena workgroup every featurelake query runs in: engine v3, its own
 * encrypted results bucket, and a per-query scan limit that clients cannot
 * override (the workgroup configuration is enforced).
 */
export class QueryWorkgroup extends Construct {
  readonly resultsBucket: Bucket;
  readonly workgroup: CfnWorkGroup;
  readonly workgroupName: string;
  /**
   * Running queries here and reading their results: a managed policy beside
   * the workgroup that consumer stacks attach to their roles.
   */
  readonly queryExecutionPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: QueryWorkgroupProps) {
    super(scope, id);
    const scanLimit = props.bytesScannedCutoffPerQuery ?? DEFAULT_SCAN_LIMIT_BYTES;
    if (!Number.isSafeInteger(scanLimit) || scanLimit < MIN_SCAN_LIMIT_BYTES) {
      throw new Error(
        `QueryWorkgroup: bytesScannedCutoffPerQuery must be a whole number of bytes, at least ${MIN_SCAN_LIMIT_BYTES} (10 MiB, Athena's minimum); got ${scanLimit}`,
      );
    }
    this.workgroupName = props.workgroupName ?? 'featurelake';
    if (!/^[a-zA-Z0-9._-]{1,128}$/.test(this.workgroupName)) {
      throw new Error(
        `QueryWorkgroup: workgroupName "${this.workgroupName}" may only hold letters, digits, ".", "_" and "-" (at most 128)`,
      );
    }

    this.resultsBucket = new Bucket(this, 'ResultsBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'expire-results', expiration: props.resultsRetention ?? Duration.days(7) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'athena-results/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.workgroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: this.workgroupName,
      description: 'featurelake queries over the event lake',
      // Deleting the workgroup (stack delete or rename) also drops its saved
      // queries and history; the data and results live in buckets we retain.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: scanLimit,
        publishCloudWatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: this.resultsBucket.s3UrlForObject(`${RESULTS_PREFIX}/`),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Stack.of(this).account,
        },
      },
    });

    this.queryExecutionPolicy = new ManagedPolicy(this, 'QueryExecutionPolicy', {
      description: 'Run queries in the featurelake Athena workgroup and read their results',
      statements: [
        new PolicyStatement({
          actions: [
            'athena:StartQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:StopQueryExecution',
            'athena:GetWorkGroup',
          ],
          resources: [this.workgroupArn],
        }),
        // Athena writes the results with the caller's credentials.
        new PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [this.resultsBucket.bucketArn],
        }),
        new PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [this.resultsBucket.arnForObjects(`${RESULTS_PREFIX}/*`)],
        }),
      ],
    });
  }

  get workgroupArn(): string {
    return Stack.of(this).formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workgroupName });
  }

  /**
   * Let a role run queries in this workgroup and read their results. Access to
   * the data being queried is granted by the lake (EventLake.grantQuery).
   */
  grantQueryExecution(role: IRole): void {
    role.addManagedPolicy(this.queryExecutionPolicy);
  }
}
