import { type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { EVENTS_EXPORT_UNLOAD_PREFIX, EVENTS_EXPORTS_PREFIX } from '../lambdas/contract/exports.ts';
import type { FeaturelakeApiStack } from './api-stack.ts';
import type { FeaturelakeDataStack } from './data-stack.ts';
import { EXPORT_INPUTS_PREFIX } from './export-inputs-table.ts';
import { COMPANY_EXPORTS_PREFIX } from './exports-bucket.ts';
import { COMPANY_FACTS_PREFIX } from './facts-tables.ts';

/**
 * Every cdk-nag AwsSolutions finding featurelake accepts, with why. This is the
 * only place findings are acknowledged; each is pinned to the construct it is
 * about (never a whole stack), so a new resource with the same problem is
 * still reported.
 */
export function acknowledgeNagFindings(stacks: {
  readonly data: FeaturelakeDataStack;
  readonly api: FeaturelakeApiStack;
}): void {
  const { data, api } = stacks;
  const lakeBucketArn = arnToken(data.lake.bucket);
  const resultsBucketArn = arnToken(data.workgroup.resultsBucket);

  // The Firehose destination role. aws-kinesisfirehose's S3Bucket destination
  // grants itself bucket.grantReadWrite() and the Glue schema lookup; neither
  // can be narrowed through the L2, and the L2 is what keeps the Parquet
  // conversion and partitioning settings checked at synth time.
  const firehose = data.eventStream;
  for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
    acknowledge(
      firehose,
      `AwsSolutions-IAM5[Action::${action}]`,
      `Firehose destination role on the lake bucket only: the L2 S3Bucket destination grants grantReadWrite (Firehose needs Get/List/Put/AbortMultipartUpload; the rest cannot be removed through the L2).`,
    );
  }
  acknowledge(
    firehose,
    `AwsSolutions-IAM5[Resource::${lakeBucketArn}/*]`,
    "Firehose writes objects under prefixes chosen per record by dynamic partitioning (events/shard=…/received=…/) and errors/, so it needs the bucket's object ARNs.",
  );
  acknowledge(
    firehose,
    'AwsSolutions-IAM5[Resource::*]',
    'glue:GetSchemaVersion on *, added by the L2 SchemaConfiguration for Glue Schema Registry lookups; the stream reads a Glue table (not a registry schema), whose GetTable* grants are scoped to the catalog, database and table.',
  );

  // Querying the lake: Athena reads the table's objects and writes results
  // with the caller's credentials, under object names nobody chooses in advance.
  acknowledge(
    data.lake.queryPolicy,
    `AwsSolutions-IAM5[Resource::${lakeBucketArn}/events/*]`,
    "Athena reads the events table with the caller's credentials: s3:GetObject on the table's prefix (events/) only, whose object names Firehose chooses at write time.",
  );
  acknowledge(
    data.workgroup.queryExecutionPolicy,
    `AwsSolutions-IAM5[Resource::${resultsBucketArn}/results/*]`,
    'Athena writes, and the querying role reads, result files under results/ whose names Athena generates per query execution.',
  );

  // The company export: each of these is one prefix of one bucket, whose
  // object names are made per job (or per query) at run time.
  const companyExportResults = `${resultsBucketArn}/${data.companyExportWorkgroup.resultsPrefix}*`;
  acknowledge(
    data.companyExportWorkgroup,
    `AwsSolutions-IAM5[Resource::${companyExportResults}]`,
    "Athena writes company export rollup results under company-exports/ with the caller's (the state machine's) credentials, named per query execution; the export step reads them back. Only this workgroup's prefix of the results bucket.",
  );
  acknowledge(
    data.exportInputs,
    `AwsSolutions-IAM5[Resource::${lakeBucketArn}/${EXPORT_INPUTS_PREFIX}*]`,
    "Each export job's inputs file is written to, and read by Athena (with the caller's credentials) from, export_inputs/<job id>.json, a key made per job. Nothing else in the lake bucket.",
  );
  acknowledge(
    data.exports,
    `AwsSolutions-IAM5[Resource::${arnToken(data.exports.bucket)}/${COMPANY_EXPORTS_PREFIX}*]`,
    'Company export files are written (export step) and presigned for download (API) at company-exports/<environment>/<job id>.csv, a key made per job. Nothing else in the exports bucket.',
  );

  // The bulk raw-event export (seed 002): likewise one prefix per bucket.
  const eventsExportResults = `${resultsBucketArn}/${data.eventsExportWorkgroup.resultsPrefix}*`;
  acknowledge(
    data.eventsExportWorkgroup,
    `AwsSolutions-IAM5[Resource::${eventsExportResults}]`,
    "Athena writes each week's events export result under events-exports/ with the caller's (the state machine's) credentials, named per query execution; the events export step reads them back. Only this workgroup's prefix of the results bucket.",
  );
  acknowledge(
    api.eventsExportSteps.unloadCleanupPolicy,
    `AwsSolutions-IAM5[Resource::${resultsBucketArn}/${EVENTS_EXPORT_UNLOAD_PREFIX}*]`,
    "The events export step deletes each week's UNLOAD files (events-exports/unload/<job id>/<week>/<file>, names Athena makes) once the week's file is assembled; nothing else of the results bucket.",
  );
  acknowledge(
    data.exports,
    `AwsSolutions-IAM5[Resource::${arnToken(data.exports.bucket)}/${EVENTS_EXPORTS_PREFIX}*]`,
    'Events export files are written (events export step) and presigned for download (API, and the completion email) at events-exports/<environment>/<job id>/<monday>.<format>.gz, keys made per job and week. Nothing else in the exports bucket.',
  );

  // The daily facts: one prefix of the lake bucket, build folders made per run.
  const dailyFactsResults = `${resultsBucketArn}/${data.dailyFactsWorkgroup.resultsPrefix}*`;
  acknowledge(
    data.dailyFactsWorkgroup,
    `AwsSolutions-IAM5[Resource::${dailyFactsResults}]`,
    "Athena writes the daily facts queries' results (the plan's rows, each UNLOAD's manifest) under daily-facts/ with the caller's credentials, named per query execution. Only this workgroup's prefix of the results bucket.",
  );
  const factsObjects = `AwsSolutions-IAM5[Resource::${lakeBucketArn}/${COMPANY_FACTS_PREFIX}*]`;
  acknowledge(
    data.facts.queryPolicy,
    factsObjects,
    "Athena reads the company_facts table with the caller's credentials: s3:GetObject under company_facts/ only, whose object names each build's UNLOAD makes (company_facts/shard=<n>/<environment>/<build id>/…).",
  );
  acknowledge(
    data.facts.writePolicy,
    factsObjects,
    "The daily facts UNLOAD writes a build's Parquet files with the state machine's credentials under company_facts/shard=<n>/<environment>/<build id>/, names Athena makes; nothing else of the lake bucket.",
  );
  acknowledge(
    data.facts.deletePolicy,
    factsObjects,
    'The facts cleanup step deletes superseded builds (company_facts/shard=<n>/<environment>/<build id>/…, folders made per run); nothing else of the lake bucket.',
  );
  const factsExecutions = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${Stack.of(api.dailyFactsWorkflow).region}:<AWS::AccountId>:execution:${attributeToken(api.dailyFactsWorkflow.stateMachine, 'Name')}:*]`;
  acknowledge(
    api.admin.handler,
    factsExecutions,
    'states:DescribeExecution on the daily facts state machine only (execution names are made per date or per request): GET /admin/v1/facts/builds/{name} says whether a build still runs.',
  );
  acknowledge(
    api.exportSteps.handler,
    factsExecutions,
    "states:DescribeExecution on the daily facts state machine only (daily-facts-<date>): an automatic export asks whether its fire's facts build still runs before reading the lake.",
  );
  acknowledge(
    api.dailyFactsWorkflow.stateMachine,
    `AwsSolutions-IAM5[Resource::${arnToken(api.factsSteps.handler.function)}:*]`,
    'lambda:InvokeFunction on the facts-steps function and its qualified ARNs (versions, aliases) only: the Task states invoke it by ARN, and Step Functions may call a qualified one.',
  );
  acknowledge(
    api.dailyFactsWorkflow.stateMachine,
    'AwsSolutions-IAM5[Resource::*]',
    'Added by the StateMachine L2 for its logging and tracing: CloudWatch Logs vended-log delivery (logs:CreateLogDelivery, PutResourcePolicy, …) and X-Ray (PutTraceSegments, GetSamplingRules, …) accept no resource-level permissions.',
  );

  const workflows = [
    {
      workflow: api.companyExportWorkflow,
      steps: api.exportSteps.handler,
      name: 'export-steps',
      kind: 'company',
      reader: api.companyExports.handler,
    },
    {
      workflow: api.eventsExportWorkflow,
      steps: api.eventsExportSteps.handler,
      name: 'events-export-steps',
      kind: 'events',
      reader: api.eventsExports.handler,
    },
  ];
  for (const { workflow, steps, name, kind, reader } of workflows) {
    acknowledge(
      workflow.stateMachine,
      `AwsSolutions-IAM5[Resource::${arnToken(steps.function)}:*]`,
      `lambda:InvokeFunction on the ${name} function and its qualified ARNs (versions, aliases) only: the Task states invoke it by ARN, and Step Functions may call a qualified one.`,
    );
    acknowledge(
      reader,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${Stack.of(workflow).region}:<AWS::AccountId>:execution:${attributeToken(workflow.stateMachine, 'Name')}:*]`,
      `states:DescribeExecution on the executions of the ${kind} export state machine only (their names are made per job): the API reads a job still marked running and asks whether its execution has ended without recording it, to settle the job and free its lock.`,
    );
    acknowledge(
      workflow.stateMachine,
      'AwsSolutions-IAM5[Resource::*]',
      'Added by the StateMachine L2 for its logging and tracing: CloudWatch Logs vended-log delivery (logs:CreateLogDelivery, PutResourcePolicy, …) and X-Ray (PutTraceSegments, GetSamplingRules, …) accept no resource-level permissions.',
    );
  }

  acknowledge(
    api.exportSchedule.schedulerRole,
    `AwsSolutions-IAM5[Resource::${arnToken(api.exportSchedule.dispatcher.function)}:*]`,
    "lambda:InvokeFunction on the export dispatcher and its qualified ARNs (versions, aliases) only: the scheduler target's grantInvoke adds them, and this role serves the daily automatic-export schedule alone.",
  );

  acknowledge(
    data.adminToken.secret,
    'AwsSolutions-SMG4',
    'The admin token is a static bearer token that operators hand to the CLI; automatic rotation would silently break them. Rotate it deliberately with `aws secretsmanager put-secret-value` (docs/deploy.md).',
  );

  acknowledge(
    data.downloadLinkKey.secret,
    'AwsSolutions-SMG4',
    'Rotating the download-link key invalidates every outstanding link (each carries a signature made with the old key), so links promised for 2 days would die early: the very failure the key exists to prevent. Replace it deliberately, to revoke all links, with `aws secretsmanager put-secret-value` (docs/deploy.md).',
  );

  // The console's CloudFront distribution (lib/console.ts).
  const distribution = api.console.distribution;
  acknowledge(
    distribution,
    'AwsSolutions-CFR1',
    'No geo restriction: featurelake is an API and console for its operators and their apps wherever they run; a deployment that needs one adds it.',
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR2',
    'No WAF web ACL by default: a WAF costs a fixed monthly fee per ACL and its rules depend on the deployment; the API stage has its own throttles (docs/deploy.md says how to attach a web ACL).',
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR3',
    "No CloudFront standard logs: they need an ACL-enabled bucket (the access-log bucket enforces bucket-owner ownership); every API request is already in the HTTP API stage's access log, and the console's files are the same static build for everyone (no data, no secrets).",
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR4',
    'The default *.cloudfront.net certificate, so that `cdk deploy` needs no domain: CloudFront then negotiates TLS 1.2+ with modern browsers but cannot pin a minimum policy; a deployment with its own domain and ACM certificate sets TLSv1.2_2021 (docs/deploy.md).',
  );
  // BucketDeployment's provider Lambda (a stack singleton, one per memory size), which copies the built console.
  const assetsBucket = `arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${Stack.of(api).region}/*`;
  for (const provider of api.node.children.filter((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'))) {
    acknowledge(
      provider,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's BucketDeployment provider Lambda writes its logs with the AWS managed basic execution policy; the L2 offers no other role shape.",
    );
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
      acknowledge(
        provider,
        `AwsSolutions-IAM5[Action::${action}]`,
        "BucketDeployment grants itself read on the CDK asset bucket and read/write on the console bucket (to copy the built files and prune old ones); the L2's grants cannot be narrowed.",
      );
    }
    acknowledge(
      provider,
      `AwsSolutions-IAM5[Resource::${assetsBucket}]`,
      "The CDK bootstrap asset bucket's objects: the provider reads the console's zipped asset from there (its key is a content hash).",
    );
    acknowledge(
      provider,
      `AwsSolutions-IAM5[Resource::${arnToken(api.console.bucket)}/*]`,
      'The console bucket alone, every key: a deploy writes the built files (hashed names) and deletes the previous ones.',
    );
    acknowledge(
      provider,
      'AwsSolutions-IAM5[Resource::*]',
      'cloudfront:CreateInvalidation and GetInvalidation, which BucketDeployment adds to invalidate /console/* after a deploy; the L2 grants them on *.',
    );
    acknowledge(
      provider,
      'AwsSolutions-L1',
      "The BucketDeployment provider's runtime is chosen by aws-cdk-lib (it runs the AWS CLI layer), not by featurelake.",
    );
  }

  for (const route of api.api.routes) {
    acknowledge(
      route,
      'AwsSolutions-APIG4',
      'Authentication is per route in the handlers, as the seeds define it: GET /health is public; tracking routes carry the public tracking key in the path (seed 001, browsers call them); admin routes check the Bearer admin token from Secrets Manager; catalog and export routes check the `Authorization: Token` API key against its hash in the state table.',
    );
  }
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** How cdk-nag prints a resource's ARN in a finding id: `<LogicalId.Arn>`. */
function arnToken(construct: IConstruct): string {
  return attributeToken(construct, 'Arn');
}

/** How cdk-nag prints a resource's attribute in a finding id: `<LogicalId.Attribute>`. */
function attributeToken(construct: IConstruct, attribute: string): string {
  const resource = construct.node.defaultChild as CfnResource;
  const stack = Stack.of(resource);
  return `<${stack.resolve(stack.getLogicalId(resource))}.${attribute}>`;
}
