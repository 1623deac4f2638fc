import middy from '@middy/core';
import { z } from 'zod';
import { lazyHandler } from '../config.ts';
import { type DispatchDeps, type DispatchReport, dispatchAutomaticExports } from '../core/automatic-export/dispatch.ts';
import { systemClock } from '../core/shared/clock.ts';
import { awsDeps } from './aws-deps.ts';

/** What the schedule sends: the instant it was scheduled for (`<aws.scheduler.scheduled-time>`). */
const scheduledEvent = z.object({ at: z.iso.datetime({ offset: true }).optional() }).loose();

/**
 * The Lambda the daily EventBridge schedule invokes. It starts the due automatic
 * exports for the fire's instant (a retried fire carries the same instant, so it
 * starts nothing twice), after the fire's daily facts build, and logs one line of
 * what it did. If the build or any environment could not be started it throws after
 * trying all of them, so the schedule's retry policy tries again; what already
 * started is skipped then.
 */
export function makeHandler(deps: Omit<DispatchDeps, 'clock'> & Partial<Pick<DispatchDeps, 'clock'>>) {
  const clock = deps.clock ?? systemClock;
  return middy(async (event: unknown): Promise<DispatchReport> => {
    const { at } = scheduledEvent.parse(event ?? {});
    const report = await dispatchAutomaticExports({ ...deps, clock }, at ? new Date(at) : clock.now());
    const failed = report.failed.length > 0 || report.facts.error !== null;
    console.log(JSON.stringify({ level: failed ? 'error' : 'info', message: 'dispatched', ...report }));
    // Both failures are named: an operator reading the alarm sees everything the retry has to redo.
    const problems = [
      ...(report.facts.error !== null
        ? [`the daily facts build for ${report.snapshot_date} could not be started: ${report.facts.error}`]
        : []),
      ...(report.failed.length > 0
        ? [`${report.failed.length} automatic export(s) could not be started for ${report.snapshot_date}`]
        : []),
    ];
    if (problems.length > 0) throw new Error(problems.join('; '));
    return report;
  });
}

export const handler = lazyHandler(() => {
  const aws = awsDeps('export-dispatcher');
  return makeHandler({
    settings: aws.automaticExports(),
    environments: aws.environments(),
    jobs: aws.companyExportJobs(),
    workflows: aws.workflows('company-export', 'daily-facts'),
  });
});
