import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { EVENTS_EXPORT_RESULTS_PREFIX } from '../lambdas/contract/exports.ts';
import { eventsExportSql } from '../lambdas/core/events-export/sql.ts';
import { type EventsExportSubstitutions, eventsExportDefinition } from '../lambdas/core/events-export/workflow.ts';
import { AthenaExportWorkflow, type AthenaExportWorkflowProps } from './athena-export-workflow.ts';

export interface EventsExportWorkflowProps extends AthenaExportWorkflowProps {
  /** The Lambda behind the PlanEventsExport, WriteEventsWeekFile, Complete and failure Task states. */
  readonly eventsExportSteps: IFunction;
}

/**
 * The bulk raw-event export state machine (seed 002): the very Amazon States
 * Language document the local stack runs (eventsExportDefinition over the
 * Trino text of the weekly partition query), deployed with
 * definitionSubstitutions. A Map runs one Athena query per Monday-based week in
 * the events export workgroup, whose enforced results prefix must be
 * EVENTS_EXPORT_RESULTS_PREFIX. See AthenaExportWorkflow for what its role may do.
 */
export class EventsExportWorkflow extends AthenaExportWorkflow<EventsExportSubstitutions> {
  constructor(scope: Construct, id: string, props: EventsExportWorkflowProps) {
    super(scope, id, props, {
      name: 'EventsExportWorkflow',
      comment: 'featurelake bulk raw-event export (seed 002)',
      definition: eventsExportDefinition(eventsExportSql('trino')),
      substitutions: {
        EventsExportStepsFunctionArn: props.eventsExportSteps.functionArn,
        GlueDatabase: props.lake.database.databaseName,
        AthenaWorkGroup: props.workgroup.workgroupName,
        ResultsBucket: props.workgroup.resultsBucket.bucketName,
      },
      resultsPrefix: EVENTS_EXPORT_RESULTS_PREFIX,
      steps: props.eventsExportSteps,
    });
  }
}
