/** The workflows featurelake runs (Step Functions state machines on AWS, aws-local-stepfunctions locally). */
export type WorkflowName = 'company-export' | 'events-export';

export interface WorkflowStarter {
  /**
   * Starts one execution. `executionName` is unique per workflow: starting a name
   * that already ran is a no-op that resolves with `started: false`, so a repeated
   * trigger (a retried request, a second schedule fire) starts nothing new.
   */
  start(workflow: WorkflowName, executionName: string, input: Record<string, unknown>): Promise<{ started: boolean }>;
}
