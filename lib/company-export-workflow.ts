import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { COMPANY_EXPORT_RESULTS_PREFIX } from '../lambdas/contract/exports.ts';
import { companyRollupSql } from '../lambdas/core/company-export/rollup/index.ts';
import { type CompanyExportSubstitutions, companyExportDefinition } from '../lambdas/core/company-export/workflow.ts';
import { AthenaExportWorkflow, type AthenaExportWorkflowProps } from './athena-export-workflow.ts';

export interface CompanyExportWorkflowProps extends AthenaExportWorkflowProps {
  /** The Lambda behind the PrepareRollupInputs, PublishCsv and RecordFailure Task states. */
  readonly exportSteps: IFunction;
}

/**
 * The company export state machine: the very Amazon States Language document
 * that the local stack runs (companyExportDefinition over the Trino text of
 * the rollup), deployed with definitionSubstitutions. The workgroup's results
 * prefix must be COMPANY_EXPORT_RESULTS_PREFIX. See AthenaExportWorkflow for
 * what its role may do.
 */
export class CompanyExportWorkflow extends AthenaExportWorkflow<CompanyExportSubstitutions> {
  constructor(scope: Construct, id: string, props: CompanyExportWorkflowProps) {
    super(scope, id, props, {
      name: 'CompanyExportWorkflow',
      comment: 'featurelake company feature-adoption export',
      definition: companyExportDefinition(companyRollupSql('trino')),
      substitutions: {
        ExportStepsFunctionArn: props.exportSteps.functionArn,
        GlueDatabase: props.lake.database.databaseName,
        AthenaWorkGroup: props.workgroup.workgroupName,
        ResultsBucket: props.workgroup.resultsBucket.bucketName,
      },
      resultsPrefix: COMPANY_EXPORT_RESULTS_PREFIX,
      steps: props.exportSteps,
    });
  }
}
