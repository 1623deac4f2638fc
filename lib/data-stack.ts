import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import { COMPANY_EXPORT_RETENTION_DAYS } from '../lambdas/contract/exports.ts';
import type { ExportWorkflowSpecs } from '../lambdas/contract/workflow-spec.ts';
import { AccessLogsBucket } from './access-logs-bucket.ts';
import { AdminToken } from './admin-token.ts';
import { DownloadLinkKey } from './download-link-key.ts';
import { EventLake } from './event-lake.ts';
import { EventStream } from './event-stream.ts';
import { ExportInputsTable } from './export-inputs-table.ts';
import { ExportSecretsKey } from './export-secrets-key.ts';
import { EVENTS_EXPORT_FILE_RETENTION_DAYS, ExportsBucket } from './exports-bucket.ts';
import { QueryWorkgroup } from './query-workgroup.ts';
import { StateTable } from './state-table.ts';

export interface FeaturelakeDataStackProps extends StackProps {
  /** The export workflows: each one's workgroup enforces the results prefix its queries name. */
  readonly workflows: ExportWorkflowSpecs;
  /**
   * Per-query scan limit of the Athena workgroup, in bytes.
   *
   * @default DEFAULT_SCAN_LIMIT_BYTES (10 GiB)
   */
  readonly athenaScanLimitBytes?: number;
}

/** Name of the Athena workgroup the company export workflow queries in. */
export const COMPANY_EXPORT_WORKGROUP_NAME = 'featurelake-company-exports';
/** Name of the Athena workgroup the events export workflow's weekly queries run in. */
export const EVENTS_EXPORT_WORKGROUP_NAME = 'featurelake-events-exports';
/**
 * How long a weekly events query's result stays in the results bucket. The
 * write step reads it right after the query, within the run's 6 hours; a week
 * of a large environment's raw events is big, so it is not kept the 7 days
 * other results are.
 */
export const EVENTS_EXPORT_RESULTS_RETENTION_DAYS = 1;

/**
 * Everything that holds data: buckets, the Glue catalog, the state table, the
 * admin token, and the Firehose stream.
 *
 * The stream sits here rather than with the Lambdas because it is part of the
 * lake, not of the API: it holds accepted records for up to a minute (and up
 * to a day while S3 is unreachable), a replacement drops what it holds, and
 * its Parquet schema is bound to the Glue table. Keeping it beside the table
 * means an API deploy can never replace it, and the two change together.
 */
export class FeaturelakeDataStack extends Stack {
  readonly accessLogs: AccessLogsBucket;
  readonly lake: EventLake;
  readonly eventStream: EventStream;
  /** Where `POST /admin/v1/sql` queries run (results under `results/`). */
  readonly workgroup: QueryWorkgroup;
  /** Where the company export workflow's rollup queries run (results under `company-exports/`). */
  readonly companyExportWorkgroup: QueryWorkgroup;
  /** Where the events export workflow's weekly queries run (results under `events-exports/`). */
  readonly eventsExportWorkgroup: QueryWorkgroup;
  readonly exportInputs: ExportInputsTable;
  readonly exports: ExportsBucket;
  readonly stateTable: StateTable;
  readonly adminToken: AdminToken;
  /** Signs the download links the API returns and emails. */
  readonly downloadLinkKey: DownloadLinkKey;
  /** Seals the bucket secrets of automatic exports (stored in the state table). */
  readonly exportSecretsKey: ExportSecretsKey;

  constructor(scope: Construct, id: string, props: FeaturelakeDataStackProps) {
    super(scope, id, props);
    // Deliver access logs through a bucket policy for the logging service, not
    // the legacy LogDeliveryWrite ACL (which would forbid BucketOwnerEnforced).
    // Set here, not only in cdk.json, so tests build exactly what deploys.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.accessLogs = new AccessLogsBucket(this, 'AccessLogs');
    this.lake = new EventLake(this, 'EventLake', { accessLogsBucket: this.accessLogs.bucket });
    this.eventStream = new EventStream(this, 'EventStream', { lake: this.lake });
    const scanLimit =
      props.athenaScanLimitBytes === undefined ? {} : { bytesScannedCutoffPerQuery: props.athenaScanLimitBytes };
    this.workgroup = new QueryWorkgroup(this, 'QueryWorkgroup', {
      accessLogsBucket: this.accessLogs.bucket,
      ...scanLimit,
    });
    // A workgroup of its own, not the admin one with a per-query OutputLocation:
    // an enforced workgroup ignores the query's location, and enforcement is
    // what keeps the scan limit out of clients' hands. The results bucket is
    // shared; each workgroup's prefix is granted only to its own roles.
    this.companyExportWorkgroup = new QueryWorkgroup(this, 'CompanyExportWorkgroup', {
      workgroupName: COMPANY_EXPORT_WORKGROUP_NAME,
      description: 'featurelake company export rollups (Step Functions)',
      resultsBucket: this.workgroup.resultsBucket,
      resultsPrefix: props.workflows['company-export'].resultsPrefix,
      ...scanLimit,
    });
    // Likewise for the events export: the Athena task names
    // s3://<results>/events-exports/, so that must be its workgroup's enforced location.
    this.eventsExportWorkgroup = new QueryWorkgroup(this, 'EventsExportWorkgroup', {
      workgroupName: EVENTS_EXPORT_WORKGROUP_NAME,
      description: 'featurelake bulk raw-event exports, one query per week (Step Functions)',
      resultsBucket: this.workgroup.resultsBucket,
      resultsPrefix: props.workflows['events-export'].resultsPrefix,
      resultsPrefixRetention: Duration.days(EVENTS_EXPORT_RESULTS_RETENTION_DAYS),
      ...scanLimit,
    });
    this.exportInputs = new ExportInputsTable(this, 'ExportInputs', { lake: this.lake });
    this.exports = new ExportsBucket(this, 'Exports', { accessLogsBucket: this.accessLogs.bucket });
    this.stateTable = new StateTable(this, 'StateTable');
    this.adminToken = new AdminToken(this, 'AdminToken');
    this.downloadLinkKey = new DownloadLinkKey(this, 'DownloadLinkKey');
    this.exportSecretsKey = new ExportSecretsKey(this, 'ExportSecretsKey');

    new CfnOutput(this, 'AdminSecretArn', {
      description: 'Secrets Manager secret holding the admin API bearer token (read it with get-secret-value)',
      value: this.adminToken.secretArn,
    });
    new CfnOutput(this, 'LakeBucketName', { value: this.lake.bucket.bucketName });
    new CfnOutput(this, 'AthenaWorkgroupName', { value: this.workgroup.workgroupName });
    new CfnOutput(this, 'GlueDatabaseName', { value: this.lake.database.databaseName });
    new CfnOutput(this, 'CompanyExportWorkgroupName', { value: this.companyExportWorkgroup.workgroupName });
    new CfnOutput(this, 'EventsExportWorkgroupName', { value: this.eventsExportWorkgroup.workgroupName });
    new CfnOutput(this, 'ExportsBucketName', {
      description: `Bucket of the export files users download (company exports expire after ${COMPANY_EXPORT_RETENTION_DAYS} days, events exports after ${EVENTS_EXPORT_FILE_RETENTION_DAYS})`,
      value: this.exports.bucketName,
    });
  }
}
