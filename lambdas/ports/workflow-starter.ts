/** The workflows featurelake runs (Step Functions state machines on AWS, aws-local-stepfunctions locally). */
export type WorkflowName = 'company-export' | 'events-export' | 'daily-facts';

export interface WorkflowStarter {
  /**
   * Starts one execution. `executionName` is unique per workflow: starting a name
   * that already ran is a no-op that resolves with `started: false`, so a repeated
   * trigger (a retried request, a second schedule fire) starts nothing new.
   */
  start(workflow: WorkflowName, executionName: string, input: Record<string, unknown>): Promise<{ started: boolean }>;
}

/**
 * Where an execution is: `running`; `ended` (succeeded, failed or aborted: whatever its
 * steps did not record by now, they never will); `timed-out` (stopped by the state
 * machine's TimeoutSeconds, which no Catch sees); `unknown` (no such execution: not
 * started yet, or never started).
 */
export type ExecutionState = 'running' | 'ended' | 'timed-out' | 'unknown';

export interface WorkflowMonitor {
  /**
   * Whether the execution is still running. `requestedAt` is when the job it runs
   * was written (the execution is started right after): a runner that lost its
   * executions (the local stack after a restart) answers `ended` for one asked for
   * before it started, rather than `unknown`.
   */
  executionState(workflow: WorkflowName, executionName: string, requestedAt: Date): Promise<ExecutionState>;
}
