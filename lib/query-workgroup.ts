import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { type IRole, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Athena's own floor for a per-query data usage control. */
export const MIN_SCAN_LIMIT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_SCAN_LIMIT_BYTES = 10 * 1024 ** 3;

/** Where query results go in the results bucket unless a workgroup says otherwise. */
const DEFAULT_RESULTS_PREFIX = 'results/';

export interface QueryWorkgroupProps {
  /**
   * Bucket that receives the results bucket's S3 server access logs. Required
   * when the workgroup creates its own results bucket.
   *
   * @default none: give `resultsBucket` instead
   */
  readonly accessLogsBucket?: IBucket;
  /**
   * Write results into this bucket (another workgroup's) instead of a new one.
   * Each workgroup keeps its own `resultsPrefix`, so each role is granted only
   * its own workgroup's results.
   *
   * @default a new, private results bucket
   */
  readonly resultsBucket?: Bucket;
  /**
   * Key prefix, ending with `/`, under which Athena writes this workgroup's
   * results. The workgroup configuration is enforced, so this is where every
   * query's results go, whatever OutputLocation a client sends.
   *
   * @default 'results/'
   */
  readonly resultsPrefix?: string;
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
   * What the workgroup is for, shown in the Athena console.
   *
   * @default 'featurelake queries over the event lake'
   */
  readonly description?: string;
  /**
   * How long query result files are kept, when the workgroup creates its
   * results bucket. Exports copy what they need, so results are only scratch
   * space.
   *
   * @default Duration.days(7)
   */
  readonly resultsRetention?: Duration;
  /**
   * Expire this workgroup's results (its `resultsPrefix` only) after this
   * long, also in a shared results bucket: for a workload whose results are
   * read once within minutes or hours and can be large. Where the bucket's own
   * rule is shorter, S3 applies the shorter one.
   *
   * @default none: the results bucket's own rule applies
   */
  readonly resultsPrefixRetention?: Duration;
}

/**
 * An Athena workgroup featurelake queries run in: engine v3, encrypted results
 * under its own prefix of a private results bucket, and a per-query scan limit
 * that clients cannot override (the workgroup configuration is enforced).
 */
export class QueryWorkgroup extends Construct {
  readonly resultsBucket: Bucket;
  /** This workgroup's prefix of the results bucket, ending with `/`. */
  readonly resultsPrefix: string;
  readonly workgroup: CfnWorkGroup;
  readonly workgroupName: string;
  /**
   * Running queries here and reading their results: a managed policy beside
   * the workgroup that consumer stacks attach to their roles.
   */
  readonly queryExecutionPolicy: ManagedPolicy;
  private resultsReadPolicy: ManagedPolicy | undefined;

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

    this.resultsPrefix = props.resultsPrefix ?? DEFAULT_RESULTS_PREFIX;
    if (!/^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*\/$/.test(this.resultsPrefix)) {
      throw new Error(
        `QueryWorkgroup: resultsPrefix "${this.resultsPrefix}" must be lowercase path segments ending with "/", e.g. "results/"`,
      );
    }

    if (props.resultsBucket) {
      if (props.accessLogsBucket || props.resultsRetention) {
        throw new Error(
          'QueryWorkgroup: accessLogsBucket and resultsRetention configure a results bucket the workgroup creates; with a shared resultsBucket, set them where that bucket is made',
        );
      }
      this.resultsBucket = props.resultsBucket;
    } else {
      if (!props.accessLogsBucket) {
        throw new Error(
          'QueryWorkgroup: give accessLogsBucket (to create a results bucket) or resultsBucket (to share one)',
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
    }

    if (props.resultsPrefixRetention) {
      const retention = props.resultsPrefixRetention;
      const days = retention.isUnresolved() ? undefined : retention.toDays({ integral: false });
      if (days !== undefined && (days < 1 || !Number.isInteger(days))) {
        throw new Error(
          `QueryWorkgroup: resultsPrefixRetention must be a whole number of days, at least one (S3 lifecycle counts days), got ${retention.toHumanString()}`,
        );
      }
      this.resultsBucket.addLifecycleRule({
        id: `expire-${this.resultsPrefix.replace(/\/$/, '').replaceAll('/', '-')}-results`,
        prefix: this.resultsPrefix,
        expiration: retention,
      });
    }

    this.workgroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: this.workgroupName,
      description: props.description ?? 'featurelake queries over the event lake',
      // Deleting the workgroup (stack delete or rename) also drops its saved
      // queries and history; the data and results live in buckets we retain.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        // Enforced: a client can neither lift the scan limit nor send results
        // elsewhere. Athena then ignores a query's own OutputLocation, so a
        // workload that needs its results under another prefix gets its own
        // workgroup (resultsPrefix) rather than a per-query location.
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: scanLimit,
        publishCloudWatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: this.resultsBucket.s3UrlForObject(this.resultsPrefix),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Stack.of(this).account,
        },
      },
    });

    this.queryExecutionPolicy = new ManagedPolicy(this, 'QueryExecutionPolicy', {
      description: `Run queries in the ${this.workgroupName} Athena workgroup and read their results`,
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
          resources: [this.resultsObjectsArn],
        }),
      ],
    });
  }

  /** ARN pattern of this workgroup's result objects (`<results bucket>/<prefix>*`). */
  get resultsObjectsArn(): string {
    return this.resultsBucket.arnForObjects(`${this.resultsPrefix}*`);
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

  /**
   * s3:GetObject on this workgroup's result files only, for a role that reads
   * what a query run by someone else wrote (the export step that turns a
   * query's result into the export file). The managed policy is made on first
   * use, beside the workgroup.
   */
  grantReadResults(role: IRole): void {
    this.resultsReadPolicy ??= new ManagedPolicy(this, 'ResultsReadPolicy', {
      description: `Read the results of queries in the ${this.workgroupName} Athena workgroup`,
      statements: [new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.resultsObjectsArn] })],
    });
    role.addManagedPolicy(this.resultsReadPolicy);
  }
}
