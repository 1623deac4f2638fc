import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { AdminToken } from './admin-token.ts';
import type { ExportSecretsKey } from './export-secrets-key.ts';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface AutomaticExportsApiHandlerProps {
  /** The admin token, which also opens this Lambda's `Token` routes (with the Featurelake-Environment header). */
  readonly adminToken: AdminToken;
  /** Where settings and API key hashes live. */
  readonly stateTable: StateTable;
  /** The key that seals the bucket secrets. */
  readonly secretsKey: ExportSecretsKey;
}

/**
 * The automatic exports settings Lambda (`PUT`/`GET /api/v1/company-exports/automatic`).
 * A save lists the customer's bucket with the customer's keys over the internet
 * (no AWS permission is involved: the keys are the customer's), seals the secret
 * with a new data key, and stores the settings. It opens a stored secret only to
 * check the bucket again when exports are switched back on. Nothing else: no
 * workflow, no bucket of ours.
 */
export class AutomaticExportsApiHandler extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: AutomaticExportsApiHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'automatic-exports',
      memorySize: 512,
      // The bucket check may wait up to 5 s to connect and 10 s for the answer.
      timeout: Duration.seconds(29),
      settings: {
        stateTable: props.stateTable.tableName,
        adminSecretArn: props.adminToken.secretArn,
        exportSecretsKeyArn: props.secretsKey.keyArn,
      },
    });
    const role = this.handler.role;
    props.stateTable.grantReadWrite(role);
    props.adminToken.grantRead(role);
    props.secretsKey.grantSeal(role);
    props.secretsKey.grantOpen(role);
  }
}
