import { Construct } from 'constructs';
import type { EventStream } from './event-stream.ts';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface TrackingApiHandlerProps {
  /** Where accepted calls go. */
  readonly eventStream: EventStream;
  /** Where tracking keys are resolved to environments. */
  readonly stateTable: StateTable;
}

/**
 * The tracking Lambda (seed 001). It may put records on the one delivery
 * stream and look a tracking key up in its index; it can read no other item,
 * write nothing in DynamoDB, and touch no bucket: the public, most-called
 * endpoint holds the least.
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
    props.stateTable.grantTrackingKeyLookup(this.handler.role);
  }
}
