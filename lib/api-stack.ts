import { CfnOutput, CrossStackReferences, Lazy, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import type { ExportWorkflowSpecs } from '../lambdas/contract/workflow-spec.ts';
import { AdminApiHandler } from './admin-api.ts';
import { AutomaticExportsApiHandler } from './automatic-exports-api.ts';
import { CatalogApiHandler } from './catalog-api.ts';
import { CompanyExportsApiHandler } from './company-exports-api.ts';
import { FeaturelakeConsole } from './console.ts';
import { type FeaturelakeDataStack, LAKE_ERRORS_METRICS_ID } from './data-stack.ts';
import { EventsExportStepsFunction } from './events-export-steps.ts';
import { EventsExportsApiHandler } from './events-exports-api.ts';
import { ExportSchedule } from './export-schedule.ts';
import { ExportStepsFunction } from './export-steps.ts';
import { ExportWorkflow } from './export-workflow.ts';
import { FactsStepsFunction } from './facts-steps.ts';
import { HandlerFunction } from './handler-function.ts';
import { FeaturelakeHttpApi } from './http-api.ts';
import { LakeInsightsApiHandler } from './lake-insights-api.ts';
import { FeaturelakeMonitoring, type FirehoseQuota } from './monitoring.ts';
import { TrackingApiHandler } from './tracking-api.ts';

export interface FeaturelakeApiStackProps extends StackProps {
  /** The stateful stack whose resources the handlers use. */
  readonly data: FeaturelakeDataStack;
  /** The export workflows to deploy (lambdas/workflows/exportWorkflowSpecs()). */
  readonly workflows: ExportWorkflowSpecs;
  /** The built web console (console/build.ts), served with the API behind one CloudFront origin. */
  readonly consoleAssets: string;
  /**
   * The address events export notifications are sent from, verified in SES.
   *
   * @default none: no email is sent
   */
  readonly emailFrom?: string;
  /**
   * The SES identity covering `emailFrom` when it is neither the address nor
   * its domain.
   *
   * @default the address and its domain
   */
  readonly emailIdentity?: string;
  /**
   * The throttle of every route but tracking.
   *
   * @default FeaturelakeHttpApi's
   */
  readonly apiThrottle?: ThrottleSettings;
  /**
   * The tracking route's throttle.
   *
   * @default apiThrottle
   */
  readonly trackingThrottle?: ThrottleSettings;
  /** The tracking stream's Direct PUT quotas in this account and region, which alarms watch. */
  readonly firehoseQuota: FirehoseQuota;
  /**
   * Whether company exports read the daily facts where current (false: the full
   * recompute from raw events, the fallback).
   *
   * @default true
   */
  readonly rollupFromFacts?: boolean;
  /**
   * An address the alarms notify (through an encrypted SNS topic).
   *
   * @default none: alarms without actions
   */
  readonly alarmEmail?: string;
  /**
   * featurelake's public base URL behind a custom domain (e.g.
   * `https://analytics.example.com`, with a base path if its API mapping has one):
   * every download link the API returns or emails starts with it.
   *
   * @default the HTTP API's own `execute-api` URL
   */
  readonly publicBaseUrl?: string;
}

/**
 * The stateless part: Lambdas, the HTTP API and the export workflows. It can be
 * destroyed and redeployed at will; nothing here holds data.
 *
 * The export state machines live here, not with the data: they hold no data
 * of their own (a job's state is in the state table, its files in buckets),
 * and their definitions change with the Lambdas and the SQL they run, which
 * deploy with this stack. Replacing one only forgets its execution history.
 */
export class FeaturelakeApiStack extends Stack {
  readonly tracking: TrackingApiHandler;
  readonly admin: AdminApiHandler;
  readonly health: HandlerFunction;
  readonly openApi: HandlerFunction;
  readonly catalog: CatalogApiHandler;
  readonly lakeInsights: LakeInsightsApiHandler;
  readonly factsSteps: FactsStepsFunction;
  readonly dailyFactsWorkflow: ExportWorkflow;
  readonly exportSteps: ExportStepsFunction;
  readonly companyExportWorkflow: ExportWorkflow;
  readonly companyExports: CompanyExportsApiHandler;
  readonly automaticExports: AutomaticExportsApiHandler;
  readonly exportSchedule: ExportSchedule;
  readonly eventsExportSteps: EventsExportStepsFunction;
  readonly eventsExportWorkflow: ExportWorkflow;
  readonly eventsExports: EventsExportsApiHandler;
  readonly api: FeaturelakeHttpApi;
  readonly console: FeaturelakeConsole;
  readonly monitoring: FeaturelakeMonitoring;

  constructor(scope: Construct, id: string, props: FeaturelakeApiStackProps) {
    super(scope, id, props);
    // Strong (export/import): CloudFormation then refuses to delete the data
    // stack, or anything in it the API uses, while this stack still uses it.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const { data } = props;
    // The handlers that make links are built before the API; its URL refers to the
    // API resource alone (not its routes or integrations), so resolving it late
    // makes no cycle (test/infra/download-links.test.ts holds it).
    const publicApiUrl = publicBaseUrl(props.publicBaseUrl) ?? Lazy.string({ produce: () => this.api.url });
    const links = { downloadLinkKey: data.downloadLinkKey, publicApiUrl };
    this.tracking = new TrackingApiHandler(this, 'Tracking', {
      eventStream: data.eventStream,
      stateTable: data.stateTable,
    });
    this.admin = new AdminApiHandler(this, 'Admin', {
      stateTable: data.stateTable,
      adminToken: data.adminToken,
      lake: data.lake,
      workgroup: data.workgroup,
    });
    this.health = new HandlerFunction(this, 'Health', { handler: 'health', memorySize: 128 });
    // Serves the OpenAPI document it builds from its own code: it reads nothing, so its role holds only its logs.
    this.openApi = new HandlerFunction(this, 'OpenApi', { handler: 'openapi', memorySize: 256 });
    this.catalog = new CatalogApiHandler(this, 'Catalog', {
      stateTable: data.stateTable,
      adminToken: data.adminToken,
    });
    this.lakeInsights = new LakeInsightsApiHandler(this, 'LakeInsights', {
      stateTable: data.stateTable,
      adminToken: data.adminToken,
      lake: data.lake,
      exportInputs: data.exportInputs,
      workgroup: data.workgroup,
      facts: data.facts,
      rollupFromFacts: props.rollupFromFacts ?? true,
    });

    // The daily facts build: before the exports, whose automatic runs wait for it.
    this.factsSteps = new FactsStepsFunction(this, 'FactsSteps', {
      stateTable: data.stateTable,
      lake: data.lake,
      exportInputs: data.exportInputs,
      facts: data.facts,
      workgroup: data.dailyFactsWorkgroup,
    });
    this.dailyFactsWorkflow = new ExportWorkflow(this, 'DailyFactsWorkflow', {
      spec: props.workflows['daily-facts'],
      steps: this.factsSteps.handler.function,
      lake: data.lake,
      exportInputs: data.exportInputs,
      workgroup: data.dailyFactsWorkgroup,
    });
    // Its UNLOAD writes each build's files with the state machine's role.
    data.facts.grantWriteBuilds(this.dailyFactsWorkflow.stateMachine.role);

    this.exportSteps = new ExportStepsFunction(this, 'ExportSteps', {
      dailyFactsWorkflow: this.dailyFactsWorkflow,
      rollupFromFacts: props.rollupFromFacts ?? true,
      stateTable: data.stateTable,
      lake: data.lake,
      exportInputs: data.exportInputs,
      companyExportWorkgroup: data.companyExportWorkgroup,
      exports: data.exports,
      secretsKey: data.exportSecretsKey,
    });
    this.companyExportWorkflow = new ExportWorkflow(this, 'CompanyExportWorkflow', {
      spec: props.workflows['company-export'],
      steps: this.exportSteps.handler.function,
      lake: data.lake,
      exportInputs: data.exportInputs,
      workgroup: data.companyExportWorkgroup,
    });
    // The rollup reads the current facts where they exist.
    data.facts.grantQuery(this.companyExportWorkflow.stateMachine.role);
    this.companyExports = new CompanyExportsApiHandler(this, 'CompanyExports', {
      stateTable: data.stateTable,
      adminToken: data.adminToken,
      workflow: this.companyExportWorkflow,
      exports: data.exports,
      ...links,
    });
    this.automaticExports = new AutomaticExportsApiHandler(this, 'AutomaticExports', {
      stateTable: data.stateTable,
      adminToken: data.adminToken,
      secretsKey: data.exportSecretsKey,
    });
    this.exportSchedule = new ExportSchedule(this, 'ExportSchedule', {
      stateTable: data.stateTable,
      workflow: this.companyExportWorkflow,
      factsWorkflow: this.dailyFactsWorkflow,
    });
    this.admin.allowSchedulerTick(this.companyExportWorkflow, this.dailyFactsWorkflow);

    this.eventsExportSteps = new EventsExportStepsFunction(this, 'EventsExportSteps', {
      stateTable: data.stateTable,
      lake: data.lake,
      exportInputs: data.exportInputs,
      eventsExportWorkgroup: data.eventsExportWorkgroup,
      exports: data.exports,
      ...links,
      emailFrom: props.emailFrom,
      emailIdentity: props.emailIdentity,
    });
    this.eventsExportWorkflow = new ExportWorkflow(this, 'EventsExportWorkflow', {
      spec: props.workflows['events-export'],
      steps: this.eventsExportSteps.handler.function,
      lake: data.lake,
      exportInputs: data.exportInputs,
      workgroup: data.eventsExportWorkgroup,
    });
    this.eventsExports = new EventsExportsApiHandler(this, 'EventsExports', {
      stateTable: data.stateTable,
      adminToken: data.adminToken,
      workflow: this.eventsExportWorkflow,
      exports: data.exports,
      ...links,
    });

    this.api = new FeaturelakeHttpApi(this, 'HttpApi', {
      handlers: {
        tracking: this.tracking.handler.function,
        admin: this.admin.handler.function,
        health: this.health.function,
        openapi: this.openApi.function,
        catalog: this.catalog.handler.function,
        'company-exports': this.companyExports.handler.function,
        'automatic-exports': this.automaticExports.handler.function,
        'events-exports': this.eventsExports.handler.function,
        'lake-insights': this.lakeInsights.handler.function,
      },
      ...(props.apiThrottle === undefined ? {} : { throttle: props.apiThrottle }),
      ...(props.trackingThrottle === undefined ? {} : { trackingThrottle: props.trackingThrottle }),
    });

    this.console = new FeaturelakeConsole(this, 'Console', {
      httpApi: this.api.httpApi,
      assets: props.consoleAssets,
      accessLogsBucket: data.accessLogs.bucket,
    });

    this.monitoring = new FeaturelakeMonitoring(this, 'Monitoring', {
      deliveryStream: data.eventStream.deliveryStream,
      firehoseQuota: props.firehoseQuota,
      lakeBucketName: data.lake.bucket.bucketName,
      lakeErrorsMetricsFilterId: LAKE_ERRORS_METRICS_ID,
      apiId: this.api.httpApi.apiId,
      functions: {
        Tracking: this.tracking.handler.function,
        Admin: this.admin.handler.function,
        Health: this.health.function,
        OpenApi: this.openApi.function,
        Catalog: this.catalog.handler.function,
        LakeInsights: this.lakeInsights.handler.function,
        CompanyExports: this.companyExports.handler.function,
        AutomaticExports: this.automaticExports.handler.function,
        EventsExports: this.eventsExports.handler.function,
        ExportSteps: this.exportSteps.handler.function,
        EventsExportSteps: this.eventsExportSteps.handler.function,
        ExportDispatcher: this.exportSchedule.dispatcher.function,
        ConsoleDeployment: this.console.deploymentFunction,
        FactsSteps: this.factsSteps.handler.function,
      },
      workflows: {
        DailyFactsWorkflow: this.dailyFactsWorkflow.stateMachine,
        CompanyExportWorkflow: this.companyExportWorkflow.stateMachine,
        EventsExportWorkflow: this.eventsExportWorkflow.stateMachine,
      },
      stateTableName: data.stateTable.tableName,
      workgroupNames: [
        data.workgroup,
        data.companyExportWorkgroup,
        data.eventsExportWorkgroup,
        data.dailyFactsWorkgroup,
      ].map((workgroup) => workgroup.workgroupName),
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the featurelake HTTP API',
      value: this.api.url,
    });
    new CfnOutput(this, 'CompanyExportStateMachineArn', {
      description: 'The company export workflow (one execution per job, named by its job_id)',
      value: this.companyExportWorkflow.stateMachineArn,
    });
    new CfnOutput(this, 'DailyFactsStateMachineArn', {
      description:
        'The daily facts build (daily-facts-<date> per schedule fire, facts-build-<uuid> per POST /admin/v1/facts/build)',
      value: this.dailyFactsWorkflow.stateMachineArn,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'The CloudWatch dashboard of this deployment (alarms: docs/deploy.md, Runbook)',
      value: this.monitoring.dashboard.dashboardName,
    });
    new CfnOutput(this, 'EventsExportStateMachineArn', {
      description: 'The bulk raw-event export workflow (one execution per job, named by its job_id)',
      value: this.eventsExportWorkflow.stateMachineArn,
    });
  }
}

/** The `publicBaseUrl` prop, checked: an https URL with no query or fragment, without its trailing slash. */
function publicBaseUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== 'https:' || url.search || url.hash || url.username || url.password) {
    throw new Error(
      `FeaturelakeApiStack: publicBaseUrl must be an https URL such as https://analytics.example.com (no query, fragment or credentials), got ${JSON.stringify(value)}`,
    );
  }
  return value.replace(/\/+$/, '');
}
