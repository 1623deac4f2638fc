/**
 * What an export workflow is, as both sides run it: the CDK deploys the document
 * with definitionSubstitutions, the local stack runs the same document with local
 * values filled in. Types only: the specs themselves are built in
 * lambdas/workflows/ (from core's SQL builders and step names) and handed to
 * lib/ as props by bin/app.ts.
 */
import type { LambdaName } from './lambdas.ts';

/** What each `${Name}` placeholder of a document stands for; every spec's document uses all four. */
export type WorkflowPlaceholder = 'stepsFunctionArn' | 'glueDatabase' | 'athenaWorkGroup' | 'resultsBucket';

/** A placeholder only some documents use: the lake bucket, where the daily facts build UNLOADs its files. */
export type OptionalWorkflowPlaceholder = 'lakeBucket';

/** One query a Task state runs: the same question in each engine's dialect. */
export interface WorkflowQuery {
  /** What Athena runs: the document's QueryString. */
  readonly trino: string;
  /** What the local stack's DuckDB runs instead, with the same parameters. */
  readonly duckdb: string;
}

export interface ExportWorkflowSpec {
  /** The workflow's name (a WorkflowName: what the APIs start it by). */
  readonly name: string;
  /** The Amazon States Language document, `${Name}` placeholders unfilled, JSONPath only. */
  readonly definition: Readonly<Record<string, unknown>>;
  /** The placeholder names the document uses (without `${}`), by what fills them. */
  readonly placeholders: Readonly<Record<WorkflowPlaceholder, string>> &
    Readonly<Partial<Record<OptionalWorkflowPlaceholder, string>>>;
  /** The Athena query Task states, by state name, with their query texts. */
  readonly queries: Readonly<Record<string, WorkflowQuery>>;
  /** The Task states that invoke the steps Lambda. */
  readonly stepsTasks: readonly string[];
  /** The Lambda behind `stepsTasks`. */
  readonly stepsLambda: LambdaName;
  /** The prefix of the results bucket the queries' OutputLocation names; its workgroup must enforce it. */
  readonly resultsPrefix: string;
}

/** Every workflow, by WorkflowName. */
export interface ExportWorkflowSpecs {
  readonly 'company-export': ExportWorkflowSpec;
  readonly 'events-export': ExportWorkflowSpec;
  /** The daily facts build (lambdas/workflows/daily-facts.ts): not an export, but run and deployed the same way. */
  readonly 'daily-facts': ExportWorkflowSpec;
}
