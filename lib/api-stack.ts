import { CfnOutput, CrossStackReferences, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AdminApiHandler } from './admin-api.ts';
import { AutomaticExportsApiHandler } from './automatic-exports-api.ts';
import { CatalogApiHandler } from './catalog-api.ts';
import { CompanyExportWorkflow } from './company-export-workflow.ts';
import { CompanyExportsApiHandler } from './company-exports-api.ts';
import type { FeaturelakeDataStack } from './data-stack.ts';
import { ExportSchedule } from './export-schedule.ts';
import { ExportStepsFunction } from './export-steps.ts';
import { HandlerFunction } from './handler-function.ts';
import { FeaturelakeHttpApi } from './http-api.ts';
import { TrackingApiHandler } from './tracking-api.ts';

export interface FeaturelakeApiStackProps extends StackProps {
  /** The stateful stack whose resources the handlers use. */
  readonly data: FeaturelakeDataStack;
}

/**
 * The stateless part: Lambdas, the HTTP API and the export workflows. It can be
 * destroyed and redeployed at will; nothing here holds data.
 *
 * The company export state machine lives here, not with the data: it holds no
 * data of its own (a job's state is in the state table, its files in buckets),
 * and its definition changes with the Lambda and the rollup SQL it runs, which
 * deploy with this stack. Replacing it only forgets the execution history.
 */
export class FeaturelakeApiStack extends Stack {
  readonly tracking: TrackingApiHandler;
  readonly admin: AdminApiHandler;
  readonly health: HandlerFunction;
  readonly catalog: CatalogApiHandler;
  readonly exportSteps: ExportStepsFunction;
  readonly companyExportWorkflow: CompanyExportWorkflow;
  readonly companyExports: CompanyExportsApiHandler;
  readonly automaticExports: AutomaticExportsApiHandler;
  readonly exportSchedule: ExportSchedule;
  readonly api: FeaturelakeHttpApi;

  constructor(scope: Construct, id: string, props: FeaturelakeApiStackProps) {
    super(scope, id, props);
    // Strong (export/import): CloudFormation then refuses to delete the data
    // stack, or anything in it the API uses, while this stack still uses it.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const { data } = props;
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
    this.catalog = new CatalogApiHandler(this, 'Catalog', { stateTable: data.stateTable });

    this.exportSteps = new ExportStepsFunction(this, 'ExportSteps', {
      stateTable: data.stateTable,
      lake: data.lake,
      exportInputs: data.exportInputs,
      companyExportWorkgroup: data.companyExportWorkgroup,
      exports: data.exports,
      secretsKey: data.exportSecretsKey,
    });
    this.companyExportWorkflow = new CompanyExportWorkflow(this, 'CompanyExportWorkflow', {
      exportSteps: this.exportSteps.handler.function,
      lake: data.lake,
      exportInputs: data.exportInputs,
      workgroup: data.companyExportWorkgroup,
    });
    this.companyExports = new CompanyExportsApiHandler(this, 'CompanyExports', {
      stateTable: data.stateTable,
      workflow: this.companyExportWorkflow,
      exports: data.exports,
    });
    this.automaticExports = new AutomaticExportsApiHandler(this, 'AutomaticExports', {
      stateTable: data.stateTable,
      secretsKey: data.exportSecretsKey,
    });
    this.exportSchedule = new ExportSchedule(this, 'ExportSchedule', {
      stateTable: data.stateTable,
      workflow: this.companyExportWorkflow,
    });
    this.admin.allowSchedulerTick(this.companyExportWorkflow);

    this.api = new FeaturelakeHttpApi(this, 'HttpApi', {
      handlers: {
        tracking: this.tracking.handler.function,
        admin: this.admin.handler.function,
        health: this.health.function,
        catalog: this.catalog.handler.function,
        'company-exports': this.companyExports.handler.function,
        'automatic-exports': this.automaticExports.handler.function,
      },
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the featurelake HTTP API',
      value: this.api.url,
    });
    new CfnOutput(this, 'CompanyExportStateMachineArn', {
      description: 'The company export workflow (one execution per job, named by its job_id)',
      value: this.companyExportWorkflow.stateMachineArn,
    });
  }
}
