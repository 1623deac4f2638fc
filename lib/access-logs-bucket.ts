import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface AccessLogsBucketProps {
  /**
   * How long server access logs are kept.
   *
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
}

/**
 * The bucket that receives S3 server access logs of every other featurelake
 * bucket (lake, Athena results), each under its own prefix.
 */
export class AccessLogsBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps = {}) {
    super(scope, id);
    const retention = props.retention ?? Duration.days(365);
    if (!retention.isUnresolved() && retention.toDays() < 1) {
      throw new Error(`AccessLogsBucket: retention must be at least one day, got ${retention.toHumanString()}`);
    }
    this.bucket = new Bucket(this, 'Bucket', {
      // S3 log delivery only writes to SSE-S3 buckets, not SSE-KMS ones.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: retention }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
