import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EVENTS_EXPORT_UNLOAD_PREFIX } from '../lambdas/contract/exports.ts';
import { WORKFLOW_STEPS_TIMEOUT_SECONDS } from '../lambdas/contract/lambdas.ts';
import type { DownloadLinkKey } from './download-link-key.ts';
import type { EventLake } from './event-lake.ts';
import type { ExportInputsTable } from './export-inputs-table.ts';
import type { ExportsBucket } from './exports-bucket.ts';
import { HandlerFunction, workflowStepsMemory } from './handler-function.ts';
import type { QueryWorkgroup } from './query-workgroup.ts';
import type { StateTable } from './state-table.ts';

/**
 * The sender the Lambda is given when no `emailFrom` is configured: the
 * handler requires the variable, and a reserved `.invalid` domain makes SES
 * refuse the message (the completion step logs that; the job stays completed).
 */
export const UNCONFIGURED_EMAIL_FROM = 'not-configured@featurelake.invalid';

/** A plain address (no display name): SES identities are addresses or domains. */
const PLAIN_ADDRESS = /^[^\s@<>"]+@([a-z0-9-]+(\.[a-z0-9-]+)+)$/i;
const IDENTITY = /^([^\s@<>"]+@)?[a-z0-9-]+(\.[a-z0-9-]+)+$/i;

export interface EventsExportStepsFunctionProps {
  /** Where jobs, locks, segments and exclusions are read, and jobs completed or failed. */
  readonly stateTable: StateTable;
  /** The lake whose `export_inputs/` prefix receives each job's inputs file. */
  readonly lake: EventLake;
  readonly exportInputs: ExportInputsTable;
  /** The workgroup whose weekly query results the write step reads. */
  readonly eventsExportWorkgroup: QueryWorkgroup;
  /** Where the weekly gzip files go (and what the email links point at). */
  readonly exports: ExportsBucket;
  /**
   * featurelake's public base URL, for the job and file links in the email.
   * May be a lazy value: the API is built after this Lambda.
   */
  readonly publicApiUrl: string;
  /** Signs the email's file links. */
  readonly downloadLinkKey: DownloadLinkKey;
  /**
   * The address completion emails are sent from (a plain address, no display
   * name), verified in SES in the stack's account and region, directly or
   * through its domain. The role may send from this address only.
   *
   * @default none: no SES permission, and emails are not sent (logged instead)
   */
  readonly emailFrom?: string;
  /**
   * The SES identity that covers `emailFrom`, when it is neither the address
   * itself nor its domain (a parent domain).
   *
   * @default the address and its domain
   */
  readonly emailIdentity?: string;
  /**
   * Memory in MiB. The write step gzips a whole week of raw events as a
   * stream: CPU-bound, and Lambda gives a full vCPU from 1,769 MiB.
   *
   * @default 1769
   */
  readonly memorySize?: number;
}

/**
 * The Lambda behind the events export workflow's Task states (no route reaches
 * it): it snapshots the filters, segment and exclusions into `export_inputs`
 * and plans the weeks, turns each week's Athena result into
 * `<monday>.json.gz` / `.csv.gz` (joining its UNLOAD files on S3), completes the job (releasing the lock and
 * emailing the links) or records its failure. Each S3 grant is one prefix of
 * one bucket: write `<lake>/export_inputs/*`, read `<results>/events-exports/*`,
 * write `<exports>/events-exports/*`; read the download-link key (the email's
 * links point at the API's file route, which redirects to S3); the state table;
 * ses:SendEmail from `emailFrom` only.
 */
export class EventsExportStepsFunction extends Construct {
  readonly handler: HandlerFunction;
  /** s3:ListBucket and s3:DeleteObject under the results bucket's `events-exports/unload/` only. */
  readonly unloadCleanupPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: EventsExportStepsFunctionProps) {
    super(scope, id);
    const memorySize = workflowStepsMemory(
      'EventsExportStepsFunction',
      props.memorySize,
      'assembling a week file from parts of 5 MiB',
    );
    const domain = props.emailFrom === undefined ? undefined : PLAIN_ADDRESS.exec(props.emailFrom)?.[1];
    if (props.emailFrom !== undefined && domain === undefined) {
      throw new Error(
        `EventsExportStepsFunction: emailFrom must be a plain address like exports@example.com (no display name), got ${JSON.stringify(props.emailFrom)}`,
      );
    }
    if (props.emailIdentity !== undefined && (props.emailFrom === undefined || !IDENTITY.test(props.emailIdentity))) {
      throw new Error(
        `EventsExportStepsFunction: emailIdentity must be an SES identity (an address or a domain) and needs emailFrom, got ${JSON.stringify(props.emailIdentity)}`,
      );
    }

    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'events-export-steps',
      memorySize,
      // Lambda's maximum, and AssembleEventsWeekFile's TimeoutSeconds. Assembly copies on
      // S3 (its time grows with the number of UNLOAD files, not their bytes).
      timeout: Duration.seconds(WORKFLOW_STEPS_TIMEOUT_SECONDS),
      settings: {
        stateTable: props.stateTable.tableName,
        exportsBucket: props.exports.bucketName,
        lakeBucket: props.lake.bucket.bucketName,
        emailFrom: props.emailFrom ?? UNCONFIGURED_EMAIL_FROM,
        publicApiUrl: props.publicApiUrl,
        downloadLinkSecretArn: props.downloadLinkKey.secretArn,
      },
    });
    const role = this.handler.role;
    props.stateTable.grantReadWrite(role);
    props.exportInputs.grantWriteInputs(role);
    props.eventsExportWorkgroup.grantReadResults(role);
    props.exports.grantWriteEventsExports(role);
    props.downloadLinkKey.grantRead(role);
    // Assembling a week: list its UNLOAD files and delete them once the week's file is
    // made, under the unload prefix only (reading them is grantReadResults; the
    // multipart upload into the exports bucket, copies included, is s3:PutObject there).
    // A managed policy beside the workgroup (the data stack), as its results read policy is.
    const workgroup = props.eventsExportWorkgroup;
    this.unloadCleanupPolicy = new ManagedPolicy(workgroup, 'EventsExportUnloadPolicy', {
      description: 'List and delete the events export UNLOAD files, once each week file is assembled',
      statements: [
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [workgroup.resultsBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${EVENTS_EXPORT_UNLOAD_PREFIX}*` } },
        }),
        new PolicyStatement({
          actions: ['s3:DeleteObject'],
          resources: [workgroup.resultsBucket.arnForObjects(`${EVENTS_EXPORT_UNLOAD_PREFIX}*`)],
        }),
      ],
    });
    role.addManagedPolicy(this.unloadCleanupPolicy);

    if (props.emailFrom === undefined || domain === undefined) {
      Annotations.of(this).addWarningV2(
        'featurelake:emailFromUnset',
        'No emailFrom context: events export jobs will not email their links (set -c emailFrom=<address verified in SES>; see docs/deploy.md).',
      );
      return;
    }
    // SES authorizes a send against the identity that covers the From
    // address: the address if it is itself verified, else its domain. Both
    // are allowed, and the condition pins the From address, so the role can
    // send as nobody else even where the domain identity covers more.
    // ses:SendEmail only: the SESv2 adapter sends Simple content, never Raw.
    const identities = props.emailIdentity === undefined ? [props.emailFrom, domain] : [props.emailIdentity];
    const stack = Stack.of(this);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: identities.map((identity) =>
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
        ),
        conditions: { StringEquals: { 'ses:FromAddress': props.emailFrom } },
      }),
    );
  }
}
