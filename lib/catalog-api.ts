import { Construct } from 'constructs';
import type { AdminToken } from './admin-token.ts';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface CatalogApiHandlerProps {
  /** The admin token, which also opens this Lambda's `Token` routes (with the Featurelake-Environment header). */
  readonly adminToken: AdminToken;
  /** Where features, segments, exclusions and API key hashes live. */
  readonly stateTable: StateTable;
}

/**
 * The catalog Lambda: features, segments and exclusions behind `Token` auth.
 * It reads and writes the state table (the key lookup index included) and
 * holds nothing else: no bucket, no query, no workflow.
 */
export class CatalogApiHandler extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: CatalogApiHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'catalog',
      memorySize: 512,
      settings: { stateTable: props.stateTable.tableName, adminSecretArn: props.adminToken.secretArn },
    });
    props.stateTable.grantReadWrite(this.handler.role);
    props.adminToken.grantRead(this.handler.role);
  }
}
