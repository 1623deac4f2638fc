import { Duration, Stack } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { AUTOMATIC_EXPORT_SCHEDULE } from '../lambdas/contract/exports.ts';
import type { ExportWorkflow } from './export-workflow.ts';
import { HandlerFunction } from './handler-function.ts';
import type { StateTable } from './state-table.ts';

export interface ExportScheduleProps {
  /** Where the settings, environments and jobs live. */
  readonly stateTable: StateTable;
  /** The workflow each due automatic export runs in. */
  readonly workflow: ExportWorkflow;
  /** The daily facts build each fire starts first (the exports wait for it). */
  readonly factsWorkflow: ExportWorkflow;
}

/**
 * The daily automatic-export schedule: an EventBridge Scheduler schedule at
 * 00:15 UTC (AUTOMATIC_EXPORT_SCHEDULE: late enough for Firehose to have written
 * the day's last records) that invokes the dispatcher Lambda with the fire's
 * scheduled time. The dispatcher finds the enabled, due settings in their own
 * partition of the state table and starts one execution of the company export
 * workflow each, after one execution of the daily facts workflow per date (which
 * those exports wait for); it may start executions of those two state machines
 * and nothing else.
 *
 * Scheduler invokes the Lambda asynchronously, so a dispatcher that throws (some
 * environment could not be started) is retried by Lambda's own asynchronous
 * retries, with the same scheduled time: those already started are skipped.
 */
export class ExportSchedule extends Construct {
  readonly dispatcher: HandlerFunction;
  readonly schedule: Schedule;
  /** What EventBridge Scheduler assumes to invoke the dispatcher (that function only). */
  readonly schedulerRole: Role;

  constructor(scope: Construct, id: string, props: ExportScheduleProps) {
    super(scope, id);
    this.dispatcher = new HandlerFunction(this, 'Dispatcher', {
      handler: 'export-dispatcher',
      memorySize: 256,
      // A query of the settings partition and two writes plus one StartExecution per environment.
      timeout: Duration.minutes(5),
      settings: {
        stateTable: props.stateTable.tableName,
        companyExportStateMachineArn: props.workflow.stateMachineArn,
        dailyFactsStateMachineArn: props.factsWorkflow.stateMachineArn,
      },
    });
    const role = this.dispatcher.role;
    props.stateTable.grantReadWrite(role);
    props.workflow.grantStartExecution(role);
    props.factsWorkflow.grantStartExecution(role);

    // Our own role, rather than the stack-wide one the target would make, so that
    // it serves this schedule only and its one grant is acknowledged where it is.
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      description: 'featurelake: EventBridge Scheduler invokes the automatic-export dispatcher',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.schedule = new Schedule(this, 'Daily', {
      description:
        'featurelake: build the daily facts, then start the automatic company exports due today (snapshot as of 00:00 UTC)',
      schedule: ScheduleExpression.cron({
        minute: String(AUTOMATIC_EXPORT_SCHEDULE.minuteUtc),
        hour: String(AUTOMATIC_EXPORT_SCHEDULE.hourUtc),
      }),
      target: new LambdaInvoke(this.dispatcher.function, {
        role: this.schedulerRole,
        input: ScheduleTargetInput.fromObject({ at: ContextAttribute.scheduledTime }),
        // Reaching Lambda is retried for up to an hour; the dispatcher's own failures by Lambda.
        retryAttempts: 10,
        maxEventAge: Duration.hours(1),
      }),
    });
  }
}
