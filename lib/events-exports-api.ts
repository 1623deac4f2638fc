import { Construct } from 'constructs';
import type { ExportWorkflow } from './export-workflow.ts';
import type { ExportsBucket } from './exports-bucket.ts';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface EventsExportsApiHandlerProps {
  /** Where jobs, the one-job locks, segments and API key hashes live. */
  readonly stateTable: StateTable;
  /** The workflow `POST /api/v1/analytics/exports` starts. */
  readonly workflow: ExportWorkflow;
  /** Where the weekly files are downloaded from. */
  readonly exports: ExportsBucket;
}

/**
 * The bulk raw-event export API Lambda (seed 002's routes and the file
 * redirect): takes the environment's one-job lock and starts an execution of
 * the events export workflow, lists jobs, and signs download URLs when a job
 * or a file is read. A presigned GET is checked against the signer's
 * permissions when it is used, so this role reads events export files; it
 * cannot write them, nor run queries.
 */
export class EventsExportsApiHandler extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: EventsExportsApiHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'events-exports',
      memorySize: 512,
      settings: {
        stateTable: props.stateTable.tableName,
        exportsBucket: props.exports.bucketName,
        eventsExportStateMachineArn: props.workflow.stateMachineArn,
      },
    });
    const role = this.handler.role;
    props.stateTable.grantReadWrite(role);
    props.workflow.grantStartExecution(role);
    props.workflow.grantDescribeExecutions(role);
    props.exports.grantReadEventsExports(role);
  }
}
