import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IRole, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  COMPANY_EXPORT_RETENTION_DAYS,
  EVENTS_EXPORTS_PREFIX,
  FILES_VISIBLE_DAYS,
  RUN_TIME_LIMIT_SECONDS,
} from '../lambdas/contract/exports.ts';

/**
 * Where company export CSVs live in the exports bucket: every key
 * companyExportCsvKey makes starts with it (`company-exports/<env>/<job>.csv`;
 * an infra test holds the two together). Grants and the expiry rule are
 * scoped to it.
 */
export const COMPANY_EXPORTS_PREFIX = 'company-exports/';

/**
 * Days after which S3 deletes an events export file (under EVENTS_EXPORTS_PREFIX).
 * Seed 002 keeps files 2 days after the job *completes*, but a lifecycle rule
 * counts from each object's creation and rounds up to the next midnight UTC. A
 * file is written at most RUN_TIME_LIMIT_SECONDS (the state machine's timeout,
 * 6 hours) before its job completes, so creation + 2 days could fall before
 * completion + 2 days; one more day (the run limit rounded up to whole days)
 * never does. The API stops listing and signing a file at exactly 2 days
 * (downloadableFiles), so the extra day is never visible to a client.
 */
export const EVENTS_EXPORT_FILE_RETENTION_DAYS = FILES_VISIBLE_DAYS + Math.ceil(RUN_TIME_LIMIT_SECONDS / 86_400);

export interface ExportsBucketProps {
  /** Bucket that receives the exports bucket's S3 server access logs. */
  readonly accessLogsBucket: IBucket;
}

/**
 * The bucket export files are downloaded from, through presigned URLs that the
 * API signs when a job is read. Files are the product's output, derived from
 * the lake and reproducible by running the export again, so they expire:
 * company export CSVs after COMPANY_EXPORT_RETENTION_DAYS, the time a finished
 * job stays readable; events export files (seed 002) after
 * EVENTS_EXPORT_FILE_RETENTION_DAYS.
 */
export class ExportsBucket extends Construct {
  readonly bucket: Bucket;
  /**
   * Write company export files, multipart included (CreateMultipartUpload,
   * UploadPart and CompleteMultipartUpload are all s3:PutObject), and clean up
   * a failed upload; nothing outside `company-exports/`, and no read. Managed
   * policies here, beside the bucket, that consumer stacks attach to roles.
   */
  readonly companyExportsWritePolicy: ManagedPolicy;
  /**
   * s3:GetObject on company export files: what a presigned download URL
   * needs, since S3 checks the signer's permissions when the URL is used.
   */
  readonly companyExportsReadPolicy: ManagedPolicy;
  /**
   * Write events export files: s3:PutObject (which also covers the multipart
   * calls lib-storage's Upload makes: Create, UploadPart, Complete) and
   * s3:AbortMultipartUpload, which Upload calls when a stream fails. Nothing
   * outside `events-exports/`, and no read.
   */
  readonly eventsExportsWritePolicy: ManagedPolicy;
  /** s3:GetObject on events export files, for presigned download URLs. */
  readonly eventsExportsReadPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ExportsBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      // SSE-S3: a presigned GET needs no KMS grant for the signer's role, and
      // the downloader (who holds no AWS identity) is served decrypted bytes.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-company-exports',
          prefix: COMPANY_EXPORTS_PREFIX,
          // S3 expires an object at the first midnight UTC after this many days
          // from its creation, so a file always outlives its job's readability.
          expiration: Duration.days(COMPANY_EXPORT_RETENTION_DAYS),
        },
        {
          id: 'expire-events-exports',
          prefix: EVENTS_EXPORTS_PREFIX,
          expiration: Duration.days(EVENTS_EXPORT_FILE_RETENTION_DAYS),
        },
        // A publish step that dies mid-upload leaves parts that are billed but invisible.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'exports/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const companyExportObjects = this.bucket.arnForObjects(`${COMPANY_EXPORTS_PREFIX}*`);
    this.companyExportsWritePolicy = new ManagedPolicy(this, 'CompanyExportsWritePolicy', {
      description: 'Write featurelake company export files',
      statements: [
        new PolicyStatement({
          actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [companyExportObjects],
        }),
      ],
    });
    this.companyExportsReadPolicy = new ManagedPolicy(this, 'CompanyExportsReadPolicy', {
      description: 'Read (and presign downloads of) featurelake company export files',
      statements: [new PolicyStatement({ actions: ['s3:GetObject'], resources: [companyExportObjects] })],
    });

    const eventsExportObjects = this.bucket.arnForObjects(`${EVENTS_EXPORTS_PREFIX}*`);
    this.eventsExportsWritePolicy = new ManagedPolicy(this, 'EventsExportsWritePolicy', {
      description: 'Write featurelake events export files',
      statements: [
        new PolicyStatement({
          actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
          resources: [eventsExportObjects],
        }),
      ],
    });
    this.eventsExportsReadPolicy = new ManagedPolicy(this, 'EventsExportsReadPolicy', {
      description: 'Read (and presign downloads of) featurelake events export files',
      statements: [new PolicyStatement({ actions: ['s3:GetObject'], resources: [eventsExportObjects] })],
    });
  }

  get bucketName(): string {
    return this.bucket.bucketName;
  }

  /** Let a role write company export files (see companyExportsWritePolicy). */
  grantWriteCompanyExports(role: IRole): void {
    role.addManagedPolicy(this.companyExportsWritePolicy);
  }

  /** Let a role read, and so presign downloads of, company export files. */
  grantReadCompanyExports(role: IRole): void {
    role.addManagedPolicy(this.companyExportsReadPolicy);
  }

  /** Let a role write events export files (see eventsExportsWritePolicy). */
  grantWriteEventsExports(role: IRole): void {
    role.addManagedPolicy(this.eventsExportsWritePolicy);
  }

  /** Let a role read, and so presign downloads of, events export files. */
  grantReadEventsExports(role: IRole): void {
    role.addManagedPolicy(this.eventsExportsReadPolicy);
  }
}
