import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATE_TABLE } from '../lambdas/contract/state-table.ts';

export interface StateTableProps {
  /**
   * Refuse to delete the table (console, API or a stack update that replaces it).
   *
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The one DynamoDB table of featurelake state (environments, keys, catalog,
 * jobs), laid out as STATE_TABLE in lambdas/core/contract.ts says: `pk`/`sk`,
 * two sparse key-lookup GSIs, TTL on `expires_at`. Encrypted with its own
 * rotating KMS key so that an operator can see and cut off every read.
 */
export class StateTable extends Construct {
  readonly table: TableV2;
  readonly encryptionKey: Key;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.encryptionKey = new Key(this, 'Key', {
      description: 'featurelake state table encryption',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const lookupIndex = (index: { indexName: string; partitionKey: string }) => ({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
    });
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: STATE_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: AttributeType.STRING },
      // Sparse: only items that carry the attribute appear. Projection ALL
      // (the default) so a lookup returns the whole item in one read.
      globalSecondaryIndexes: [lookupIndex(STATE_TABLE.byTrackingKey), lookupIndex(STATE_TABLE.byApiKeyHash)],
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryptionV2.customerManagedKey(this.encryptionKey),
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /**
   * What the tracking API needs and nothing more: Query on the two key indexes
   * (`by-tracking-key`, and `by-api-key-hash` for a server SDK's secret key) to
   * resolve a key to its environment, and decrypt through DynamoDB with the
   * table's key. No GetItem on the table itself: no other item is readable.
   */
  grantKeyLookups(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [
          `${this.table.tableArn}/index/${STATE_TABLE.byTrackingKey.indexName}`,
          `${this.table.tableArn}/index/${STATE_TABLE.byApiKeyHash.indexName}`,
        ],
      }),
    );
    this.grantKeyUseThroughDynamoDb(grantee, ['kms:Decrypt', 'kms:DescribeKey']);
  }

  /** Read and write items and query both indexes (the admin API). */
  grantReadWrite(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:ConditionCheckItem',
          'dynamodb:DescribeTable',
        ],
        resources: [
          this.table.tableArn,
          ...[STATE_TABLE.byTrackingKey, STATE_TABLE.byApiKeyHash].map(
            (index) => `${this.table.tableArn}/index/${index.indexName}`,
          ),
        ],
      }),
    );
    this.grantKeyUseThroughDynamoDb(grantee, ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
  }

  /**
   * Scan the `by-tracking-key` index, which holds exactly the environments (it is
   * sparse: no other item carries a tracking key): the daily facts build lists the
   * environments it runs over. Only that index; Decrypt through DynamoDB is given by
   * the grant this one comes with (grantReadWrite).
   */
  grantListEnvironments(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Scan'],
        resources: [`${this.table.tableArn}/index/${STATE_TABLE.byTrackingKey.indexName}`],
      }),
    );
  }

  /** The key is usable only by way of DynamoDB, never directly. */
  private grantKeyUseThroughDynamoDb(grantee: IGrantable, actions: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions,
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${this.table.stack.region}.amazonaws.com` } },
      }),
    );
  }
}
