import { Construct } from 'constructs';
import type { AdminToken } from './admin-token.ts';
import type { DownloadLinkKey } from './download-link-key.ts';
import type { ExportWorkflow } from './export-workflow.ts';
import type { ExportsBucket } from './exports-bucket.ts';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface CompanyExportsApiHandlerProps {
  /** The admin token, which also opens this Lambda's `Token` routes (with the Featurelake-Environment header). */
  readonly adminToken: AdminToken;
  /** Where jobs and API key hashes live. */
  readonly stateTable: StateTable;
  /** The workflow `POST /api/v1/company-exports` starts. */
  readonly workflow: ExportWorkflow;
  /** Where finished exports are downloaded from. */
  readonly exports: ExportsBucket;
  /** Signs a job's `download_url`, and checks it at the file route. */
  readonly downloadLinkKey: DownloadLinkKey;
  /** featurelake's public base URL, which the links start with. May be a lazy value. */
  readonly publicApiUrl: string;
}

/**
 * The company exports Lambda: starts a job (a state table item and one
 * execution of the company export workflow) and reads it back with a signed
 * download link, which its file route checks before redirecting to a freshly
 * presigned S3 URL (so this role reads the download-link key). A presigned GET is checked against the signer's
 * permissions when it is used, so this role reads company export files; it
 * cannot write them, nor run queries.
 */
export class CompanyExportsApiHandler extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: CompanyExportsApiHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'company-exports',
      memorySize: 512,
      settings: {
        stateTable: props.stateTable.tableName,
        adminSecretArn: props.adminToken.secretArn,
        exportsBucket: props.exports.bucketName,
        companyExportStateMachineArn: props.workflow.stateMachineArn,
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
    props.exports.grantReadCompanyExports(role);
  }
}
