import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/contract/settings.ts';
import type { AdminToken } from './admin-token.ts';
import type { CompanyExportWorkflow } from './company-export-workflow.ts';
import type { EventLake } from './event-lake.ts';
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

  constructor(scope: Construct, id: string, props: AdminApiHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'admin',
      memorySize: 512,
      // A synchronous Athena query has to finish inside API Gateway's 30 s.
      timeout: Duration.seconds(29),
      environment: {
        [ENV.stateTable]: props.stateTable.tableName,
        [ENV.adminSecretArn]: props.adminToken.secretArn,
        [ENV.athenaWorkgroup]: props.workgroup.workgroupName,
        [ENV.glueDatabase]: props.lake.database.databaseName,
      },
    });
    const role = this.handler.role;
    props.stateTable.grantReadWrite(role);
    props.adminToken.grantRead(role);
    props.workgroup.grantQueryExecution(role);
    props.lake.grantQuery(role);
  }

  /**
   * `POST /admin/v1/scheduler/tick` runs the export dispatcher in this Lambda (a
   * backfill by an admin): it then starts executions of the company export
   * workflow, and nothing else.
   */
  allowSchedulerTick(workflow: CompanyExportWorkflow): void {
    this.handler.function.addEnvironment(ENV.companyExportStateMachineArn, workflow.stateMachineArn);
    workflow.grantStartExecution(this.handler.role);
  }
}
