import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { AdminToken } from './admin-token.ts';
import type { EventLake } from './event-lake.ts';
import type { ExportInputsTable } from './export-inputs-table.ts';
import type { FactsTables } from './facts-tables.ts';
import { HandlerFunction } from './handler-function.ts';
import type { QueryWorkgroup } from './query-workgroup.ts';
import type { StateTable } from './state-table.ts';

export interface LakeInsightsApiHandlerProps {
  /** The admin token, which also opens this Lambda's `Token` routes (with the Featurelake-Environment header). */
  readonly adminToken: AdminToken;
  /** Where API key hashes and the catalog (features, segments) live. */
  readonly stateTable: StateTable;
  /** The lake the console's reads query. */
  readonly lake: EventLake;
  /** The rollup's per-call inputs table, written and read by the STARS funnel. */
  readonly exportInputs: ExportInputsTable;
  /** The Athena workgroup the reads run in (its per-query scan cutoff bounds each call's cost). */
  readonly workgroup: QueryWorkgroup;
  /** The daily facts, which the STARS funnel reads where current, as the company exports do. */
  readonly facts: FactsTables;
  /**
   * Whether the funnel reads the daily facts (the exports' `rollupFromFacts`); false:
   * the full recompute over the lake's whole history.
   *
   * @default true
   */
  readonly rollupFromFacts?: boolean;
}

/**
 * The console's lake reads (`GET /api/v1/tracking/events`, `…/tracking/unassociated`,
 * `/api/v1/stars-funnel`): synchronous Athena queries in the admin workgroup over the
 * lake, the daily facts and `export_inputs`, whose inputs file the funnel writes first.
 */
export class LakeInsightsApiHandler extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: LakeInsightsApiHandlerProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'lake-insights',
      memorySize: 512,
      // A synchronous Athena query has to finish inside API Gateway's 30 s.
      timeout: Duration.seconds(29),
      settings: {
        stateTable: props.stateTable.tableName,
        adminSecretArn: props.adminToken.secretArn,
        athenaWorkgroup: props.workgroup.workgroupName,
        glueDatabase: props.lake.database.databaseName,
        lakeBucket: props.lake.bucket.bucketName,
        rollupFromFacts: props.rollupFromFacts === false ? '0' : '1',
      },
    });
    const role = this.handler.role;
    // Key lookups and catalog reads (the state table has no read-only grant of its own).
    props.stateTable.grantReadWrite(role);
    props.adminToken.grantRead(role);
    props.workgroup.grantQueryExecution(role);
    props.lake.grantQuery(role);
    props.exportInputs.grantQuery(role);
    props.exportInputs.grantWriteInputs(role);
    // The funnel reads the facts the manifest (a state table item) names.
    props.facts.grantQuery(role);
  }
}
