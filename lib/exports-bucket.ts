import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IRole, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMPANY_EXPORT_RETENTION_DAYS } from '../lambdas/core/company-export-job.ts';

/**
 * Where company export CSVs live in the exports bucket: every key
 * companyExportCsvKey makes starts with it (`company-exports/<env>/<job>.csv`;
 * an infra test holds the two together). Grants and the expiry rule are
 * scoped to it.
 */
export const COMPANY_EXPORTS_PREFIX = 'company-exports/';

export interface ExportsBucketProps {
  /** Bucket that receives the exports bucket's S3 server access logs. */
  readonly accessLogsBucket: IBucket;
}

/**
 * The bucket export files are downloaded from, through presigned URLs that the
 * API signs when a job is read. Files are the product's output, derived from
 * the lake and reproducible by running the export again, so they expire:
 * company export CSVs after COMPANY_EXPORT_RETENTION_DAYS, the time a finished
 * job stays readable.
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
}
