import { Construct } from 'constructs';
import type { EventStream } from './event-stream.ts';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface TrackingApiHandlerProps {
  /** Where accepted calls go. */
  readonly eventStream: EventStream;
  /** Where tracking keys and API-key hashes are resolved to environments. */
  readonly stateTable: StateTable;
}

/**
 * The tracking Lambda (seed 001, and what the SDKs call: DESIGN "Tracking: SDK
 * wire compatibility"). It may put records on the one delivery stream and look a
 * key up in the two key indexes (tracking key; API key by hash, for server SDKs);
 * it can read no other item, write nothing in DynamoDB, and touch no bucket: the
 * public, most-called endpoint holds the least.
 */
export class TrackingApiHandler extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: TrackingApiHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'tracking',
      memorySize: 512,
      settings: {
        stateTable: props.stateTable.tableName,
        eventStream: props.eventStream.deliveryStreamName,
      },
    });
    props.eventStream.grantPutRecords(this.handler.role);
    props.stateTable.grantKeyLookups(this.handler.role);
  }
}
