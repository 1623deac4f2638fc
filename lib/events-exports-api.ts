import { Construct } from 'constructs';
import type { AdminToken } from './admin-token.ts';
import type { DownloadLinkKey } from './download-link-key.ts';
import type { ExportWorkflow } from './export-workflow.ts';
import type { ExportsBucket } from './exports-bucket.ts';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface EventsExportsApiHandlerProps {
  /** The admin token, which also opens this Lambda's `Token` routes (with the Featurelake-Environment header). */
  readonly adminToken: AdminToken;
  /** Where jobs, the one-job locks, segments and API key hashes live. */
  readonly stateTable: StateTable;
  /** The workflow `POST /api/v1/analytics/exports` starts. */
  readonly workflow: ExportWorkflow;
  /** Where the weekly files are downloaded from. */
  readonly exports: ExportsBucket;
  /** Signs the files' links in a job's `presigned_urls`, and checks them at the file route. */
  readonly downloadLinkKey: DownloadLinkKey;
  /** featurelake's public base URL, which the links start with. May be a lazy value. */
  readonly publicApiUrl: string;
}

/**
 * The bulk raw-event export API Lambda (seed 002's routes and the file
 * redirect): takes the environment's one-job lock and starts an execution of
 * the events export workflow, lists jobs, signs each file's download link
 * when a job is read, and checks a link (or the API key) at the file route
 * before redirecting to a freshly presigned S3 URL. A presigned GET is checked
 * against the signer's permissions when it is used, so this role reads events
 * export files; it cannot write them, nor run queries. It reads the
 * download-link key.
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
        adminSecretArn: props.adminToken.secretArn,
        exportsBucket: props.exports.bucketName,
        eventsExportStateMachineArn: props.workflow.stateMachineArn,
        publicApiUrl: props.publicApiUrl,
        downloadLinkSecretArn: props.downloadLinkKey.secretArn,
      },
    });
    const role = this.handler.role;
    props.stateTable.grantReadWrite(role);
    props.adminToken.grantRead(role);
    props.workflow.grantStartExecution(role);
    props.workflow.grantDescribeExecutions(role);
    props.downloadLinkKey.grantRead(role);
    props.exports.grantReadEventsExports(role);
  }
}
