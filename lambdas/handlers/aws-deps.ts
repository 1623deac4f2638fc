import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2 } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AthenaQueryEngine } from '../adapters/aws/athena-query-engine.ts';
import { DynamoDbAutomaticExportStore } from '../adapters/aws/dynamodb-automatic-export-store.ts';
import { DynamoDbCatalogStore } from '../adapters/aws/dynamodb-catalog-store.ts';
import { DynamoDbCompanyExportJobs } from '../adapters/aws/dynamodb-company-export-jobs.ts';
import { DynamoDbEnvironmentStore } from '../adapters/aws/dynamodb-environment-store.ts';
import { DynamoDbEventsExportJobs } from '../adapters/aws/dynamodb-events-export-jobs.ts';
import { DynamoDbFactsManifestStore } from '../adapters/aws/dynamodb-facts-manifest-store.ts';
import { FirehoseEventSink } from '../adapters/aws/firehose-event-sink.ts';
import { KmsSecretBox } from '../adapters/aws/kms-secret-box.ts';
import { awsCustomerBuckets } from '../adapters/aws/s3-customer-buckets.ts';
import { S3FactsBuildFiles } from '../adapters/aws/s3-facts-build-files.ts';
import { S3LakeInputsWriter } from '../adapters/aws/s3-lake-inputs-writer.ts';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.ts';
import { SecretsManagerSecretSource } from '../adapters/aws/secrets-manager-secret-source.ts';
import { SesMailer } from '../adapters/aws/ses-mailer.ts';
import { SfnWorkflowStarter } from '../adapters/aws/sfn-workflow-starter.ts';
import { loadConfig } from '../config.ts';
import type { LambdaName } from '../contract/lambdas.ts';
import type { LambdaSetting, Setting } from '../contract/settings.ts';
import type { WorkflowName } from '../ports/workflow-starter.ts';

/**
 * Our own S3 objects carry no checksum headers: Athena's results and the lake
 * inputs are read back whole, and an exports file is read through a presigned
 * URL, so the SDK's default streaming checksums would only add framing.
 */
const S3_OPTIONS = {
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
} as const;

/** Builds a value on first use and keeps it. */
function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

/** The setting that holds each workflow's state machine ARN. */
const WORKFLOW_ARNS = {
  'company-export': 'companyExportStateMachineArn',
  'events-export': 'eventsExportStateMachineArn',
  'daily-facts': 'dailyFactsStateMachineArn',
} as const satisfies Record<WorkflowName, Setting>;

/** An adapter and the settings it is built from. */
interface Adapter<S extends Setting, T> {
  readonly settings: readonly S[];
  readonly build: (config: Readonly<Record<S, string>>) => T;
}

const adapter = <S extends Setting, T>(settings: readonly S[], build: Adapter<S, T>['build']): Adapter<S, T> => ({
  settings,
  build,
});

/** Every adapter a handler may be given, over SDK clients each built once, with one set of client options. */
function awsAdapters() {
  const documents = once(() => DynamoDBDocumentClient.from(new DynamoDBClient({})));
  const s3 = once(() => new S3Client(S3_OPTIONS));
  const kms = once(() => new KMSClient({}));
  const secretsManager = once(() => new SecretsManagerClient({}));
  const stateTable = (config: Readonly<Record<'stateTable', string>>) => ({
    client: documents(),
    tableName: config.stateTable,
  });
  return {
    environments: adapter(['stateTable'], (c) => new DynamoDbEnvironmentStore(stateTable(c))),
    catalog: adapter(['stateTable'], (c) => new DynamoDbCatalogStore(stateTable(c))),
    companyExportJobs: adapter(['stateTable'], (c) => new DynamoDbCompanyExportJobs(stateTable(c))),
    eventsExportJobs: adapter(['stateTable'], (c) => new DynamoDbEventsExportJobs(stateTable(c))),
    automaticExports: adapter(['stateTable'], (c) => new DynamoDbAutomaticExportStore(stateTable(c))),
    factsManifest: adapter(['stateTable'], (c) => new DynamoDbFactsManifestStore(stateTable(c))),
    objects: adapter([], () => new S3ObjectStore({ client: s3() })),
    lakeInputs: adapter(['lakeBucket'], (c) => new S3LakeInputsWriter({ client: s3(), bucket: c.lakeBucket })),
    factsBuildFiles: adapter(['lakeBucket'], (c) => new S3FactsBuildFiles({ client: s3(), bucket: c.lakeBucket })),
    secrets: adapter(['exportSecretsKeyArn'], (c) => new KmsSecretBox({ client: kms(), keyId: c.exportSecretsKeyArn })),
    customerBuckets: adapter([], () => awsCustomerBuckets()),
    eventSink: adapter(
      ['eventStream'],
      (c) => new FirehoseEventSink({ client: new FirehoseClient({}), streamName: c.eventStream }),
    ),
    queryEngine: adapter(
      ['athenaWorkgroup', 'glueDatabase'],
      (c) =>
        new AthenaQueryEngine({ client: new AthenaClient({}), workGroup: c.athenaWorkgroup, database: c.glueDatabase }),
    ),
    // The daily facts plan query, in the facts workgroup (its own scan cutoff).
    factsQueryEngine: adapter(
      ['dailyFactsWorkgroup', 'glueDatabase'],
      (c) =>
        new AthenaQueryEngine({
          client: new AthenaClient({}),
          workGroup: c.dailyFactsWorkgroup,
          database: c.glueDatabase,
        }),
    ),
    adminToken: adapter(
      ['adminSecretArn'],
      (c) => new SecretsManagerSecretSource({ client: secretsManager(), secretArn: c.adminSecretArn }),
    ),
    downloadLinkKey: adapter(
      ['downloadLinkSecretArn'],
      (c) => new SecretsManagerSecretSource({ client: secretsManager(), secretArn: c.downloadLinkSecretArn }),
    ),
    mailer: adapter(['emailFrom'], (c) => new SesMailer({ client: new SESv2({}), from: c.emailFrom })),
  };
}

type AwsAdapters = ReturnType<typeof awsAdapters>;

/** The adapters one Lambda's settings can build: asking for another is a type error. */
type AdaptersOf<L extends LambdaName> = {
  readonly [K in keyof AwsAdapters as AwsAdapters[K] extends Adapter<infer S, unknown>
    ? [S] extends [LambdaSetting<L>]
      ? K
      : never
    : never]: () => ReturnType<AwsAdapters[K]['build']>;
};

/** The workflows whose state machine ARN is one of a Lambda's settings. */
type WorkflowOf<L extends LambdaName> = {
  [W in WorkflowName]: (typeof WORKFLOW_ARNS)[W] extends LambdaSetting<L> ? W : never;
}[WorkflowName];

export type AwsDeps<L extends LambdaName> = AdaptersOf<L> & {
  /** One of the Lambda's settings. */
  readonly setting: (name: LambdaSetting<L>) => string;
  /** Starts and watches executions of the named state machines (one or more). */
  readonly workflows: (...names: [WorkflowOf<L>, ...WorkflowOf<L>[]]) => SfnWorkflowStarter;
};

/**
 * Every AWS client and adapter a Lambda's handler is given, each built once per
 * Lambda instance on first use. The Lambda's settings (its list in
 * LAMBDA_SETTINGS) are read once, up front, so a misconfigured Lambda fails on
 * its first invocation naming every missing variable; it gets the adapters
 * those settings can build, and no other.
 */
function buildAwsDeps<L extends LambdaName>(lambda: L, env: NodeJS.ProcessEnv): AwsDeps<L> {
  const config: Partial<Record<Setting, string>> = loadConfig(lambda, env);
  // The types hold handlers to their Lambda's settings; this holds a cast.
  const setting = (name: Setting): string => {
    const value = config[name];
    if (value === undefined) {
      throw new Error(
        `the ${lambda} Lambda has no setting ${name}: add it to LAMBDA_SETTINGS (lambdas/contract/settings.ts) and to its construct in lib/`,
      );
    }
    return value;
  };
  const sfn = once(() => new SFNClient({}));
  const adapters: Record<string, () => unknown> = {};
  for (const [name, { settings, build }] of Object.entries(awsAdapters()) as [string, Adapter<Setting, unknown>][]) {
    if (settings.every((s) => config[s] !== undefined)) {
      adapters[name] = once(() => build(config as Record<Setting, string>));
    }
  }
  return {
    ...adapters,
    setting,
    workflows: (...names: WorkflowName[]) =>
      new SfnWorkflowStarter({
        client: sfn(),
        stateMachineArns: Object.fromEntries(names.map((name) => [name, setting(WORKFLOW_ARNS[name])])),
      }),
  } as unknown as AwsDeps<L>;
}

let cached: { readonly lambda: LambdaName; readonly deps: unknown } | undefined;

/** The one composition of AWS adapters for a Lambda, shared by every handler of its instance. */
export function awsDeps<L extends LambdaName>(lambda: L): AwsDeps<L> {
  if (cached?.lambda !== lambda) cached = { lambda, deps: buildAwsDeps(lambda, process.env) };
  return cached.deps as AwsDeps<L>;
}
