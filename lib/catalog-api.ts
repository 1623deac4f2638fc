import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface CatalogApiHandlerProps {
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
      settings: { stateTable: props.stateTable.tableName },
    });
    props.stateTable.grantReadWrite(this.handler.role);
  }
}
