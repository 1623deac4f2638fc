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
import { FirehoseEventSink } from '../adapters/aws/firehose-event-sink.ts';
import { KmsSecretBox } from '../adapters/aws/kms-secret-box.ts';
import { awsCustomerBuckets } from '../adapters/aws/s3-customer-buckets.ts';
import { S3LakeInputsWriter } from '../adapters/aws/s3-lake-inputs-writer.ts';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.ts';
import { SecretsManagerAdminTokenSource } from '../adapters/aws/secrets-manager-admin-token.ts';
import { SesMailer } from '../adapters/aws/ses-mailer.ts';
import { SfnWorkflowStarter } from '../adapters/aws/sfn-workflow-starter.ts';
import { loadConfig } from '../config.ts';
import type { ENV } from '../contract/settings.ts';
import type { WorkflowName } from '../ports/workflow-starter.ts';

type Setting = keyof typeof ENV;

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

/**
 * Every AWS client and adapter a Lambda's handler is given, each built once per
 * Lambda instance on first use, with one set of client options. Each reads only
 * the settings it needs, so a Lambda reads (and fails fast on) exactly the
 * environment variables of the adapters its handler uses.
 */
function buildAwsDeps(env: NodeJS.ProcessEnv) {
  const setting = (name: Setting): string => loadConfig([name], env)[name];
  const documents = once(() => DynamoDBDocumentClient.from(new DynamoDBClient({})));
  const s3 = once(() => new S3Client(S3_OPTIONS));
  const sfn = once(() => new SFNClient({}));
  const kms = once(() => new KMSClient({}));
  const stateTable = () => ({ client: documents(), tableName: setting('stateTable') });
  const workflowArns: Record<WorkflowName, Setting> = {
    'company-export': 'companyExportStateMachineArn',
    'events-export': 'eventsExportStateMachineArn',
  };
  return {
    setting,
    environments: once(() => new DynamoDbEnvironmentStore(stateTable())),
    catalog: once(() => new DynamoDbCatalogStore(stateTable())),
    companyExportJobs: once(() => new DynamoDbCompanyExportJobs(stateTable())),
    eventsExportJobs: once(() => new DynamoDbEventsExportJobs(stateTable())),
    automaticExports: once(() => new DynamoDbAutomaticExportStore(stateTable())),
    /** Starts and watches executions of the one named state machine. */
    workflows: (name: WorkflowName) =>
      new SfnWorkflowStarter({ client: sfn(), stateMachineArns: { [name]: setting(workflowArns[name]) } }),
    objects: once(() => new S3ObjectStore({ client: s3() })),
    lakeInputs: once(() => new S3LakeInputsWriter({ client: s3(), bucket: setting('lakeBucket') })),
    secrets: once(() => new KmsSecretBox({ client: kms(), keyId: setting('exportSecretsKeyArn') })),
    customerBuckets: once(() => awsCustomerBuckets()),
    eventSink: once(
      () => new FirehoseEventSink({ client: new FirehoseClient({}), streamName: setting('eventStream') }),
    ),
    queryEngine: once(
      () =>
        new AthenaQueryEngine({
          client: new AthenaClient({}),
          workGroup: setting('athenaWorkgroup'),
          database: setting('glueDatabase'),
        }),
    ),
    adminToken: once(
      () =>
        new SecretsManagerAdminTokenSource({
          client: new SecretsManagerClient({}),
          secretArn: setting('adminSecretArn'),
        }),
    ),
    mailer: once(() => new SesMailer({ client: new SESv2({}), from: setting('emailFrom') })),
  };
}

export type AwsDeps = ReturnType<typeof buildAwsDeps>;

let cached: AwsDeps | undefined;

/** The one composition of AWS adapters, shared by every handler of a Lambda instance. */
export function awsDeps(): AwsDeps {
  cached ??= buildAwsDeps(process.env);
  return cached;
}
