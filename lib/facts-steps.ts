import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EventLake } from './event-lake.ts';
import type { ExportInputsTable } from './export-inputs-table.ts';
import type { FactsTables } from './facts-tables.ts';
import { HandlerFunction } from './handler-function.ts';
import type { QueryWorkgroup } from './query-workgroup.ts';
import type { StateTable } from './state-table.ts';

export interface FactsStepsFunctionProps {
  /** Where the environments are listed and each environment's facts manifest is read and replaced. */
  readonly stateTable: StateTable;
  /** The lake: the plan query reads its `events` table; each build's inputs go to its `export_inputs/`. */
  readonly lake: EventLake;
  readonly exportInputs: ExportInputsTable;
  /** The facts whose superseded builds cleanup deletes. */
  readonly facts: FactsTables;
  /** The workgroup the plan query runs in (the daily facts workgroup, with its scan cutoff). */
  readonly workgroup: QueryWorkgroup;
}

/**
 * The Lambda behind the daily facts workflow's Task states (no route reaches it):
 * lists the environments, plans each one's build (a small Athena query over the
 * recent `received` partitions, and the build's inputs file), flips the manifest,
 * and deletes superseded builds. Its grants: the state table (read and write, and a
 * Scan of the tracking-key index, which lists the environments); Athena in the facts
 * workgroup over `events`; PutObject under `export_inputs/`; list and delete under
 * `company_facts/`. It never reads or writes the facts' rows: the workflow's UNLOAD
 * writes them, with the state machine's role.
 */
export class FactsStepsFunction extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: FactsStepsFunctionProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'facts-steps',
      memorySize: 512,
      // The plan's Athena query polls until done; the workflow's own TimeoutSeconds
      // per state stops it sooner where it should.
      timeout: Duration.minutes(10),
      settings: {
        stateTable: props.stateTable.tableName,
        lakeBucket: props.lake.bucket.bucketName,
        dailyFactsWorkgroup: props.workgroup.workgroupName,
        glueDatabase: props.lake.database.databaseName,
      },
    });
    const role = this.handler.role;
    props.stateTable.grantReadWrite(role);
    props.stateTable.grantEnvironmentListing(role);
    props.workgroup.grantQueryExecution(role);
    props.lake.grantQuery(role);
    props.exportInputs.grantWriteInputs(role);
    props.facts.grantDeleteBuilds(role);
  }
}
