import { describe, expect, it } from 'vitest';
import {
  automaticExportExecutionName,
  automaticExportObjectKey,
  automaticExportRequest,
  automaticExportView,
  automaticRunFailure,
  isDue,
  nextRunAt,
  type StoredAutomaticExport,
  snapshotInstant,
} from '../../lambdas/core/automatic-export/automatic-export.ts';
import {
  bucketProblemField,
  bucketTarget,
  CustomerBucketError,
  classifyBucketFailure,
  customerBucketError,
  DELIVERY_ERRORS,
  normalisePrefix,
  parseAwsBucketUrl,
} from '../../lambdas/core/automatic-export/customer-bucket.ts';
import {
  automaticExportSecretContext,
  openWithDataKey,
  sealWithDataKey,
} from '../../lambdas/core/automatic-export/secret-envelope.ts';
import { errorResponse, ValidationError } from '../../lambdas/core/shared/errors.ts';
import { parseRequestBody } from '../../lambdas/core/shared/request-body.ts';

const MONDAY = new Date('2025-12-01T00:05:00Z');
const TUESDAY = new Date('2025-12-02T00:05:00Z');

describe('AWS bucket URLs', () => {
  it.each([
    ['https://acme-exports.s3.eu-west-1.amazonaws.com', 'acme-exports', 'eu-west-1', ''],
    ['https://acme-exports.s3.eu-west-1.amazonaws.com/', 'acme-exports', 'eu-west-1', ''],
    ['https://acme-exports.s3.eu-west-1.amazonaws.com/featurelake', 'acme-exports', 'eu-west-1', 'featurelake/'],
    ['https://acme-exports.s3.eu-west-1.amazonaws.com/a/b/c/', 'acme-exports', 'eu-west-1', 'a/b/c/'],
    ['https://acme-exports.s3.eu-west-1.amazonaws.com/with%20space', 'acme-exports', 'eu-west-1', 'with space/'],
    ['https://exports.acme.com.s3.us-west-2.amazonaws.com/daily', 'exports.acme.com', 'us-west-2', 'daily/'],
    ['https://data.s3.backup.s3.ap-southeast-2.amazonaws.com', 'data.s3.backup', 'ap-southeast-2', ''],
    ['https://acme-exports.s3.amazonaws.com/x', 'acme-exports', 'us-east-1', 'x/'],
    ['https://my.dotted.bucket.s3.amazonaws.com', 'my.dotted.bucket', 'us-east-1', ''],
    ['https://acme-exports.s3-eu-west-1.amazonaws.com/legacy', 'acme-exports', 'eu-west-1', 'legacy/'],
    ['https://s3.eu-central-1.amazonaws.com/acme-exports/path/style', 'acme-exports', 'eu-central-1', 'path/style/'],
    ['https://s3.amazonaws.com/acme-exports', 'acme-exports', 'us-east-1', ''],
    ['https://acme-exports.s3.us-gov-west-1.amazonaws.com', 'acme-exports', 'us-gov-west-1', ''],
    ['  HTTPS://Acme-Exports.S3.EU-WEST-1.AMAZONAWS.COM/Key  ', 'acme-exports', 'eu-west-1', 'Key/'],
  ])('%s → bucket %s in %s, prefix "%s"', (url, bucket, region, prefix) => {
    expect(parseAwsBucketUrl(url)).toMatchObject({ bucket, region, prefix });
  });

  it('rewrites every accepted form in the seed’s form', () => {
    expect(parseAwsBucketUrl('https://s3.eu-central-1.amazonaws.com/acme-exports/a/b')).toMatchObject({
      normalised: 'https://acme-exports.s3.eu-central-1.amazonaws.com/a/b',
    });
    expect(parseAwsBucketUrl('https://acme.s3.amazonaws.com')).toMatchObject({
      normalised: 'https://acme.s3.us-east-1.amazonaws.com',
    });
  });

  it.each([
    ['not a url', /is not a URL/],
    ['http://acme.s3.eu-west-1.amazonaws.com', /must start with https:\/\//],
    ['s3://acme/exports', /must start with https:\/\//],
    ['https://acme.s3.eu-west-1.amazonaws.com:8443', /port/],
    ['https://acme.s3.eu-west-1.amazonaws.com/x?versionId=1', /query/],
    ['https://key:secret@acme.s3.eu-west-1.amazonaws.com', /credentials/],
    ['https://acme.storage.googleapis.com', /amazonaws\.com/],
    ['https://acme.s3-website-us-east-1.amazonaws.com', /static website/],
    ['https://acme.s3.dualstack.eu-west-1.amazonaws.com', /dual-stack/],
    ['https://acme.s3.europe.amazonaws.com', /not an AWS region/],
    ['https://Not_A_Bucket.s3.eu-west-1.amazonaws.com', /lowercase letters/],
    ['https://ab.s3.eu-west-1.amazonaws.com', /3 to 63/],
    ['https://a..b.s3.eu-west-1.amazonaws.com', /two dots/],
    ['https://192.168.1.1.s3.eu-west-1.amazonaws.com', /IP address/],
    ['https://s3.eu-west-1.amazonaws.com/', /without a bucket/],
    ['https://eu-west-1.amazonaws.com/acme', /does not name a bucket/],
  ])('refuses %s', (url, problem) => {
    const parsed = parseAwsBucketUrl(url);
    expect(parsed).toHaveProperty('problem');
    expect((parsed as { problem: string }).problem).toMatch(problem);
  });

  it('a bad URL is a 400 naming bucket_url, through the settings request', () => {
    const error = captured(() =>
      parseRequestBody(
        'automaticExport',
        automaticExportRequest,
        JSON.stringify({
          enabled: true,
          cadence: 'daily',
          provider: 'aws',
          bucket_url: 'https://acme.s3-website-us-east-1.amazonaws.com',
          access_key_id: 'AKIA1',
          secret_access_key: 's',
        }),
      ),
    );
    expect(errorResponse(error)).toEqual({
      status: 400,
      body: {
        errors: [
          {
            error: 'Bad Request',
            error_code: '400',
            message: 'The request is invalid.',
            details: expect.stringMatching(/^bucket_url: is a static website endpoint/),
            field: 'bucket_url',
          },
        ],
      },
    });
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function problems(body: unknown): Record<string, string> {
  const error = captured(() => parseRequestBody('automaticExport', automaticExportRequest, JSON.stringify(body)));
  expect(error).toBeInstanceOf(ValidationError);
  return Object.fromEntries((error as ValidationError).problems.map((p) => [p.field, p.problem]));
}

describe('the settings request', () => {
  const custom = {
    enabled: true,
    cadence: 'weekly',
    provider: 'custom',
    bucket: 'exports',
    region: 'auto',
    key: '/team/featurelake/',
    endpoint: 'https://abc123.eu.r2.cloudflarestorage.com/',
    access_key_id: 'R2KEY',
    secret_access_key: ' keep spaces ',
  };

  it('takes a whole custom destination, normalising the prefix and endpoint, keeping the secret as given', () => {
    expect(parseRequestBody('automaticExport', automaticExportRequest, JSON.stringify(custom))).toEqual({
      kind: 'replace',
      enabled: true,
      cadence: 'weekly',
      destination: {
        provider: 'custom',
        bucket: 'exports',
        region: 'auto',
        prefix: 'team/featurelake/',
        endpoint: 'https://abc123.eu.r2.cloudflarestorage.com',
        bucket_url: null,
      },
      access_key_id: 'R2KEY',
      secret_access_key: ' keep spaces ',
    });
  });

  it('GCP takes bucket, region and key; region defaults to auto', () => {
    const { endpoint: _e, region: _r, ...gcp } = { ...custom, provider: 'gcp' };
    expect(parseRequestBody('automaticExport', automaticExportRequest, JSON.stringify(gcp))).toMatchObject({
      destination: { provider: 'gcp', bucket: 'exports', region: 'auto', endpoint: null },
    });
  });

  it('`{"enabled": false}` (or true) alone is a toggle that keeps the settings', () => {
    expect(parseRequestBody('automaticExport', automaticExportRequest, '{"enabled": false}')).toEqual({
      kind: 'toggle',
      enabled: false,
    });
    expect(parseRequestBody('automaticExport', automaticExportRequest, '{"enabled": true}')).toEqual({
      kind: 'toggle',
      enabled: true,
    });
  });

  it('the secret may be left out (the handler keeps the stored one)', () => {
    const { secret_access_key: _s, ...rest } = custom;
    expect(parseRequestBody('automaticExport', automaticExportRequest, JSON.stringify(rest))).toMatchObject({
      kind: 'replace',
      secret_access_key: undefined,
    });
  });

  it('names every missing or wrong field', () => {
    expect(problems({ cadence: 'hourly', provider: 'azure' })).toEqual({
      enabled: 'is required',
      cadence: 'must be one of daily, weekly',
      provider: 'must be one of aws, gcp, custom',
    });
    expect(problems({ enabled: true, provider: 'custom' })).toEqual({
      cadence: 'is required',
      access_key_id: 'is required',
      bucket: 'is required',
      endpoint: expect.stringMatching(/^is required for provider custom/),
    });
    expect(problems({ ...custom, endpoint: 'ftp://x', bucket: 'Bad_Name', key: 'a//b', region: 'eu west' })).toEqual({
      bucket: expect.stringMatching(/lowercase letters/),
      endpoint: 'must be an http:// or https:// URL',
      key: 'must not contain empty, "." or ".." path segments',
      region: expect.stringMatching(/letters, digits and hyphens/),
    });
    expect(problems({ ...custom, provider: 'aws' })).toMatchObject({
      bucket_url: expect.stringMatching(/^is required/),
      bucket: expect.stringMatching(/not used with provider aws/),
      endpoint: expect.stringMatching(/not used with provider aws/),
    });
    expect(problems({ ...custom, provider: 'gcp' })).toEqual({ endpoint: expect.stringMatching(/only custom/) });
    expect(problems({ ...custom, access_key_id: 'has space', secret_access_key: '' })).toEqual({
      access_key_id: 'must not contain spaces',
      secret_access_key: 'must not be empty',
    });
    // The key id goes into the Authorization header of every call to the bucket.
    expect(problems({ ...custom, access_key_id: 'AKIA\u0000X' })).toEqual({
      access_key_id: 'must be printable ASCII characters (letters, digits and symbols)',
    });
  });

  it('prefixes normalise to "" or one trailing slash', () => {
    expect(normalisePrefix(undefined)).toEqual({ prefix: '' });
    expect(normalisePrefix('///')).toEqual({ prefix: '' });
    expect(normalisePrefix('/a/b/')).toEqual({ prefix: 'a/b/' });
    expect(normalisePrefix('a/./b')).toHaveProperty('problem');
  });
});

describe('when runs are due', () => {
  it('takes the snapshot at 00:00 UTC of the fire’s date', () => {
    expect(snapshotInstant(MONDAY).toISOString()).toBe('2025-12-01T00:00:00.000Z');
    expect(snapshotInstant(new Date('2025-12-01T23:59:59.999Z')).toISOString()).toBe('2025-12-01T00:00:00.000Z');
  });

  it('daily every day, weekly on Mondays only', () => {
    expect(isDue('daily', snapshotInstant(MONDAY))).toBe(true);
    expect(isDue('daily', snapshotInstant(TUESDAY))).toBe(true);
    expect(isDue('weekly', snapshotInstant(MONDAY))).toBe(true);
    expect(isDue('weekly', snapshotInstant(TUESDAY))).toBe(false);
    expect(isDue('weekly', new Date('2025-11-30T00:00:00Z'))).toBe(false);
  });

  it('the next run is the next due fire strictly after now', () => {
    expect(nextRunAt('daily', MONDAY, 0).toISOString()).toBe('2025-12-02T00:00:00.000Z');
    expect(nextRunAt('weekly', MONDAY, 0).toISOString()).toBe('2025-12-08T00:00:00.000Z');
    expect(nextRunAt('weekly', new Date('2025-11-30T12:00:00Z'), 0).toISOString()).toBe('2025-12-01T00:00:00.000Z');
    // On AWS the schedule fires at 00:15: at 00:05 today's run is still to come.
    expect(nextRunAt('daily', MONDAY, 15).toISOString()).toBe('2025-12-01T00:15:00.000Z');
    expect(nextRunAt('weekly', new Date('2025-12-01T00:15:00Z'), 15).toISOString()).toBe('2025-12-08T00:15:00.000Z');
  });

  it('one execution name per environment and date, fit for Step Functions', () => {
    const name = automaticExportExecutionName('3f0c9d1e-5b7a-4e2f-9a61-0d4b8f2c7e11', '2025-12-01');
    expect(name).toBe('auto-3f0c9d1e-5b7a-4e2f-9a61-0d4b8f2c7e11-2025-12-01');
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('one object key per snapshot date under the prefix, so a re-run overwrites it', () => {
    expect(automaticExportObjectKey('exports/daily/', '2025-12-01')).toBe(
      'exports/daily/company-export-2025-12-01.csv',
    );
    expect(automaticExportObjectKey('', '2025-12-01')).toBe('company-export-2025-12-01.csv');
  });
});

describe('the view', () => {
  const stored: StoredAutomaticExport = {
    environment_id: 'env-1',
    enabled: true,
    cadence: 'weekly',
    destination: {
      provider: 'aws',
      bucket: 'acme',
      region: 'eu-west-1',
      prefix: 'fl/',
      endpoint: null,
      bucket_url: 'https://acme.s3.eu-west-1.amazonaws.com/fl',
    },
    access_key_id: 'AKIA1',
    secret: { scheme: 'kms', key_id: 'k', encrypted_key: 'ZW5j', iv: 'aXY=', tag: 'dGFn', ciphertext: 'Y3Q=' },
    created_at: '2025-11-30T10:00:00.000Z',
    updated_at: '2025-11-30T10:00:00.000Z',
    last_status: 'failed',
    last_run_at: '2025-12-01T00:15:02.000Z',
    last_snapshot_at: '2025-12-01T00:00:00.000Z',
    last_finished_at: '2025-12-01T00:16:00.000Z',
    last_error: 'There is no bucket "acme".',
    last_job_id: 'job-1',
    last_dispatched_date: '2025-12-01',
  };

  it('shows settings and status, and of the secret only that one is set', () => {
    const view = automaticExportView(stored, new Date('2025-12-01T01:00:00Z'), 15);
    expect(view).toMatchObject({
      enabled: true,
      cadence: 'weekly',
      provider: 'aws',
      bucket_url: 'https://acme.s3.eu-west-1.amazonaws.com/fl',
      key: 'fl',
      secret_access_key_set: true,
      destination: 's3://acme/fl/',
      status: {
        last_run_at: '2025-12-01T00:15:02.000Z',
        last_status: 'failed',
        next_run_at: '2025-12-08T00:15:00.000Z',
        error: 'There is no bucket "acme".',
      },
    });
    expect(JSON.stringify(view)).not.toMatch(/Y3Q=|ZW5j|ciphertext|encrypted_key/);
  });

  it('before anything is saved: disabled, never ran, no next run', () => {
    expect(automaticExportView(undefined, MONDAY, 15)).toMatchObject({
      enabled: false,
      secret_access_key_set: false,
      status: { last_run_at: null, last_status: 'never ran before', next_run_at: null, error: null },
    });
  });

  it('disabled settings have no next run', () => {
    expect(automaticExportView({ ...stored, enabled: false }, MONDAY, 15).status.next_run_at).toBeNull();
  });
});

describe('what a bucket failure means', () => {
  const target = bucketTarget({
    provider: 'custom',
    bucket: 'exports',
    region: 'auto',
    prefix: 'fl/',
    endpoint: 'https://r2.example.com',
    bucket_url: null,
  });
  const aws = bucketTarget({
    provider: 'aws',
    bucket: 'acme',
    region: 'us-east-1',
    prefix: 'fl/',
    endpoint: null,
    bucket_url: 'https://acme.s3.us-east-1.amazonaws.com/fl',
  });

  it.each([
    [{ code: 'InvalidAccessKeyId', httpStatus: 403 }, 'unknown_access_key', false],
    [{ code: 'SignatureDoesNotMatch', httpStatus: 403 }, 'wrong_secret', false],
    [{ code: 'NoSuchBucket', httpStatus: 404 }, 'no_such_bucket', false],
    [{ code: 'AccessDenied', httpStatus: 403 }, 'access_denied', false],
    [{ httpStatus: 403 }, 'access_denied', false],
    [{ httpStatus: 401 }, 'unknown_access_key', false],
    [{ code: 'PermanentRedirect', httpStatus: 301, bucketRegion: 'eu-west-1' }, 'wrong_region', false],
    [{ code: 'AuthorizationHeaderMalformed', httpStatus: 400, bucketRegion: 'eu-west-1' }, 'wrong_region', false],
    [{ networkCode: 'ECONNREFUSED' }, 'unreachable', true],
    [{ networkCode: 'ENOTFOUND' }, 'unreachable', true],
    [{ networkCode: 'TimeoutError' }, 'unreachable', true],
    [{ networkCode: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'tls', false],
    [{ notS3: true, httpStatus: 404 }, 'not_s3', false],
    [{ code: 'SlowDown', httpStatus: 503 }, 'throttled', true],
    [{ httpStatus: 429 }, 'throttled', true],
    [{ code: 'InternalError', httpStatus: 500 }, 'server_error', true],
    [{ notS3: true, httpStatus: 502 }, 'server_error', true],
    [{ code: 'EntityTooLarge', httpStatus: 400 }, 'rejected', false],
  ] as const)('%o is %s (retryable: %s)', (facts, kind, retryable) => {
    expect(classifyBucketFailure(facts)).toBe(kind);
    const error = customerBucketError(facts, { target, accessKeyId: 'KEY' });
    expect(error).toBeInstanceOf(CustomerBucketError);
    expect(error.retryable).toBe(retryable);
    // The name is what Step Functions' Retry matches on.
    expect(error.name).toBe(retryable ? DELIVERY_ERRORS.retryable : DELIVERY_ERRORS.refused);
  });

  it('says what is wrong, naming what the user gave', () => {
    const say = (facts: Parameters<typeof customerBucketError>[0], t = target) =>
      customerBucketError(facts, { target: t, accessKeyId: 'KEY' }).message;
    expect(say({ code: 'InvalidAccessKeyId' })).toBe('https://r2.example.com does not know the access key id "KEY".');
    expect(say({ code: 'SignatureDoesNotMatch' })).toMatch(/secret access key is not the one of access key id "KEY"/);
    expect(say({ code: 'NoSuchBucket' })).toBe('There is no bucket "exports" at https://r2.example.com.');
    expect(say({ code: 'AccessDenied' })).toMatch(
      /^Access denied: the access key "KEY" may not list or write s3:\/\/exports\/fl\//,
    );
    expect(say({ networkCode: 'ECONNREFUSED' })).toMatch(
      /^Could not reach https:\/\/r2\.example\.com \(ECONNREFUSED\)/,
    );
    expect(say({ notS3: true, httpStatus: 404 })).toMatch(/answered with HTTP 404, but not as an S3-compatible API/);
    expect(say({ code: 'PermanentRedirect', bucketRegion: 'eu-west-1' }, aws)).toBe(
      'Bucket "acme" is in eu-west-1, not us-east-1: use https://acme.s3.eu-west-1.amazonaws.com/fl.',
    );
  });

  it('points at the field to fix', () => {
    expect(bucketProblemField('no_such_bucket', 'aws')).toBe('bucket_url');
    expect(bucketProblemField('no_such_bucket', 'custom')).toBe('bucket');
    expect(bucketProblemField('unreachable', 'custom')).toBe('endpoint');
    expect(bucketProblemField('wrong_secret', 'gcp')).toBe('secret_access_key');
    expect(bucketProblemField('unknown_access_key', 'gcp')).toBe('access_key_id');
  });

  it('a failed run’s status is the delivery sentence itself, or the export’s own failure', () => {
    const readable = () => 'The export failed: something';
    expect(
      automaticRunFailure({ Error: DELIVERY_ERRORS.refused, Cause: 'Could not deliver x: no bucket' }, readable),
    ).toBe('Could not deliver x: no bucket');
    expect(
      automaticRunFailure(
        { Error: DELIVERY_ERRORS.retryable, Cause: JSON.stringify({ errorType: 'x', errorMessage: 'slow down' }) },
        readable,
      ),
    ).toBe('slow down');
    expect(automaticRunFailure({ Error: 'States.TaskFailed', Cause: '{}' }, readable)).toBe(readable());
  });
});

describe('the sealed secret', () => {
  const key = Buffer.alloc(32, 7);
  const context = automaticExportSecretContext('env-1');

  it('opens with the same key and context, and holds nothing of the secret in clear', () => {
    const sealed = sealWithDataKey('wJalrXUtnFEMI/K7MDENG', key, context);
    expect(JSON.stringify(sealed)).not.toContain('wJalrXUtnFEMI');
    expect(openWithDataKey(sealed, key, { environment_id: 'env-1', purpose: context.purpose ?? '' })).toBe(
      'wJalrXUtnFEMI/K7MDENG',
    );
  });

  it('does not open in another environment, with another key, or once a byte changed', () => {
    const sealed = sealWithDataKey('secret', key, context);
    expect(() => openWithDataKey(sealed, key, automaticExportSecretContext('env-2'))).toThrow(/does not open/);
    expect(() => openWithDataKey(sealed, Buffer.alloc(32, 8), context)).toThrow(/does not open/);
    const tampered = { ...sealed, ciphertext: Buffer.from('sebret').toString('base64') };
    expect(() => openWithDataKey(tampered, key, context)).toThrow(/does not open/);
  });

  it('never seals the same secret to the same bytes twice', () => {
    expect(sealWithDataKey('s', key, context).ciphertext).not.toBe(sealWithDataKey('s', key, context).iv);
    expect(sealWithDataKey('s', key, context).iv).not.toBe(sealWithDataKey('s', key, context).iv);
  });
});
