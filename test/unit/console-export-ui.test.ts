import { describe, expect, it } from 'vitest';
import { fieldProblems, topField, utcTime } from '../../console/src/pages/export-ui.ts';
import { BucketCheckError } from '../../lambdas/core/automatic-export/automatic-export.ts';
import { CustomerBucketError } from '../../lambdas/core/automatic-export/customer-bucket.ts';
import { ExportInProgressError, ValidationError } from '../../lambdas/core/shared/errors.ts';

/**
 * How the export pages put the API's errors beside their fields: the bodies are the
 * API's own (the domain errors' toBody), so a change to their shape fails here.
 */
const LABELS = { secret_access_key: 'Secret access key', emails: 'Emails', to: 'To', bucket: 'Bucket' };

describe('fieldProblems', () => {
  it("puts a 400's details beside the field it names, in the label's words", () => {
    const body = new ValidationError([
      { field: 'to', problem: 'must not be before from (2025-03-10)' },
      { field: 'emails[1]', problem: 'must be an email address' },
      { field: 'emails[3]', problem: 'must be an email address' },
      { field: 'unknown_field', problem: 'is not a field of this form' },
    ]).toBody();
    expect(fieldProblems(body, LABELS)).toEqual({
      to: 'To must not be before from (2025-03-10).',
      emails: 'Emails (item 2) must be an email address. Emails (item 4) must be an email address.',
    });
  });

  it("shows a bucket check's sentence (its message), not the provider's code, beside the field", () => {
    const failure = new CustomerBucketError(
      'wrong_secret',
      'The secret access key is not the one of access key id "AKID": R2 rejected the request signature.',
      { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match' },
    );
    const body = new BucketCheckError(failure, 'custom').toBody();
    expect(body.errors[0]?.field).toBe('secret_access_key');
    expect(fieldProblems(body, LABELS)).toEqual({
      secret_access_key:
        'The secret access key is not the one of access key id "AKID": R2 rejected the request signature.',
    });
  });

  it('leaves an error that names no field (the 409) to the general message', () => {
    expect(fieldProblems(new ExportInProgressError().toBody(), LABELS)).toEqual({});
    expect(fieldProblems('not json', LABELS)).toEqual({});
    expect(fieldProblems(null, LABELS)).toEqual({});
  });
});

describe('topField and utcTime', () => {
  it('names the top-level field of a path', () => {
    expect(topField('emails[1]')).toBe('emails');
    expect(topField('filters[0].value')).toBe('filters');
    expect(topField('bucket_url')).toBe('bucket_url');
  });

  it("shows instants in UTC, the seed's zone-less ones too", () => {
    expect(utcTime('2026-12-07T00:15:00.000Z')).toBe('2026-12-07 00:15 UTC');
    expect(utcTime('2024-10-06T10:44:50.999504')).toBe('2024-10-06 10:44 UTC');
    expect(utcTime(null)).toBe('');
  });
});
