import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
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
import { FactsTables } from './facts-tables.ts';
import { QueryWorkgroup } from './query-workgroup.ts';
import { StateTable } from './state-table.ts';

export interface FeaturelakeDataStackProps extends StackProps {
  /** The export workflows: each one's workgroup enforces the results prefix its queries name. */
  readonly workflows: ExportWorkflowSpecs;
  /**
   * Per-query scan cutoffs of the three Athena workgroups, in bytes.
   *
   * @default DEFAULT_SCAN_LIMITS for each one not given
   */
  readonly scanLimits?: ScanLimits;
}

/** The per-query scan cutoff of each Athena workgroup, in bytes. */
export interface ScanLimits {
  /** `POST /admin/v1/sql`. */
  readonly adhoc?: number | undefined;
  /** Each query of a company export (the rollup over the environment's history). */
  readonly companyExport?: number | undefined;
  /** Each week's query of an events export. */
  readonly eventsExport?: number | undefined;
  /** Each query of the daily facts build (one UNLOAD per environment: all its history on a first build). */
  readonly dailyFacts?: number | undefined;
}

/**
 * Cutoffs sized for the reference customer of docs/deploy.md ("Athena scan
 * cutoffs": 1,000 events/s in one environment, a year of history), where the
 * arithmetic is. At $5 per TB scanned, a query that hits its cutoff costs at
 * most $0.05 (ad hoc), $11 (company export), $0.34 (a week of an events export) and
 * $11 (the daily facts build, whose first run reads an environment's whole history
 * like a full company export; a daily run reads a day and its late arrivals).
 */
export const DEFAULT_SCAN_LIMITS: Required<ScanLimits> = {
  adhoc: 10 * 1024 ** 3,
  companyExport: 2 * 1024 ** 4,
  eventsExport: 64 * 1024 ** 3,
  dailyFacts: 2 * 1024 ** 4,
};

/**
 * The id of the lake bucket's S3 request-metrics filter on Firehose's error
 * prefix: its `PutRequests` count objects that hold records outside the events
 * table (the LakeErrorObjects alarm).
 */
export const LAKE_ERRORS_METRICS_ID = 'firehose-errors';
/** The prefix that filter counts: where EventStream sends records it could not deliver as rows. */
export const LAKE_ERRORS_PREFIX = 'errors/';

/** Name of the Athena workgroup the company export workflow queries in. */
export const COMPANY_EXPORT_WORKGROUP_NAME = 'featurelake-company-exports';
/** Name of the Athena workgroup the events export workflow's weekly queries run in. */
export const EVENTS_EXPORT_WORKGROUP_NAME = 'featurelake-events-exports';
/** Name of the Athena workgroup the daily facts workflow's plan and build queries run in. */
export const DAILY_FACTS_WORKGROUP_NAME = 'featurelake-daily-facts';
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
  /** Where the daily facts workflow's plan and build queries run (results under `daily-facts/`). */
  readonly dailyFactsWorkgroup: QueryWorkgroup;
  readonly exportInputs: ExportInputsTable;
  /** The daily facts' Glue table over `company_facts/` in the lake bucket. */
  readonly facts: FactsTables;
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
    // The catalog entries hold no data (the bucket does; partition projection
    // needs no crawl), and the database has a fixed name: retained, it would make
    // the next create of this stack fail with "already exists".
    this.lake.database.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.lake.bucket.addMetric({ id: LAKE_ERRORS_METRICS_ID, prefix: LAKE_ERRORS_PREFIX });
    this.eventStream = new EventStream(this, 'EventStream', { lake: this.lake });
    const scanLimits = props.scanLimits ?? {};
    this.workgroup = new QueryWorkgroup(this, 'QueryWorkgroup', {
      accessLogsBucket: this.accessLogs.bucket,
      bytesScannedCutoffPerQuery: scanLimits.adhoc ?? DEFAULT_SCAN_LIMITS.adhoc,
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
      bytesScannedCutoffPerQuery: scanLimits.companyExport ?? DEFAULT_SCAN_LIMITS.companyExport,
    });
    // Likewise for the events export: the Athena task names
    // s3://<results>/events-exports/, so that must be its workgroup's enforced location.
    this.eventsExportWorkgroup = new QueryWorkgroup(this, 'EventsExportWorkgroup', {
      workgroupName: EVENTS_EXPORT_WORKGROUP_NAME,
      description: 'featurelake bulk raw-event exports, one query per week (Step Functions)',
      resultsBucket: this.workgroup.resultsBucket,
      resultsPrefix: props.workflows['events-export'].resultsPrefix,
      resultsPrefixRetention: Duration.days(EVENTS_EXPORT_RESULTS_RETENTION_DAYS),
      bytesScannedCutoffPerQuery: scanLimits.eventsExport ?? DEFAULT_SCAN_LIMITS.eventsExport,
    });
    // The facts build's own workgroup: its scan cutoff is sized for a first build
    // over all of an environment's history, and its cost shows on its own.
    this.dailyFactsWorkgroup = new QueryWorkgroup(this, 'DailyFactsWorkgroup', {
      workgroupName: DAILY_FACTS_WORKGROUP_NAME,
      description: 'featurelake daily facts: plan and build queries (Step Functions)',
      resultsBucket: this.workgroup.resultsBucket,
      resultsPrefix: props.workflows['daily-facts'].resultsPrefix,
      bytesScannedCutoffPerQuery: scanLimits.dailyFacts ?? DEFAULT_SCAN_LIMITS.dailyFacts,
    });
    this.exportInputs = new ExportInputsTable(this, 'ExportInputs', { lake: this.lake });
    this.facts = new FactsTables(this, 'Facts', { lake: this.lake });
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
    new CfnOutput(this, 'DailyFactsWorkgroupName', { value: this.dailyFactsWorkgroup.workgroupName });
    new CfnOutput(this, 'ExportsBucketName', {
      description: `Bucket of the export files users download (company exports expire after ${COMPANY_EXPORT_RETENTION_DAYS} days, events exports after ${EVENTS_EXPORT_FILE_RETENTION_DAYS})`,
      value: this.exports.bucketName,
    });
  }
}
