import { z } from 'zod';
import { lazyHandler } from '../config.ts';
import { type AssembleEventsExportWeekDeps, assembleEventsExportWeek } from '../core/events-export/assemble-week.ts';
import { EXPORT_FORMATS } from '../core/events-export/request.ts';
import { EVENTS_EXPORT_STEPS } from '../core/events-export/step-names.ts';
import {
  type CompleteEventsExportDeps,
  completeEventsExport,
  type EventsExportPartitionItem,
  type FailEventsExportDeps,
  failEventsExport,
  type PlanEventsExportDeps,
  planEventsExport,
  type StepLog,
} from '../core/events-export/steps.ts';
import { systemClock } from '../core/shared/clock.ts';
import type { Clock } from '../ports/clock.ts';
import { awsDeps } from './aws-deps.ts';
import { workflowStep, workflowStepsHandler } from './workflow-steps.ts';

/** What every step takes (see each use case), the clock and the log defaulted. */
export type EventsExportStepsDeps = PlanEventsExportDeps &
  AssembleEventsExportWeekDeps &
  Omit<CompleteEventsExportDeps & FailEventsExportDeps, 'clock' | 'log'> & {
    readonly clock?: Clock;
    readonly log?: StepLog;
  };

const job = z.object({ job_id: z.string().min(1), app_id: z.string().min(1) });
const partition = z.object({
  week: z.string(),
  from: z.string(),
  to: z.string(),
  file_name: z.string(),
  format: z.enum(EXPORT_FORMATS),
  athena_params: z.array(z.string()),
  unload_prefix: z.string(),
}) satisfies z.ZodType<EventsExportPartitionItem>;

const assembleWeekInput = job.extend({ partition, query: z.object({ output_location: z.string() }) });
const failInput = job.extend({
  failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

/**
 * The Lambda behind the events export workflow's Task states. Step Functions calls
 * it with `{step, job}`; what it returns lands at the state's ResultPath. What it
 * throws ends the run through the Catch, which records the job as failed.
 */
export function makeHandler(deps: EventsExportStepsDeps) {
  const core = {
    ...deps,
    clock: deps.clock ?? systemClock,
    log: deps.log ?? ((entry) => console.error(JSON.stringify(entry))),
  } satisfies EventsExportStepsDeps;
  return workflowStepsHandler({
    [EVENTS_EXPORT_STEPS.plan]: workflowStep(job, (input) => planEventsExport(core, input)),
    [EVENTS_EXPORT_STEPS.assembleWeek]: workflowStep(assembleWeekInput, (input) =>
      assembleEventsExportWeek(core, input),
    ),
    [EVENTS_EXPORT_STEPS.complete]: workflowStep(job, (input) => completeEventsExport(core, input)),
    [EVENTS_EXPORT_STEPS.fail]: workflowStep(failInput, (input) => failEventsExport(core, input)),
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('events-export-steps');
  const publicApiUrl = aws.setting('publicApiUrl');
  return makeHandler({
    jobs: aws.eventsExportJobs(),
    catalog: aws.catalog(),
    inputs: aws.lakeInputs(),
    objects: aws.objects(),
    mailer: aws.mailer(),
    exportsBucket: aws.setting('exportsBucket'),
    linkKey: aws.downloadLinkKey(),
    apiBaseUrl: () => publicApiUrl,
  });
});
