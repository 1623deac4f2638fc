import { describe, expect, it } from 'vitest';
import {
  type AutomaticExportSettings,
  automaticExportRequest,
  BucketCheckError,
  NEVER_RAN,
  type StoredAutomaticExport,
} from '../../lambdas/core/automatic-export/automatic-export.ts';
import {
  type BucketDestination,
  type BucketTarget,
  bucketTarget,
  customerBucketError,
} from '../../lambdas/core/automatic-export/customer-bucket.ts';
import type { SealedSecret } from '../../lambdas/core/automatic-export/secret-envelope.ts';
import {
  type SaveAutomaticExportSettingsDeps,
  saveAutomaticExportSettings,
} from '../../lambdas/core/automatic-export/settings.ts';
import { ValidationError } from '../../lambdas/core/shared/errors.ts';

/**
 * The rules of saving automatic export settings, over in-memory stand-ins of the
 * settings store, the SecretBox and the customer's bucket: when the bucket is
 * checked, with which secret, and when the stored secret is kept.
 */
const ENV = 'env-1';
const EARLIER = '2025-11-01T00:00:00.000Z';
const NOW = new Date('2025-12-01T10:00:00.000Z');

const BUCKET: BucketDestination = {
  provider: 'aws',
  bucket: 'acme',
  region: 'eu-west-1',
  prefix: 'fl/',
  endpoint: null,
  bucket_url: 'https://acme.s3.eu-west-1.amazonaws.com/fl',
};

const replace = (body: Record<string, unknown>) =>
  automaticExportRequest.parse({
    enabled: true,
    cadence: 'daily',
    provider: 'aws',
    bucket_url: 'https://acme.s3.eu-west-1.amazonaws.com/fl',
    access_key_id: 'KEY',
    ...body,
  });

/** Sealing here only marks the value: what matters is which one is stored and which one is opened. */
const sealed = (plaintext: string): SealedSecret => ({
  scheme: 'local-key-file',
  key_id: null,
  encrypted_key: null,
  iv: '',
  tag: '',
  ciphertext: `sealed:${plaintext}`,
});

function world(options: { stored?: Partial<AutomaticExportSettings>; refuse?: boolean } = {}) {
  let item: StoredAutomaticExport | undefined = options.stored && {
    environment_id: ENV,
    enabled: false,
    cadence: 'weekly',
    destination: BUCKET,
    access_key_id: 'KEY',
    secret: sealed('old-secret'),
    created_at: EARLIER,
    updated_at: EARLIER,
    ...NEVER_RAN,
    ...options.stored,
  };
  const verified: { target: BucketTarget; accessKeyId: string; secretAccessKey: string }[] = [];
  const opened: unknown[] = [];
  const deps: SaveAutomaticExportSettingsDeps = {
    settings: {
      get: async () => item,
      saveSettings: async (settings) => {
        item = { ...(item ?? NEVER_RAN), ...settings };
      },
      setEnabled: async (_env, enabled, updatedAt) => {
        if (!item) return false;
        item = { ...item, enabled, updated_at: updatedAt };
        return true;
      },
    },
    secrets: {
      seal: async (plaintext) => sealed(plaintext),
      open: async (secret, context) => {
        opened.push(context);
        return secret.ciphertext.replace(/^sealed:/, '');
      },
    },
    buckets: {
      verify: async (target, credentials) => {
        verified.push({ target, ...credentials });
        if (options.refuse) {
          throw customerBucketError({ code: 'AccessDenied', httpStatus: 403 }, { target, accessKeyId: 'KEY' });
        }
      },
    },
    clock: { now: () => NOW },
  };
  return { deps, verified, opened, stored: () => item };
}

const save = (deps: SaveAutomaticExportSettingsDeps, request: ReturnType<typeof replace>) =>
  saveAutomaticExportSettings(deps, { environmentId: ENV, request });

describe('switching automatic exports on or off', () => {
  it('switching off with nothing saved stores nothing and answers with no settings', async () => {
    const { deps, stored } = world();
    expect(await save(deps, automaticExportRequest.parse({ enabled: false }))).toBeUndefined();
    expect(stored()).toBeUndefined();
  });

  it('switching on with nothing saved names every field a first save needs', async () => {
    const { deps } = world();
    const refused = await save(deps, automaticExportRequest.parse({ enabled: true })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).problems).toEqual(
      ['cadence', 'provider', 'access_key_id', 'secret_access_key'].map((field) => ({
        field,
        problem: 'is required: no automatic export settings are saved yet',
      })),
    );
  });

  it('switching on again checks the bucket with the stored keys, opened for this environment', async () => {
    const { deps, verified, opened } = world({ stored: {} });
    const saved = await save(deps, automaticExportRequest.parse({ enabled: true }));
    expect(verified).toEqual([expect.objectContaining({ accessKeyId: 'KEY', secretAccessKey: 'old-secret' })]);
    expect(opened).toEqual([{ purpose: 'featurelake-automatic-export-secret', environment_id: ENV }]);
    expect(saved).toMatchObject({ enabled: true, cadence: 'weekly', updated_at: NOW.toISOString() });
  });

  it('switching off checks nothing, so a broken bucket can always be turned off', async () => {
    const { deps, verified } = world({ stored: { enabled: true }, refuse: true });
    expect(await save(deps, automaticExportRequest.parse({ enabled: false }))).toMatchObject({ enabled: false });
    expect(verified).toEqual([]);
  });
});

describe('replacing the settings', () => {
  it('seals a new secret, checks the bucket with it, and keeps when the settings were first made', async () => {
    const { deps, verified } = world({ stored: {} });
    const saved = await save(deps, replace({ secret_access_key: 'new-secret' }));
    expect(verified).toEqual([
      {
        target: bucketTarget(BUCKET),
        accessKeyId: 'KEY',
        secretAccessKey: 'new-secret',
      },
    ]);
    expect(saved).toMatchObject({
      enabled: true,
      cadence: 'daily',
      secret: sealed('new-secret'),
      created_at: EARLIER,
      updated_at: NOW.toISOString(),
    });
  });

  it('leaving the secret out keeps the stored one for the same access key id', async () => {
    const { deps, verified } = world({ stored: {} });
    const saved = await save(deps, replace({}));
    expect(verified.map((v) => v.secretAccessKey)).toEqual(['old-secret']);
    expect(saved?.secret).toEqual(sealed('old-secret'));
  });

  it.each([
    ['another access key id', { stored: {} }, 'is required when access_key_id changes'],
    ['nothing saved yet', {}, 'is required: no secret is saved for this environment yet'],
  ])('leaving the secret out with %s is refused, and nothing is stored or checked', async (_, given, problem) => {
    const { deps, verified, stored } = world(given);
    const before = stored();
    const refused = await save(deps, replace({ access_key_id: 'OTHER' })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).problems).toEqual([{ field: 'secret_access_key', problem }]);
    expect(verified).toEqual([]);
    expect(stored()).toBe(before);
  });

  it('a bucket that refuses the keys stores nothing, and names the field to fix', async () => {
    const { deps, stored } = world({ refuse: true });
    const refused = await save(deps, replace({ secret_access_key: 'new-secret' })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BucketCheckError);
    expect((refused as BucketCheckError).field).toBe('access_key_id');
    expect(stored()).toBeUndefined();
  });

  it('saving switched off stores the settings unchecked', async () => {
    const { deps, verified } = world({ refuse: true });
    const saved = await save(deps, replace({ enabled: false, secret_access_key: 'new-secret' }));
    expect(verified).toEqual([]);
    expect(saved).toMatchObject({ enabled: false, secret: sealed('new-secret'), created_at: NOW.toISOString() });
  });
});
