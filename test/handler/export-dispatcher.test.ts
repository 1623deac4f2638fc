import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbAutomaticExportStore } from '../../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { localLambdaContext } from '../../lambdas/adapters/local/api-gateway-server.ts';
import type { AutomaticExportSettings } from '../../lambdas/core/automatic-export/automatic-export.ts';
import { newEnvironment, type Plan } from '../../lambdas/core/environments/environments.ts';
import { makeHandler } from '../../lambdas/handlers/export-dispatcher.ts';
import type { WorkflowStarter } from '../../lambdas/ports/workflow-starter.ts';
import { type InMemoryStateTable, inMemoryStateTable } from '../support/local-stack.ts';

/**
 * The dispatcher Lambda over dynalite, with a workflow starter that behaves as
 * Step Functions does with names (a name used once never starts again) and can be
 * made to fail: what it starts, skips, and puts back.
 */
const TABLE = 'dispatcher-test';
let state: InMemoryStateTable;
let settings: DynamoDbAutomaticExportStore;
let environments: DynamoDbEnvironmentStore;
let jobs: DynamoDbCompanyExportJobs;
const names = new Set<string>();
let failStarts = false;
const started: { name: string; input: Record<string, unknown> }[] = [];
const workflows: WorkflowStarter = {
  async start(_workflow, name, input) {
    if (failStarts) throw new Error('Step Functions is throttling StartExecution');
    if (names.has(name)) return { started: false };
    names.add(name);
    started.push({ name, input });
    return { started: true };
  },
};
const clock = { now: () => new Date('2025-12-01T00:15:03.000Z') };
const dispatcher = () => makeHandler({ settings, environments, jobs, workflows, clock });
const fire = (at?: string) => dispatcher()(at ? { at } : {}, localLambdaContext('export-dispatcher'));

async function environmentWithSettings(plan: Plan, cadence: 'daily' | 'weekly'): Promise<string> {
  const { stored } = newEnvironment({ name: `env-${plan}-${cadence}`, plan }, clock.now());
  await environments.create(stored);
  const saved: AutomaticExportSettings = {
    environment_id: stored.environment_id,
    enabled: true,
    cadence,
    destination: { provider: 'gcp', bucket: 'b-1', region: 'auto', prefix: '', endpoint: null, bucket_url: null },
    access_key_id: 'GOOG1',
    secret: {
      scheme: 'local-key-file',
      key_id: null,
      encrypted_key: null,
      iv: 'aQ==',
      tag: 'dA==',
      ciphertext: 'Yw==',
    },
    created_at: clock.now().toISOString(),
    updated_at: clock.now().toISOString(),
  };
  await settings.saveSettings(saved);
  return stored.environment_id;
}

let daily: string;
let weekly: string;
let downgraded: string;

beforeAll(async () => {
  state = await inMemoryStateTable(TABLE);
  const documents = state.documents;
  settings = new DynamoDbAutomaticExportStore({ client: documents, tableName: TABLE });
  environments = new DynamoDbEnvironmentStore({ client: documents, tableName: TABLE });
  jobs = new DynamoDbCompanyExportJobs({ client: documents, tableName: TABLE });
  daily = await environmentWithSettings('enterprise', 'daily');
  weekly = await environmentWithSettings('enterprise', 'weekly');
  // Saved on Enterprise, then moved to Pro: the schedule must stop delivering.
  downgraded = await environmentWithSettings('pro', 'daily');
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await state?.close();
});

describe('the export dispatcher Lambda', () => {
  it('on a Monday fire starts one `today` export as of 00:00 per due setting, named by environment and date', async () => {
    const report = await fire('2025-12-01T00:15:00Z');
    expect(report.snapshot_at).toBe('2025-12-01T00:00:00.000Z');
    expect(report.started.map((s) => s.environment_id).sort()).toEqual([daily, weekly].sort());
    expect(report.skipped).toEqual([
      { environment_id: downgraded, reason: 'the pro plan does not include automatic exports' },
    ]);
    const input = started.find((s) => s.name === `auto-${daily}-2025-12-01`)?.input;
    expect(input).toMatchObject({
      app_id: daily,
      aggregation: 'today',
      as_of: '2025-12-01T00:00:00.000Z',
      delivery: { environment_id: daily, snapshot_date: '2025-12-01' },
    });
    // No credentials travel in the execution input (Step Functions keeps it in its history).
    expect(JSON.stringify(input)).not.toMatch(/GOOG1|secret|ciphertext/);
    expect(await settings.get(daily)).toMatchObject({
      last_status: 'running',
      last_run_at: '2025-12-01T00:15:03.000Z',
      last_job_id: input?.job_id,
      last_dispatched_date: '2025-12-01',
    });
  });

  it('a retried fire (same scheduled time) starts nothing', async () => {
    const count = started.length;
    const report = await fire('2025-12-01T00:15:00Z');
    expect(report.started).toEqual([]);
    expect(started.length).toBe(count);
  });

  it('when Step Functions already ran the name, the status the claim replaced is put back', async () => {
    await fire('2025-12-02T00:15:00Z');
    const tuesday = await settings.get(daily);
    await settings.recordRun(daily, String(tuesday?.last_job_id), {
      status: 'successful',
      error: null,
      finished_at: '2025-12-02T00:20:00.000Z',
    });
    // A Monday fire again: the setting's guard (last date: Tuesday) lets it through, the name does not.
    const report = await fire('2025-12-01T08:00:00Z');
    expect(report.started).toEqual([]);
    expect(report.skipped).toContainEqual({
      environment_id: daily,
      reason: 'an export for 2025-12-01 was already started',
    });
    expect(await settings.get(daily)).toMatchObject({
      last_status: 'successful',
      last_job_id: tuesday?.last_job_id,
      last_dispatched_date: '2025-12-02',
    });
  });

  it('a start that fails gives the date back and throws, so the retried fire starts it', async () => {
    failStarts = true;
    await expect(fire('2025-12-03T00:15:00Z')).rejects.toThrow(/could not be started for 2025-12-03/);
    expect((await settings.get(daily))?.last_dispatched_date).toBe('2025-12-02');
    failStarts = false;
    const retried = await fire('2025-12-03T00:15:00Z');
    expect(retried.started.map((s) => s.environment_id)).toEqual([daily]);
  });

  it('without an instant in the event, fires for the clock’s now', async () => {
    const report = await fire();
    expect(report.at).toBe('2025-12-01T00:15:03.000Z');
  });
});
