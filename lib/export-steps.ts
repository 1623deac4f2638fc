import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { WORKFLOW_STEPS_TIMEOUT_SECONDS } from '../lambdas/contract/lambdas.ts';
import type { EventLake } from './event-lake.ts';
import type { ExportInputsTable } from './export-inputs-table.ts';
import type { ExportSecretsKey } from './export-secrets-key.ts';
import type { ExportWorkflow } from './export-workflow.ts';
import type { ExportsBucket } from './exports-bucket.ts';
import { HandlerFunction, workflowStepsMemory } from './handler-function.ts';
import type { QueryWorkgroup } from './query-workgroup.ts';
import type { StateTable } from './state-table.ts';

export interface ExportStepsFunctionProps {
  /** Where the catalog is read and jobs are completed or failed. */
  readonly stateTable: StateTable;
  /** The lake whose `export_inputs/` prefix receives each job's inputs file. */
  readonly lake: EventLake;
  readonly exportInputs: ExportInputsTable;
  /** The workgroup whose query results the publish step reads. */
  readonly companyExportWorkgroup: QueryWorkgroup;
  /** Where the published CSV goes (and where delivery reads it back from). */
  readonly exports: ExportsBucket;
  /** The key that seals automatic-export bucket secrets: the delivery step opens them. */
  readonly secretsKey: ExportSecretsKey;
  /** The daily facts build an automatic export waits for (CheckDailyFacts: DescribeExecution only). */
  readonly dailyFactsWorkflow: ExportWorkflow;
  /**
   * Whether exports read the daily facts where current; false: the full recompute
   * from raw events (the fallback switch, FEATURELAKE_ROLLUP_FROM_FACTS=0).
   *
   * @default true
   */
  readonly rollupFromFacts?: boolean;
  /**
   * Memory in MiB. Publishing parses and re-encodes the whole query result
   * (about 1 GB for the largest exports) as a stream: CPU-bound, and Lambda
   * gives a full vCPU from 1,769 MiB.
   *
   * @default 1769
   */
  readonly memorySize?: number;
}

/**
 * The Lambda behind the export workflows' Task states (no route reaches it):
 * it snapshots the catalog into `export_inputs`, turns the rollup's result into
 * the export CSV, delivers automatic exports to the customer's bucket, and
 * records the job's outcome. Each grant is one prefix of one bucket: write
 * `<lake>/export_inputs/*`, read `<results>/company-exports/*`, read and write
 * `<exports>/company-exports/*`; the state table; kms:Decrypt on the export
 * secrets key; DescribeExecution on the daily facts workflow's executions.
 */
export class ExportStepsFunction extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: ExportStepsFunctionProps) {
    super(scope, id);
    const memorySize = workflowStepsMemory('ExportStepsFunction', props.memorySize, 'streaming a ~1 GB CSV');
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'export-steps',
      memorySize,
      // Lambda's maximum: the publish step streams the whole CSV; the
      // workflow's own TimeoutSeconds per state stops it sooner where it should.
      timeout: Duration.seconds(WORKFLOW_STEPS_TIMEOUT_SECONDS),
      settings: {
        stateTable: props.stateTable.tableName,
        exportsBucket: props.exports.bucketName,
        lakeBucket: props.lake.bucket.bucketName,
        exportSecretsKeyArn: props.secretsKey.keyArn,
        dailyFactsStateMachineArn: props.dailyFactsWorkflow.stateMachineArn,
        rollupFromFacts: props.rollupFromFacts === false ? '0' : '1',
      },
    });
    const role = this.handler.role;
    props.stateTable.grantReadWrite(role);
    props.exportInputs.grantWriteInputs(role);
    props.companyExportWorkgroup.grantReadResults(role);
    props.exports.grantWriteCompanyExports(role);
    // Delivery: read the published CSV back, and open the customer's secret
    // (kms:Decrypt on that key, with the automatic-export context only). The
    // upload itself uses the customer's keys, not this role.
    props.exports.grantReadCompanyExports(role);
    props.secretsKey.grantOpen(role);
    // An automatic export asks whether its fire's facts build still runs.
    props.dailyFactsWorkflow.grantDescribeExecutions(role);
  }
}
