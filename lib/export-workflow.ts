import { ArnFormat, Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ExportWorkflowSpec } from '../lambdas/contract/workflow-spec.ts';
import type { EventLake } from './event-lake.ts';
import type { ExportInputsTable } from './export-inputs-table.ts';
import type { QueryWorkgroup } from './query-workgroup.ts';
import { vendedLogGroup } from './vended-log-group.ts';

/** What a user of an export workflow construct chooses. */
export interface ExportWorkflowProps {
  /** The workflow: its document, placeholders and results prefix (lambdas/workflows/, built by bin/app.ts). */
  readonly spec: ExportWorkflowSpec;
  /** The Lambda behind the spec's steps Task states (the spec's `stepsLambda`). */
  readonly steps: IFunction;
  /** The lake whose `events` table the queries read. */
  readonly lake: EventLake;
  /** The per-job inputs table the queries join with the events. */
  readonly exportInputs: ExportInputsTable;
  /**
   * The workgroup the queries run in. Its results prefix must be the spec's
   * `resultsPrefix` (the document's OutputLocation prefix): the workgroup is
   * enforced, so its location is where results really go.
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
 * One export workflow's state machine, from its spec: the Amazon States
 * Language document shared with the local stack, deployed with definitionSubstitutions for the ARNs and names
 * only AWS knows, whose Tasks are a step Lambda and Athena queries. Its role
 * holds what those Tasks need and no more: invoke the step Lambda; run Athena
 * in one workgroup; read the `events` and `export_inputs` tables (Athena reads
 * the catalog and the objects with the caller's credentials) and write the
 * results under the workgroup's prefix.
 */
export class ExportWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  /** The ASL document as deployed, placeholders unfilled: what the local stack runs. */
  readonly definition: Readonly<Record<string, unknown>>;
  /** The values of the document's placeholders, by placeholder name. */
  readonly substitutions: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: ExportWorkflowProps) {
    super(scope, id);
    const { spec } = props;
    if (props.workgroup.resultsPrefix !== spec.resultsPrefix) {
      throw new Error(
        `${constructName(spec.name)}: the workgroup's resultsPrefix must be "${spec.resultsPrefix}" (the definition's OutputLocation; an enforced workgroup writes to its own), got "${props.workgroup.resultsPrefix}"`,
      );
    }
    this.definition = spec.definition;
    const { stepsFunctionArn, glueDatabase, athenaWorkGroup, resultsBucket, lakeBucket } = spec.placeholders;
    this.substitutions = {
      [stepsFunctionArn]: props.steps.functionArn,
      [glueDatabase]: props.lake.database.databaseName,
      [athenaWorkGroup]: props.workgroup.workgroupName,
      [resultsBucket]: props.workgroup.resultsBucket.bucketName,
      // The daily facts build UNLOADs into the lake bucket; no export names it.
      ...(lakeBucket === undefined ? {} : { [lakeBucket]: props.lake.bucket.bucketName }),
    };

    this.logGroup = vendedLogGroup(this, 'Logs', {
      service: 'states',
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(JSON.stringify(this.definition)),
      definitionSubstitutions: { ...this.substitutions },
      // Every state transition, but no input or output: those carry catalog
      // names, filter values, email addresses and Athena's error texts.
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: props.tracing ?? true,
    });

    const role = this.stateMachine.role;
    // The function and its versions/aliases (`<arn>:*`), as Step Functions may
    // invoke a qualified ARN.
    props.steps.grantInvoke(role);
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

  /**
   * states:DescribeExecution on this state machine's executions only: an API that
   * reads a job still marked running asks whether its execution has ended (timed out,
   * aborted) without recording it, and settles the job and frees its lock if so.
   */
  grantDescribeExecutions(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['states:DescribeExecution'], resources: [this.executionsArn] }),
    );
  }

  /** Every execution of this state machine: `…:execution:<state machine name>:*` (execution names are made per job). */
  get executionsArn(): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}

/** `company-export` → `CompanyExportWorkflow`: how errors name the workflow, as its construct is named. */
function constructName(workflow: string): string {
  return `${workflow.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase())}Workflow`;
}
