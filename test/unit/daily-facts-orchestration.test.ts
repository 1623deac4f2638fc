import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { LocalWorkflowRunner } from '../../lambdas/adapters/local/local-workflow-runner.ts';
import { dispatchAutomaticExports } from '../../lambdas/core/automatic-export/dispatch.ts';
import {
  checkDailyFacts,
  FACTS_WAIT_LIMIT_SECONDS,
  factsBuildRequest,
  factsBuildStatus,
  finishDailyFacts,
  listFactsEnvironments,
  scheduledFactsExecutionName,
  startFactsBuild,
} from '../../lambdas/core/daily-facts/orchestration.ts';
import { createEnvironment } from '../../lambdas/core/environments/create.ts';
import { parseRequestBody } from '../../lambdas/core/shared/request-body.ts';
import { type InMemoryStateTable, inMemoryStateTable } from '../support/local-stack.ts';

/**
 * When the daily facts build runs and how the exports line up behind it, over the
 * real local workflow runner (aws-local-stepfunctions) running a stand-in document
 * whose one state waits until the test lets it end, and environments in dynalite.
 */
let state: InMemoryStateTable;
let environments: DynamoDbEnvironmentStore;
let release: () => void = () => undefined;
let gate = new Promise<void>((resolve) => {
  release = resolve;
});
const started: Array<{ name: string; input: Record<string, unknown> }> = [];

function runner(now: () => Date) {
  const waitForTheTest = async (input: unknown) => {
    await gate;
    return input as never;
  };
  const document = (task: string) => ({
    StartAt: task,
    States: { [task]: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:x', End: true } },
  });
  const machines = new LocalWorkflowRunner(
    {
      'daily-facts': { definition: document('Build'), tasks: { Build: waitForTheTest } },
      'company-export': { definition: document('Export'), tasks: { Export: async (input) => input } },
    },
    undefined,
    { now },
  );
  const original = machines.start.bind(machines);
  machines.start = async (workflow, name, input) => {
    started.push({ name: `${workflow}/${name}`, input });
    return original(workflow, name, input);
  };
  return machines;
}

beforeAll(async () => {
  state = await inMemoryStateTable('daily-facts-orchestration');
  environments = new DynamoDbEnvironmentStore({
    client: DynamoDBDocumentClient.from(state.client),
    tableName: 'daily-facts-orchestration',
  });
});
afterAll(async () => {
  release();
  await state?.close();
});

describe('the schedule', () => {
  it('starts the date’s facts build before any export, once per date, and hands each export the build to wait for', async () => {
    const at = new Date('2025-12-02T00:15:00Z');
    const workflows = runner(() => at);
    const settings = {
      listEnabled: async () => [{ environment_id: 'env-a', cadence: 'daily' }] as never,
      claimRun: async () => ({}) as never,
      releaseRun: async () => undefined,
    };
    const deps = {
      settings,
      environments: { get: async (id: string) => ({ environment_id: id, plan: 'enterprise' }) as never },
      jobs: { create: async () => undefined, markFailed: async () => true } as never,
      workflows,
      clock: { now: () => at },
    };
    started.length = 0;
    const report = await dispatchAutomaticExports(deps, at);

    expect(report.facts).toEqual({ execution_name: 'daily-facts-2025-12-02', started: true, error: null });
    expect(started.map((s) => s.name)).toEqual([
      'daily-facts/daily-facts-2025-12-02',
      'company-export/auto-env-a-2025-12-02',
    ]);
    expect(started[1]?.input.delivery).toEqual({
      environment_id: 'env-a',
      snapshot_date: '2025-12-02',
      facts_build: { execution_name: 'daily-facts-2025-12-02', started_at: at.toISOString() },
    });

    // A second fire for the date starts no second build (the execution name is the date's).
    const again = await dispatchAutomaticExports(deps, new Date('2025-12-02T03:00:00Z'));
    expect(again.facts).toEqual({
      execution_name: scheduledFactsExecutionName('2025-12-02'),
      started: false,
      error: null,
    });
  });

  it('still starts the exports when the build cannot be started, and says why (they then read raw events)', async () => {
    const at = new Date('2025-12-03T00:15:00Z');
    started.length = 0;
    const report = await dispatchAutomaticExports(
      {
        settings: {
          listEnabled: async () => [{ environment_id: 'env-b', cadence: 'daily' }] as never,
          claimRun: async () => ({}) as never,
          releaseRun: async () => undefined,
        },
        environments: { get: async (id: string) => ({ environment_id: id, plan: 'enterprise' }) as never },
        jobs: { create: async () => undefined, markFailed: async () => true } as never,
        workflows: {
          start: async (workflow, name, input) => {
            if (workflow === 'daily-facts') throw new Error('Rate exceeded');
            started.push({ name: `${workflow}/${name}`, input });
            return { started: true };
          },
        },
        clock: { now: () => at },
      },
      at,
    );

    expect(report.facts).toEqual({ execution_name: 'daily-facts-2025-12-03', started: false, error: 'Rate exceeded' });
    expect(report.started).toHaveLength(1);
    expect(started[0]?.input.delivery).toEqual({ environment_id: 'env-b', snapshot_date: '2025-12-03' });
  });
});

describe('an automatic export waiting for the build', () => {
  it('waits while the build runs, within the limit; goes on once it ended, or once the limit is reached', async () => {
    let now = new Date('2025-12-04T00:15:00Z');
    const workflows = runner(() => now);
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await workflows.start('daily-facts', 'daily-facts-2025-12-04', {});
    const after = { execution_name: 'daily-facts-2025-12-04', started_at: now.toISOString() };
    const deps = { workflows, clock: { now: () => now } };

    expect(await checkDailyFacts(deps, after)).toEqual({ wait: true, facts: 'running' });
    now = new Date(now.getTime() + FACTS_WAIT_LIMIT_SECONDS * 1000);
    expect(await checkDailyFacts(deps, after)).toEqual({ wait: false, facts: 'running' });

    release();
    await workflows.idle();
    now = new Date('2025-12-04T00:16:00Z');
    expect(await checkDailyFacts(deps, after)).toEqual({ wait: false, facts: 'ended' });
    // A build this runner never ran (the stack restarted since): nothing to wait for.
    expect(
      await checkDailyFacts(deps, { execution_name: 'daily-facts-2025-12-01', started_at: '2025-12-01T00:15:00Z' }),
    ).toEqual({ wait: false, facts: 'ended' });
  });
});

describe('on demand', () => {
  it('builds one environment (404 for one that does not exist) or all; days only with an environment', async () => {
    const workflows = runner(() => new Date());
    const { environment_id: id } = await createEnvironment(environments, { name: 'facts', plan: 'pro' }, new Date());
    const clock = { now: () => new Date('2025-12-05T10:00:00Z') };

    const one = await startFactsBuild({ environments, workflows, clock }, { environment_id: id });
    expect(one).toMatchObject({ workflow: 'daily-facts', environment_id: id, days: null });
    expect(one.execution_name).toMatch(/^facts-build-[0-9a-f-]{36}$/);
    expect(one.links).toBe(`/admin/v1/facts/builds/${one.execution_name}`);
    expect((await factsBuildStatus({ workflows, clock }, one.execution_name)).status).toBe('running');
    await expect(factsBuildStatus({ workflows, clock }, '../etc')).rejects.toThrow(/No facts build/);

    await expect(startFactsBuild({ environments, workflows, clock }, { environment_id: 'nope' })).rejects.toMatchObject(
      {
        status: 404,
        field: 'environment_id',
      },
    );
    const problems = (body: unknown) => {
      try {
        parseRequestBody('admin', factsBuildRequest, JSON.stringify(body));
        return null;
      } catch (error) {
        return (error as { problems: { field: string; problem: string }[] }).problems;
      }
    };
    expect(problems({ days: { from: '2025-01-01', to: '2025-01-31' } })).toEqual([
      { field: 'environment_id', problem: expect.stringMatching(/required when days are given/) },
    ]);
    expect(problems({ environment_id: id, days: { from: '2025-02-01', to: '2025-01-31' } })).toEqual([
      { field: 'days.to', problem: expect.stringMatching(/from must not be after to/) },
    ]);
    expect(problems({ environment_id: 7 })).toEqual([{ field: 'environment_id', problem: 'must be a string' }]);
    expect(problems({})).toBeNull();

    expect(
      await listFactsEnvironments({ environments }, { requested_at: clock.now().toISOString(), trigger: 'admin' }),
    ).toEqual({
      environments: (await environments.list()).map((environment) => ({ app_id: environment.environment_id })),
    });
    expect((await environments.list()).map((environment) => environment.environment_id)).toContain(id);
    release();
    await workflows.idle();
  });

  it('fails the run at its end naming the environments whose facts were not built', () => {
    expect(finishDailyFacts({ results: [{ app_id: 'a', failed: false }] })).toEqual({ environments: 1, failed: 0 });
    expect(() =>
      finishDailyFacts({
        results: [
          { app_id: 'a', failed: false },
          { app_id: 'b', failed: true, error: 'States.TaskFailed' },
        ],
      }),
    ).toThrow(/of 2 environment\(s\) were not built: b \(States.TaskFailed\)/);
  });
});
