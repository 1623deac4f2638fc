import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowName, WorkflowStarter } from '../../ports/workflow-starter.ts';

/**
 * Starts Step Functions executions; the execution name is the idempotency key. Each
 * Lambda is given the ARNs of the workflows it starts, and only those.
 */
export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly options: {
      readonly client: SFNClient;
      readonly stateMachineArns: Partial<Record<WorkflowName, string>>;
    },
  ) {}

  async start(
    workflow: WorkflowName,
    executionName: string,
    input: Record<string, unknown>,
  ): Promise<{ started: boolean }> {
    const stateMachineArn = this.options.stateMachineArns[workflow];
    if (!stateMachineArn) throw new Error(`SfnWorkflowStarter: no state machine ARN for the ${workflow} workflow`);
    try {
      await this.options.client.send(
        new StartExecutionCommand({
          stateMachineArn,
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
}
