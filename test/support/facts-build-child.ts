/**
 * A facts build in a process of its own, for the crash tests: it runs the same steps
 * as `runCompanyFactsBuild` over the given lake and state table, and kills itself with
 * a real SIGKILL at the point named by `FACTS_KILL_AT`:
 * - `during-write`: while DuckDB is writing the build's Parquet file;
 * - `before-commit`: with the build's folder in place, before the manifest flip.
 * Arguments: JSON `{lakeDir, dynamoEndpoint, table, appId, now}`.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbFactsManifestStore } from '../../lambdas/adapters/aws/dynamodb-facts-manifest-store.ts';
import { DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { FileLakeInputsWriter } from '../../lambdas/adapters/local/file-lake-inputs-writer.ts';
import { companyFactsBuildSql } from '../../lambdas/core/company-export/facts/sql.ts';
import { commitCompanyFacts, planCompanyFacts } from '../../lambdas/core/company-export/facts/steps.ts';
import { dynaliteClient } from './local-stack.ts';

const options = JSON.parse(process.argv[2] as string) as {
  lakeDir: string;
  dynamoEndpoint: string;
  table: string;
  appId: string;
  now: string;
};
const killAt = process.env.FACTS_KILL_AT;
const engine = await DuckDbQueryEngine.open({ lakeDir: options.lakeDir });
const manifest = new DynamoDbFactsManifestStore({
  client: DynamoDBDocumentClient.from(dynaliteClient(options.dynamoEndpoint)),
  tableName: options.table,
});
const deps = {
  manifest,
  query: engine,
  inputs: new FileLakeInputsWriter({ lakeDir: options.lakeDir }),
  clock: { now: () => new Date(options.now) },
};
const plan = await planCompanyFacts(deps, { app_id: options.appId });
process.stdout.write(`${JSON.stringify({ build_id: plan.build_id, days: plan.days_count })}\n`);
const write = engine.writeFactsBuild(companyFactsBuildSql('duckdb'), plan.params, plan.app_id, plan.build_id);
if (killAt === 'during-write') {
  // DuckDB writes on its own threads: the process dies with the COPY under way.
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 5);
}
await write;
if (killAt === 'before-commit') process.kill(process.pid, 'SIGKILL');
await commitCompanyFacts(deps, plan);
engine.close();
