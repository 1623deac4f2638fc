/** The Lambdas: which file each bundles, and the time budgets both the CDK and the code keep. */
import type { HandlerName } from './routes.ts';

/** Every Lambda: the route handlers, and the one behind the export workflows' Task states. */
export type LambdaName = HandlerName | 'export-steps' | 'export-dispatcher' | 'events-export-steps' | 'facts-steps';

/** Handler entry files, relative to the repository root. */
export const HANDLER_ENTRIES: Record<LambdaName, string> = {
  tracking: 'lambdas/handlers/tracking.ts',
  admin: 'lambdas/handlers/admin.ts',
  health: 'lambdas/handlers/health.ts',
  catalog: 'lambdas/handlers/catalog.ts',
  'company-exports': 'lambdas/handlers/company-exports.ts',
  'export-steps': 'lambdas/handlers/company-export-steps.ts',
  'automatic-exports': 'lambdas/handlers/automatic-exports.ts',
  'export-dispatcher': 'lambdas/handlers/export-dispatcher.ts',
  'events-exports': 'lambdas/handlers/events-exports.ts',
  'events-export-steps': 'lambdas/handlers/events-export-steps.ts',
  openapi: 'lambdas/handlers/openapi.ts',
  'lake-insights': 'lambdas/handlers/lake-insights.ts',
  'facts-steps': 'lambdas/handlers/facts-steps.ts',
};

/** Lambda's own ceiling for a function's timeout. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 15 * 60;

/**
 * Timeout of the two workflow-steps Lambdas (export-steps, events-export-steps):
 * Lambda's maximum, since a publish or a week file streams up to a GB in one call.
 * The CDK deploys it and the local stack gives their local invocations the same
 * budget (middy stops a handler when the budget runs out).
 */
export const WORKFLOW_STEPS_TIMEOUT_SECONDS = LAMBDA_MAX_TIMEOUT_SECONDS;

/**
 * Slack between an API starting an execution and the execution's own clock: a job
 * still `running` this long after its state machine's TimeoutSeconds has failed.
 */
export const WORKFLOW_DEADLINE_MARGIN_MS = 5 * 60 * 1000;
