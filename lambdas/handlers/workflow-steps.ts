import middy from '@middy/core';
import { z } from 'zod';

/** One step of a workflow: the shape of the `job` its Task state passes, and the use case that runs it. */
export interface WorkflowStep<I extends z.ZodType> {
  readonly input: I;
  readonly run: (job: z.output<I>) => Promise<unknown>;
}

/** Declares a step, so that `run`'s argument takes its type from `input`. */
export function workflowStep<I extends z.ZodType>(
  input: I,
  run: (job: z.output<I>) => Promise<unknown>,
): WorkflowStep<I> {
  return { input, run };
}

/**
 * The Lambda behind a workflow's Task states. Step Functions calls it with
 * `{step, job}`; what the step returns lands at the state's ResultPath. An input
 * that does not parse, or an error a step throws, ends the execution through the
 * state's Catch, which records the job as failed.
 */
export function workflowStepsHandler(steps: Record<string, WorkflowStep<z.ZodType>>) {
  const names = Object.keys(steps) as [string, ...string[]];
  const envelope = z.object({ step: z.enum(names), job: z.unknown() });
  return middy(async (event: unknown) => {
    const { step, job } = envelope.parse(event);
    const chosen = steps[step] as WorkflowStep<z.ZodType>;
    return chosen.run(chosen.input.parse(job));
  });
}
