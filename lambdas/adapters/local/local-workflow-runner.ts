import type { Context } from 'aws-lambda';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { WORKFLOW_STEPS_TIMEOUT_SECONDS } from '../../contract/lambdas.ts';
import type {
  ExportWorkflowSpec,
  OptionalWorkflowPlaceholder,
  WorkflowPlaceholder,
} from '../../contract/workflow-spec.ts';
import { systemClock } from '../../core/shared/clock.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ExecutionState, WorkflowMonitor, WorkflowName, WorkflowStarter } from '../../ports/workflow-starter.ts';
import { localLambdaContext } from './api-gateway-server.ts';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22); without it on Node 20
// every Task state fails and a Catch hides why.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: <T>() => {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

type JsonValue = Parameters<StateMachine['run']>[0];
export type LocalTaskHandler = (input: JsonValue) => Promise<JsonValue>;

/**
 * A workflow-steps Lambda handler as a Task state's local handler: invoked the way
 * Step Functions invokes it, with the deployed function's time budget
 * (`WORKFLOW_STEPS_TIMEOUT_SECONDS`, which middy's timeout reads).
 */
export function lambdaTask<I>(
  name: string,
  handler: (input: I, context: Context) => Promise<unknown>,
): LocalTaskHandler {
  return async (input) =>
    (await handler(input as I, localLambdaContext(name, WORKFLOW_STEPS_TIMEOUT_SECONDS * 1000))) as JsonValue;
}

export interface LocalWorkflow {
  /** The very ASL document that deploys, with its substitutions filled in. */
  readonly definition: Record<string, unknown>;
  /** One handler per Task state, by state name: no Task may reach real AWS. */
  readonly tasks: Record<string, LocalTaskHandler>;
  /** Milliseconds to wait before each retry of a state, instead of its Retry's intervals (tests). */
  readonly retryIntervalOverrides?: Record<string, number>;
  /** Milliseconds a Wait state pauses, instead of its Seconds, by state name. */
  readonly waitTimeOverrides?: Record<string, number>;
}

/** How the local stack runs a spec's Task states, and what its placeholders stand for here. */
export interface LocalWorkflowWiring {
  /** Each placeholder's local value, by what it stands for. */
  readonly values: Readonly<Record<WorkflowPlaceholder, string>> &
    Readonly<Partial<Record<OptionalWorkflowPlaceholder, string>>>;
  /** The in-process steps Lambda behind the spec's `stepsTasks`. */
  readonly steps: LocalTaskHandler;
  /** The stand-in for an Athena query Task state, given that query's DuckDB text (and the state's name). */
  readonly query: (duckdbSql: string, state: string) => LocalTaskHandler;
}

/**
 * A workflow spec as the local stack runs it: its document with the placeholders
 * filled in, its steps Task states calling the in-process steps Lambda, and each of
 * its query Task states running the spec's DuckDB text of that query.
 */
export function localWorkflow(spec: ExportWorkflowSpec, wiring: LocalWorkflowWiring): LocalWorkflow {
  const placeholders = Object.entries(spec.placeholders) as Array<
    [WorkflowPlaceholder | OptionalWorkflowPlaceholder, string]
  >;
  const values: Record<string, string> = {};
  for (const [meaning, name] of placeholders) {
    const value = wiring.values[meaning];
    if (value === undefined) throw new Error(`workflow ${spec.name}: no local value for its ${meaning} placeholder`);
    values[name] = value;
  }
  return {
    definition: substitute(spec.definition, values),
    tasks: Object.fromEntries([
      ...spec.stepsTasks.map((state) => [state, wiring.steps] as const),
      ...Object.entries(spec.queries).map(([state, query]) => [state, wiring.query(query.duckdb, state)] as const),
    ]),
  };
}

/** Fills `${Name}` placeholders, as Step Functions does with definitionSubstitutions. */
export function substitute(
  definition: Readonly<Record<string, unknown>>,
  values: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const text = JSON.stringify(definition).replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) return whole;
    return JSON.stringify(value).slice(1, -1);
  });
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Runs state machines in process with aws-local-stepfunctions. Executions run in
 * the background like Step Functions'; `idle()` waits for the running ones (tests,
 * shutdown). Names already used are remembered for the life of the process: an
 * execution asked for before the runner started ran in a process that is gone.
 */
export class LocalWorkflowRunner implements WorkflowStarter, WorkflowMonitor {
  private readonly machines = new Map<
    WorkflowName,
    {
      machine: StateMachine;
      tasks: Record<string, LocalTaskHandler>;
      retryIntervalOverrides?: Record<string, number>;
      waitTimeOverrides?: Record<string, number>;
    }
  >();
  private readonly names = new Set<string>();
  private readonly running = new Map<string, Promise<unknown>>();
  /** When this runner started, by the stack's clock (the jobs' times are by it too). */
  private readonly startedAt: Date;

  constructor(
    workflows: Partial<Record<WorkflowName, LocalWorkflow>>,
    private readonly onError: (workflow: WorkflowName, executionName: string, error: unknown) => void = () => undefined,
    clock: Clock = systemClock,
  ) {
    this.startedAt = clock.now();
    for (const [name, workflow] of Object.entries(workflows) as Array<[WorkflowName, LocalWorkflow]>) {
      const taskStates = collectTaskStates(workflow.definition);
      const missing = taskStates.filter((state) => !(state in workflow.tasks));
      if (missing.length > 0)
        throw new Error(`workflow ${name}: no local handler for Task state(s) ${missing.join(', ')}`);
      this.machines.set(name, {
        machine: new StateMachine(workflow.definition as unknown as StateMachineDefinition, {
          validationOptions: { checkArn: false },
        }),
        tasks: workflow.tasks,
        retryIntervalOverrides: workflow.retryIntervalOverrides,
        waitTimeOverrides: workflow.waitTimeOverrides,
      });
    }
  }

  async start(
    workflow: WorkflowName,
    executionName: string,
    input: Record<string, unknown>,
  ): Promise<{ started: boolean }> {
    const entry = this.machines.get(workflow);
    if (!entry) throw new Error(`no local workflow ${workflow}`);
    const key = `${workflow}/${executionName}`;
    if (this.names.has(key)) return { started: false };
    this.names.add(key);
    const execution = entry.machine.run(input as JsonValue, {
      overrides: {
        taskResourceLocalHandlers: entry.tasks,
        retryIntervalOverrides: entry.retryIntervalOverrides,
        waitTimeOverrides: entry.waitTimeOverrides,
      },
      context: { Execution: { Name: executionName, Input: input as JsonValue, StartTime: new Date().toISOString() } },
    });
    const done = execution.result.catch((error: unknown) => this.onError(workflow, executionName, error));
    this.running.set(key, done);
    void done.finally(() => this.running.delete(key));
    return { started: true };
  }

  async executionState(workflow: WorkflowName, executionName: string, requestedAt: Date): Promise<ExecutionState> {
    const key = `${workflow}/${executionName}`;
    if (this.running.has(key)) return 'running';
    if (this.names.has(key)) return 'ended';
    // Asked for before this process started: it ran (if at all) in one that was stopped or killed.
    return requestedAt.getTime() < this.startedAt.getTime() ? 'ended' : 'unknown';
  }

  /** Resolves once no execution is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }
}

/** Every Task state's name, including those inside Map iterators and Parallel branches. */
export function collectTaskStates(definition: Record<string, unknown>): string[] {
  const names: string[] = [];
  const states = (definition.States ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') names.push(name);
    const nested = [state.Iterator, state.ItemProcessor, ...((state.Branches as unknown[]) ?? [])].filter(Boolean);
    for (const child of nested) names.push(...collectTaskStates(child as Record<string, unknown>));
  }
  return names;
}
