import { Duration, Lazy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { AdminToken } from './admin-token.ts';
import type { EventLake } from './event-lake.ts';
import type { ExportWorkflow } from './export-workflow.ts';
import { HandlerFunction } from './handler-function.ts';
import type { QueryWorkgroup } from './query-workgroup.ts';
import type { StateTable } from './state-table.ts';

export interface AdminApiHandlerProps {
  readonly stateTable: StateTable;
  /** The bearer token the handler checks callers against. */
  readonly adminToken: AdminToken;
  /** The lake `POST /admin/v1/sql` reads. */
  readonly lake: EventLake;
  /** The Athena workgroup those reads run in. */
  readonly workgroup: QueryWorkgroup;
}

/**
 * The admin Lambda: creates environments (state table), checks the admin
 * token (Secrets Manager), and runs read-only SQL over the lake (Athena in the
 * featurelake workgroup, Glue catalog, lake objects under `events/`).
 */
export class AdminApiHandler extends Construct {
  readonly handler: HandlerFunction;
  private schedulerTickWorkflow?: ExportWorkflow;
  private factsWorkflow?: ExportWorkflow;

  constructor(scope: Construct, id: string, props: AdminApiHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'admin',
      memorySize: 512,
      // A synchronous Athena query has to finish inside API Gateway's 30 s.
      timeout: Duration.seconds(29),
      settings: {
        stateTable: props.stateTable.tableName,
        adminSecretArn: props.adminToken.secretArn,
        athenaWorkgroup: props.workgroup.workgroupName,
        glueDatabase: props.lake.database.databaseName,
        // The workflow is built after this Lambda: allowSchedulerTick gives it.
        companyExportStateMachineArn: Lazy.string({ produce: () => this.schedulerTickArn() }),
        dailyFactsStateMachineArn: Lazy.string({ produce: () => this.factsArn() }),
      },
    });
    const role = this.handler.role;
    props.stateTable.grantReadWrite(role);
    props.stateTable.grantEnvironmentListing(role);
    props.adminToken.grantRead(role);
    props.workgroup.grantQueryExecution(role);
    props.lake.grantQuery(role);
  }

  /**
   * `POST /admin/v1/scheduler/tick` runs the export dispatcher in this Lambda (a
   * backfill by an admin): it then starts executions of the daily facts workflow
   * and of the company export workflow, and nothing else. `POST
   * /admin/v1/facts/build` starts the facts workflow too, and `GET
   * /admin/v1/facts/builds/{name}` describes its executions.
   */
  allowSchedulerTick(workflow: ExportWorkflow, factsWorkflow: ExportWorkflow): void {
    this.schedulerTickWorkflow = workflow;
    this.factsWorkflow = factsWorkflow;
    workflow.grantStartExecution(this.handler.role);
    factsWorkflow.grantStartExecution(this.handler.role);
    factsWorkflow.grantDescribeExecutions(this.handler.role);
  }

  private factsArn(): string {
    if (this.factsWorkflow === undefined) {
      throw new Error(
        'AdminApiHandler: call allowSchedulerTick(workflow, factsWorkflow): the admin Lambda starts the daily facts workflow',
      );
    }
    return this.factsWorkflow.stateMachineArn;
  }

  private schedulerTickArn(): string {
    if (this.schedulerTickWorkflow === undefined) {
      throw new Error(
        'AdminApiHandler: call allowSchedulerTick(workflow): the admin Lambda runs the export dispatcher, which needs the company export workflow',
      );
    }
    return this.schedulerTickWorkflow.stateMachineArn;
  }
}
