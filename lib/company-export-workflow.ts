import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { companyRollupSql } from '../lambdas/core/rollup/index.ts';
import {
  COMPANY_EXPORT_RESULTS_PREFIX,
  type CompanyExportSubstitutions,
  companyExportDefinition,
} from '../lambdas/core/workflows/company-export.ts';
import type { EventLake } from './event-lake.ts';
import type { ExportInputsTable } from './export-inputs-table.ts';
import type { QueryWorkgroup } from './query-workgroup.ts';

export interface CompanyExportWorkflowProps {
  /** The Lambda behind the PrepareRollupInputs, PublishCsv and RecordFailure Task states. */
  readonly exportSteps: IFunction;
  /** The lake whose `events` table the rollup reads. */
  readonly lake: EventLake;
  /** The per-job inputs table the rollup joins with the events. */
  readonly exportInputs: ExportInputsTable;
  /**
   * The workgroup the rollup runs in. Its results prefix must be the
   * definition's OutputLocation prefix (COMPANY_EXPORT_RESULTS_PREFIX): the
   * workgroup is enforced, so its location is where results really go.
   */
  readonly workgroup: QueryWorkgroup;
  /**
   * How long the execution log (state transitions, no payloads) is kept.
   *
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * Trace executions with X-Ray (the Lambda and Athena calls of each run).
   *
   * @default true
   */
  readonly tracing?: boolean;
}

/**
 * The company export state machine: the very Amazon States Language document
 * that the local stack runs (companyExportDefinition over the Trino text of
 * the rollup), deployed with definitionSubstitutions for the ARNs and names
 * only AWS knows. Its role holds what the document's three kinds of Task need
 * and no more: invoke the export-steps Lambda; run Athena in one workgroup;
 * read the `events` and `export_inputs` tables (Athena reads the catalog and
 * the objects with the caller's credentials) and write the results under the
 * workgroup's prefix.
 */
export class CompanyExportWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  /** The ASL document as deployed, placeholders unfilled: what the local stack runs. */
  readonly definition: Record<string, unknown>;
  readonly substitutions: CompanyExportSubstitutions;

  constructor(scope: Construct, id: string, props: CompanyExportWorkflowProps) {
    super(scope, id);
    if (props.workgroup.resultsPrefix !== COMPANY_EXPORT_RESULTS_PREFIX) {
      throw new Error(
        `CompanyExportWorkflow: the workgroup's resultsPrefix must be "${COMPANY_EXPORT_RESULTS_PREFIX}" (the definition's OutputLocation; an enforced workgroup writes to its own), got "${props.workgroup.resultsPrefix}"`,
      );
    }
    this.definition = companyExportDefinition(companyRollupSql('trino'));
    this.substitutions = {
      ExportStepsFunctionArn: props.exportSteps.functionArn,
      GlueDatabase: props.lake.database.databaseName,
      AthenaWorkGroup: props.workgroup.workgroupName,
      ResultsBucket: props.workgroup.resultsBucket.bucketName,
    };

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      comment: 'featurelake company feature-adoption export',
      definitionBody: DefinitionBody.fromString(JSON.stringify(this.definition)),
      definitionSubstitutions: { ...this.substitutions },
      // Every state transition, but no input or output: those carry company
      // and feature names from the catalog and Athena's error texts.
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: props.tracing ?? true,
    });

    const role = this.stateMachine.role;
    // The function and its versions/aliases (`<arn>:*`), as Step Functions may
    // invoke a qualified ARN.
    props.exportSteps.grantInvoke(role);
    props.workgroup.grantQueryExecution(role);
    // Step Functions' own generated policy for startQueryExecution.sync asks for
    // it; scoped here to the one catalog the queries use.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['athena:GetDataCatalog'],
        resources: [
          Stack.of(this).formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' }),
        ],
      }),
    );
    props.lake.grantQuery(role);
    props.exportInputs.grantQuery(role);
  }

  get stateMachineArn(): string {
    return this.stateMachine.stateMachineArn;
  }

  /** states:StartExecution on this state machine only. */
  grantStartExecution(grantee: IGrantable): void {
    this.stateMachine.grantStartExecution(grantee);
  }
}
