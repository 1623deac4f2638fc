import { z } from 'zod';
import { lazyHandler } from '../config.ts';
import type { CompanyFactsPlan } from '../core/company-export/facts/steps.ts';
import { cleanupCompanyFacts, commitCompanyFacts, planCompanyFacts } from '../core/company-export/facts/steps.ts';
import {
  FACTS_STEPS,
  factsEnvironmentInput,
  factsIterationResults,
  factsWorkflowInput,
  finishDailyFacts,
  listFactsEnvironments,
} from '../core/daily-facts/orchestration.ts';
import { systemClock } from '../core/shared/clock.ts';
import type { Clock } from '../ports/clock.ts';
import type { FactsBuildFiles, FactsManifestStore } from '../ports/company-facts.ts';
import type { EnvironmentStore } from '../ports/environment-store.ts';
import type { LakeInputsWriter } from '../ports/lake-inputs.ts';
import type { QueryEngine } from '../ports/query-engine.ts';
import { awsDeps } from './aws-deps.ts';
import { workflowStep, workflowStepsHandler } from './workflow-steps.ts';

export interface FactsStepsDeps {
  readonly environments: Pick<EnvironmentStore, 'list'>;
  readonly manifest: FactsManifestStore;
  /** Runs the plan query (Athena in the daily facts workgroup; DuckDB locally). */
  readonly query: Pick<QueryEngine, 'readRows'>;
  readonly inputs: LakeInputsWriter;
  readonly files: FactsBuildFiles;
  readonly clock?: Clock;
}

const environmentInput = z.object({ app_id: z.string().min(1) });

/**
 * The plan as the workflow carries it at `$.plan`: made by the plan step of this
 * Lambda, handed back whole to the commit step (passthrough: its fields are core's).
 */
const planInput = z
  .object({
    app_id: z.string().min(1),
    build_id: z.string().min(1),
    manifest_version: z.number().int().min(0),
    days_count: z.number().int().min(0),
  })
  .passthrough();

/**
 * The Lambda behind the daily facts workflow's Task states: each step's input parsed,
 * then its use case (core/daily-facts for the run, core/company-export/facts for one
 * environment's build). An error a step throws ends that environment's iteration (or,
 * for FinishDailyFacts, the execution) as failed; the facts stay as they were.
 */
export function makeHandler(deps: FactsStepsDeps) {
  const clock = deps.clock ?? systemClock;
  const { manifest, query, inputs, files } = deps;
  return workflowStepsHandler({
    [FACTS_STEPS.list]: workflowStep(factsWorkflowInput, (input) => listFactsEnvironments(deps, input)),
    [FACTS_STEPS.plan]: workflowStep(factsEnvironmentInput, (input) =>
      planCompanyFacts({ manifest, query, inputs, clock }, input),
    ),
    [FACTS_STEPS.commit]: workflowStep(planInput, (plan) =>
      commitCompanyFacts({ manifest, clock }, plan as unknown as CompanyFactsPlan),
    ),
    [FACTS_STEPS.cleanup]: workflowStep(environmentInput, (input) =>
      cleanupCompanyFacts({ manifest, files, clock }, { app_id: input.app_id }),
    ),
    [FACTS_STEPS.finish]: workflowStep(factsIterationResults, async (input) => finishDailyFacts(input)),
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('facts-steps');
  return makeHandler({
    environments: aws.environments(),
    manifest: aws.factsManifest(),
    query: aws.factsQueryEngine(),
    inputs: aws.lakeInputs(),
    files: aws.factsBuildFiles(),
  });
});
