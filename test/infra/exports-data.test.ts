import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { EXPORT_INPUT_COLUMNS, EXPORT_INPUTS_TABLE_NAME } from '../../lambdas/contract/export-inputs.ts';
import { COMPANY_EXPORT_RETENTION_DAYS } from '../../lambdas/contract/exports.ts';
import { exportInputsKey } from '../../lambdas/core/company-export/rollup/index.ts';
import { companyExportWorkflow } from '../../lambdas/workflows/company-export.ts';
import { DEFAULT_SCAN_LIMITS, EVENTS_EXPORT_RESULTS_RETENTION_DAYS } from '../../lib/data-stack.ts';
import { ExportWorkflow } from '../../lib/export-workflow.ts';
import { EVENTS_EXPORT_FILE_RETENTION_DAYS } from '../../lib/exports-bucket.ts';
import { QueryWorkgroup } from '../../lib/query-workgroup.ts';
import { buildFeaturelake, featurelake, logicalId, resourceOf } from './featurelake-app.ts';

interface TableInput {
  Name: string;
  Parameters: Record<string, unknown>;
  PartitionKeys: { Name: string; Type: string }[];
  StorageDescriptor: {
    Columns: { Name: string; Type: string }[];
    Location: unknown;
    SerdeInfo: { SerializationLibrary: string };
    InputFormat: string;
    OutputFormat: string;
  };
}

interface LifecycleRule {
  Id: string;
  Prefix?: string;
  ExpirationInDays?: number;
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  Status: string;
}

function exportInputsTable(): TableInput {
  const { data, stacks } = featurelake();
  return resourceOf(data, stacks.data.exportInputs.table).Properties.TableInput as TableInput;
}

/** `s3://<lake bucket>/<suffix>` as CloudFormation renders it. */
function lakeUrl(suffix: string): unknown {
  const bucket = logicalId(featurelake().stacks.data.lake.bucket);
  return { 'Fn::Join': ['', ['s3://', { Ref: bucket }, suffix]] };
}

function lifecycleRules(bucket: 'lake' | 'exports' | 'results'): LifecycleRule[] {
  const { data, stacks } = featurelake();
  const construct = {
    lake: stacks.data.lake.bucket,
    exports: stacks.data.exports.bucket,
    results: stacks.data.workgroup.resultsBucket,
  }[bucket];
  return (resourceOf(data, construct).Properties.LifecycleConfiguration as { Rules: LifecycleRule[] }).Rules;
}

describe('the export_inputs Glue table', () => {
  it('has exactly the columns of EXPORT_INPUT_COLUMNS, in order, with their types', () => {
    const table = exportInputsTable();

    expect(table.Name).toBe(EXPORT_INPUTS_TABLE_NAME);
    expect(table.StorageDescriptor.Columns.map(({ Name, Type }) => ({ Name, Type }))).toEqual(
      EXPORT_INPUT_COLUMNS.map((column) => ({ Name: column.name, Type: column.type })),
    );
  });

  it('lives in the lake database, beside the events table', () => {
    const { data, stacks } = featurelake();

    expect(resourceOf(data, stacks.data.exportInputs.table).Properties.DatabaseName).toEqual({
      Ref: logicalId(stacks.data.lake.database),
    });
  });

  it('reads JSON lines with the OpenX JSON SerDe under export_inputs/ in the lake bucket', () => {
    const { StorageDescriptor } = exportInputsTable();

    expect(StorageDescriptor.Location).toEqual(lakeUrl('/export_inputs/'));
    expect(StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(StorageDescriptor.InputFormat).toBe('org.apache.hadoop.mapred.TextInputFormat');
  });

  it('has no partitions and no projection, so `WHERE job_id = ?` is valid whatever Athena does with a parameter', () => {
    const table = exportInputsTable();
    const jobId = 'a0b1c2d3-job';

    expect(table.PartitionKeys ?? []).toEqual([]);
    expect(JSON.stringify(table.Parameters ?? {})).not.toMatch(/projection|storage\.location\.template/);
    expect(table.StorageDescriptor.Columns[0]).toMatchObject({ Name: 'job_id', Type: 'string' });
    // The writer's key, relative to the lake's root, is a file directly in the table's location.
    expect(exportInputsKey(jobId)).toBe(`export_inputs/${jobId}.json`);
  });

  it("expires a job's inputs from the lake bucket, and nothing under events/", () => {
    const rules = lifecycleRules('lake');
    const inputs = rules.find((rule) => rule.Prefix === 'export_inputs/');

    expect(inputs).toMatchObject({ Status: 'Enabled', ExpirationInDays: expect.any(Number) });
    expect(inputs?.ExpirationInDays).toBeGreaterThanOrEqual(1);
    expect(rules.filter((rule) => rule.ExpirationInDays !== undefined).map((rule) => rule.Prefix)).toEqual([
      'export_inputs/',
    ]);
  });
});

describe('the company export Athena workgroup', () => {
  it('runs engine v3, enforced, with its own scan cutoff (DEFAULT_SCAN_LIMITS.companyExport), results under company-exports/ of the shared results bucket', () => {
    const { data, stacks } = featurelake();
    const exportsWorkgroup = resourceOf(data, stacks.data.companyExportWorkgroup.workgroup).Properties;
    const config = (properties: Record<string, unknown>) =>
      properties.WorkGroupConfiguration as { BytesScannedCutoffPerQuery: number };

    expect(exportsWorkgroup.Name).toBe('featurelake-company-exports');
    expect(exportsWorkgroup.WorkGroupConfiguration).toMatchObject({
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      EnforceWorkGroupConfiguration: true,
      ResultConfiguration: {
        OutputLocation: {
          'Fn::Join': ['', ['s3://', { Ref: logicalId(stacks.data.workgroup.resultsBucket) }, '/company-exports/']],
        },
        EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
      },
    });
    expect(config(exportsWorkgroup).BytesScannedCutoffPerQuery).toBe(DEFAULT_SCAN_LIMITS.companyExport);
    expect(stacks.data.companyExportWorkgroup.resultsBucket).toBe(stacks.data.workgroup.resultsBucket);
    expect(data.toJSON().Outputs.CompanyExportWorkgroupName.Value).toBe('featurelake-company-exports');
  });
});

describe('the events export Athena workgroup', () => {
  it('runs engine v3, enforced, with its own scan cutoff (DEFAULT_SCAN_LIMITS.eventsExport), results under events-exports/ of the shared results bucket', () => {
    const { data, stacks } = featurelake();
    const eventsWorkgroup = resourceOf(data, stacks.data.eventsExportWorkgroup.workgroup).Properties;
    const config = (properties: Record<string, unknown>) =>
      properties.WorkGroupConfiguration as { BytesScannedCutoffPerQuery: number };

    expect(eventsWorkgroup.Name).toBe('featurelake-events-exports');
    expect(eventsWorkgroup.WorkGroupConfiguration).toMatchObject({
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      EnforceWorkGroupConfiguration: true,
      ResultConfiguration: {
        OutputLocation: {
          'Fn::Join': ['', ['s3://', { Ref: logicalId(stacks.data.workgroup.resultsBucket) }, '/events-exports/']],
        },
        EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
      },
    });
    expect(config(eventsWorkgroup).BytesScannedCutoffPerQuery).toBe(DEFAULT_SCAN_LIMITS.eventsExport);
    expect(stacks.data.eventsExportWorkgroup.resultsBucket).toBe(stacks.data.workgroup.resultsBucket);
    expect(data.toJSON().Outputs.EventsExportWorkgroupName.Value).toBe('featurelake-events-exports');
  });

  it('applies athenaScanLimitBytes to every workgroup', () => {
    const { data, stacks } = buildFeaturelake({ athenaScanLimitBytes: 5 * 1024 ** 3 });
    const workgroups = [stacks.data.workgroup, stacks.data.companyExportWorkgroup, stacks.data.eventsExportWorkgroup];

    for (const workgroup of workgroups) {
      expect(resourceOf(data, workgroup.workgroup).Properties.WorkGroupConfiguration).toMatchObject({
        BytesScannedCutoffPerQuery: 5 * 1024 ** 3,
      });
    }
  });

  it("expires the weekly results a day after Athena writes them (the write step reads them within the run), and keeps the others' 7 days", () => {
    expect(EVENTS_EXPORT_RESULTS_RETENTION_DAYS).toBe(1);
    expect(lifecycleRules('results')).toEqual([
      { Id: 'expire-results', ExpirationInDays: 7, Status: 'Enabled' },
      { Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
      {
        Id: 'expire-events-exports-results',
        Prefix: 'events-exports/',
        ExpirationInDays: EVENTS_EXPORT_RESULTS_RETENTION_DAYS,
        Status: 'Enabled',
      },
    ]);
  });
});

describe('the exports bucket', () => {
  it('is private, encrypted, retained, and logs access to the access-logs bucket', () => {
    const { data, stacks } = featurelake();
    const bucket = data.toJSON().Resources[logicalId(stacks.data.exports.bucket)];

    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logicalId(stacks.data.accessLogs.bucket) },
        LogFilePrefix: 'exports/',
      },
    });
    expect(bucket.Properties.CorsConfiguration).toBeUndefined();
  });

  it('refuses requests that are not TLS', () => {
    const { data, stacks } = featurelake();

    data.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stacks.data.exports.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires company export files after COMPANY_EXPORT_RETENTION_DAYS, events export files after EVENTS_EXPORT_FILE_RETENTION_DAYS, and abandoned uploads after a day', () => {
    expect(lifecycleRules('exports')).toEqual([
      {
        Id: 'expire-company-exports',
        Prefix: 'company-exports/',
        ExpirationInDays: COMPANY_EXPORT_RETENTION_DAYS,
        Status: 'Enabled',
      },
      {
        Id: 'expire-events-exports',
        Prefix: 'events-exports/',
        ExpirationInDays: EVENTS_EXPORT_FILE_RETENTION_DAYS,
        Status: 'Enabled',
      },
      { Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
    ]);
  });

  it('is output by name', () => {
    const { data, stacks } = featurelake();

    expect(data.toJSON().Outputs.ExportsBucketName.Value).toEqual({ Ref: logicalId(stacks.data.exports.bucket) });
  });
});

describe('the workgroup and workflow constructs', () => {
  function scratch() {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Scratch', { env: { region: 'eu-west-1' } });
    const accessLogsBucket = new Bucket(stack, 'Logs');
    return { stack, accessLogsBucket };
  }

  it('refuse a results prefix that is not a folder, and a workgroup with no results bucket', () => {
    const { stack, accessLogsBucket } = scratch();

    expect(() => new QueryWorkgroup(stack, 'NoSlash', { accessLogsBucket, resultsPrefix: 'exports' })).toThrow(
      /resultsPrefix "exports" must be .* ending with "\/"/,
    );
    expect(() => new QueryWorkgroup(stack, 'Nowhere', {})).toThrow(/give accessLogsBucket .* or resultsBucket/);
  });

  it('refuse a results prefix retention S3 cannot express in whole days', () => {
    const { stack, accessLogsBucket } = scratch();

    expect(
      () => new QueryWorkgroup(stack, 'Hours', { accessLogsBucket, resultsPrefixRetention: Duration.hours(12) }),
    ).toThrow(/resultsPrefixRetention must be a whole number of days, at least one/);
  });

  it('refuse to run the company export in a workgroup whose enforced results prefix the definition does not name', () => {
    const { stacks } = buildFeaturelake();

    expect(
      () =>
        new ExportWorkflow(stacks.api, 'InAdminWorkgroup', {
          spec: companyExportWorkflow(),
          steps: stacks.api.exportSteps.handler.function,
          lake: stacks.data.lake,
          exportInputs: stacks.data.exportInputs,
          workgroup: stacks.data.workgroup,
        }),
    ).toThrow(/resultsPrefix must be "company-exports\/".*got "results\/"/);
  });
});
