import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRootPrincipal,
  AnyPrincipal,
  Effect,
  type IGrantable,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { AUTOMATIC_EXPORT_SECRET_PURPOSE } from '../lambdas/contract/exports.ts';

/** The encryption context key every use of the key must carry (KmsSecretBox sets it). */
const PURPOSE_CONDITION = 'kms:EncryptionContext:purpose';

/**
 * The KMS key that seals the secret access keys customers give for automatic
 * exports (envelope encryption: a data key per secret, AES-256-GCM, in
 * lambdas/adapters/aws/kms-secret-box.ts). A key of its own, not the state
 * table's: the table's key is usable only through DynamoDB, and this one only
 * by the two roles granted here, and only with the automatic-export encryption
 * context (the key policy refuses every cryptographic use without it).
 *
 * The key policy leaves administration to the account (without that statement
 * the key could become unmanageable) and delegates use to IAM: the grants are
 * on the roles, in the API stack, since a key policy naming those roles would
 * make the data stack depend on the API stack.
 */
export class ExportSecretsKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'featurelake: seals the secret access keys of automatic-export buckets',
      enableKeyRotation: true,
      // Deleting the key would make every stored bucket secret unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'AccountAdministersTheKeyAndDelegatesUseToIam',
            principals: [new AccountRootPrincipal()],
            actions: ['kms:*'],
            resources: ['*'],
          }),
          new PolicyStatement({
            sid: 'OnlyForAutomaticExportSecrets',
            effect: Effect.DENY,
            principals: [new AnyPrincipal()],
            actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
            resources: ['*'],
            // A missing context key also matches StringNotEquals: use without the context is refused too.
            conditions: { StringNotEquals: { [PURPOSE_CONDITION]: AUTOMATIC_EXPORT_SECRET_PURPOSE } },
          }),
        ],
      }),
    });
  }

  get keyArn(): string {
    return this.key.keyArn;
  }

  /** kms:GenerateDataKey on this key, with the automatic-export context only: seal new secrets. */
  grantSeal(grantee: IGrantable): void {
    this.grant(grantee, 'kms:GenerateDataKey');
  }

  /** kms:Decrypt on this key, with the automatic-export context only: open stored secrets. */
  grantOpen(grantee: IGrantable): void {
    this.grant(grantee, 'kms:Decrypt');
  }

  private grant(grantee: IGrantable, action: string): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [action],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { [PURPOSE_CONDITION]: AUTOMATIC_EXPORT_SECRET_PURPOSE } },
      }),
    );
  }
}
