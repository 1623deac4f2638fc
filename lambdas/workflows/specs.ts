import type { ExportWorkflowSpecs } from '../contract/workflow-spec.ts';
import { companyExportWorkflow } from './company-export.ts';
import { dailyFactsWorkflow } from './daily-facts.ts';
import { eventsExportWorkflow } from './events-export.ts';

/**
 * Every export workflow's spec: what bin/app.ts hands the stacks, what the infra
 * tests deploy, and what the local stack runs.
 */
export function exportWorkflowSpecs(): ExportWorkflowSpecs {
  return {
    'company-export': companyExportWorkflow(),
    'events-export': eventsExportWorkflow(),
    'daily-facts': dailyFactsWorkflow(),
  };
}
