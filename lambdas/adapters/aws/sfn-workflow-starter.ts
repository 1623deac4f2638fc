import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionState, WorkflowMonitor, WorkflowName, WorkflowStarter } from '../../ports/workflow-starter.ts';

/**
 * Starts Step Functions executions, and says whether one still runs; the execution
 * name is the idempotency key. Each Lambda is given the ARNs of the workflows it
 * starts, and only those.
 */
export class SfnWorkflowStarter implements WorkflowStarter, WorkflowMonitor {
  constructor(
    private readonly options: {
      readonly client: SFNClient;
      readonly stateMachineArns: Partial<Record<WorkflowName, string>>;
    },
  ) {}

  private stateMachineArn(workflow: WorkflowName): string {
    const arn = this.options.stateMachineArns[workflow];
    if (!arn) throw new Error(`SfnWorkflowStarter: no state machine ARN for the ${workflow} workflow`);
    return arn;
  }

  async start(
    workflow: WorkflowName,
    executionName: string,
    input: Record<string, unknown>,
  ): Promise<{ started: boolean }> {
    try {
      await this.options.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn(workflow),
          name: executionName,
          input: JSON.stringify(input),
        }),
      );
      return { started: true };
    } catch (error) {
      // Step Functions refuses a name used in the last 90 days: that is the no-op we want.
      if (error instanceof ExecutionAlreadyExists) return { started: false };
      throw error;
    }
  }

  async executionState(workflow: WorkflowName, executionName: string): Promise<ExecutionState> {
    // A standard workflow's execution ARN: the state machine's, with `execution` for
    // `stateMachine`, and the execution's name after it.
    const executionArn = `${this.stateMachineArn(workflow).replace(':stateMachine:', ':execution:')}:${executionName}`;
    try {
      const { status } = await this.options.client.send(new DescribeExecutionCommand({ executionArn }));
      switch (status) {
        case 'TIMED_OUT':
          return 'timed-out';
        case 'SUCCEEDED':
        case 'FAILED':
        case 'ABORTED':
          return 'ended';
        default:
          // RUNNING, and PENDING_REDRIVE (a redrive will run it again).
          return 'running';
      }
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return 'unknown';
      throw error;
    }
  }
}
