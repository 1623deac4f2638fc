import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KmsSecretBox } from '../../lambdas/adapters/aws/kms-secret-box.ts';
import { FileKeySecretBox } from '../../lambdas/adapters/local/file-key-secret-box.ts';
import {
  automaticExportSecretContext,
  type SealedSecret,
} from '../../lambdas/core/automatic-export/secret-envelope.ts';
import type { SecretBox } from '../../lambdas/ports/secret-box.ts';
import { tempHome } from '../support/local-stack.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const context = automaticExportSecretContext('env-1');
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * KMS as far as envelope encryption needs it: GenerateDataKey returns a fresh key
 * and that key encrypted under a master key, bound to the encryption context;
 * Decrypt gives it back only for the same context (and key id, when named).
 */
function fakeKms(kms: ReturnType<typeof mockClient>) {
  const master = randomBytes(32);
  const aad = (ctx: Record<string, string> | undefined) =>
    Buffer.from(JSON.stringify(Object.entries(ctx ?? {}).sort()));
  kms.on(GenerateDataKeyCommand).callsFake((input: { KeyId: string; EncryptionContext?: Record<string, string> }) => {
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master, iv).setAAD(aad(input.EncryptionContext));
    const blob = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { KeyId: KEY_ARN, Plaintext: new Uint8Array(plaintext), CiphertextBlob: new Uint8Array(blob) };
  });
  kms
    .on(DecryptCommand)
    .callsFake((input: { CiphertextBlob: Uint8Array; KeyId?: string; EncryptionContext?: Record<string, string> }) => {
      if (input.KeyId && input.KeyId !== KEY_ARN)
        throw Object.assign(new Error('IncorrectKeyException'), { name: 'IncorrectKeyException' });
      const blob = Buffer.from(input.CiphertextBlob);
      const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(0, 12)).setAAD(
        aad(input.EncryptionContext),
      );
      decipher.setAuthTag(blob.subarray(blob.length - 16));
      try {
        return {
          Plaintext: new Uint8Array(
            Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]),
          ),
        };
      } catch {
        throw Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException' });
      }
    });
}

function behavesAsASecretBox(name: string, box: () => SecretBox) {
  describe(`${name}: the SecretBox contract`, () => {
    it('opens what it sealed, with the same context', async () => {
      const sealed = await box().seal(SECRET, context);
      expect(await box().open(sealed, context)).toBe(SECRET);
    });

    it('keeps nothing of the secret in clear, and never seals it to the same bytes twice', async () => {
      const [a, b] = [await box().seal(SECRET, context), await box().seal(SECRET, context)];
      for (const sealed of [a, b]) {
        const text = JSON.stringify(sealed);
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(Buffer.from(SECRET).toString('base64'));
      }
      expect(a.ciphertext).not.toBe(b.ciphertext);
    });

    it('does not open with another environment’s context', async () => {
      const sealed = await box().seal(SECRET, context);
      await expect(box().open(sealed, automaticExportSecretContext('env-2'))).rejects.toThrow();
    });

    it('does not open a value whose ciphertext changed', async () => {
      const sealed = await box().seal(SECRET, context);
      const bytes = Buffer.from(sealed.ciphertext, 'base64');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      await expect(box().open({ ...sealed, ciphertext: bytes.toString('base64') }, context)).rejects.toThrow();
    });
  });
}

describe('KmsSecretBox', () => {
  let kms: ReturnType<typeof mockClient>;
  const box = () => new KmsSecretBox({ client: new KMSClient({ region: 'eu-west-1' }), keyId: KEY_ARN });
  beforeAll(() => {
    kms = mockClient(KMSClient);
    fakeKms(kms);
  });
  afterEach(() => {
    kms.reset();
    fakeKms(kms);
  });
  afterAll(() => kms.restore());

  behavesAsASecretBox('KmsSecretBox', box);

  it('asks KMS for a 256-bit data key with the encryption context, and keeps only the encrypted one', async () => {
    const sealed = await box().seal(SECRET, context);
    expect(kms.commandCalls(GenerateDataKeyCommand)[0]?.args[0].input).toEqual({
      KeyId: KEY_ARN,
      KeySpec: 'AES_256',
      EncryptionContext: { purpose: 'featurelake-automatic-export-secret', environment_id: 'env-1' },
    });
    expect(sealed).toMatchObject({ scheme: 'kms', key_id: KEY_ARN, encrypted_key: expect.any(String) });
  });

  it('decrypts the data key with the same context, pinned to the key that made it', async () => {
    const sealed = await box().seal(SECRET, context);
    await box().open(sealed, context);
    expect(kms.commandCalls(DecryptCommand)[0]?.args[0].input).toMatchObject({
      KeyId: KEY_ARN,
      EncryptionContext: { purpose: 'featurelake-automatic-export-secret', environment_id: 'env-1' },
    });
  });

  it('refuses a locally sealed value', async () => {
    const local: SealedSecret = {
      scheme: 'local-key-file',
      key_id: null,
      encrypted_key: null,
      iv: '',
      tag: '',
      ciphertext: '',
    };
    await expect(box().open(local, context)).rejects.toThrow(/cannot open a secret sealed by local-key-file/);
  });
});

describe('FileKeySecretBox', () => {
  let home: string;
  let box: FileKeySecretBox;
  beforeAll(async () => {
    home = await tempHome();
    box = await FileKeySecretBox.open(join(home, 'secret-box.key'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  behavesAsASecretBox('FileKeySecretBox', () => box);

  it('keeps its key in a file only its owner may read, and reuses it after a restart', async () => {
    const path = join(home, 'secret-box.key');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const sealed = await box.seal(SECRET, context);
    const reopened = await FileKeySecretBox.open(path);
    expect(await reopened.open(sealed, context)).toBe(SECRET);
    expect(await readFile(path, 'utf8')).not.toContain(SECRET);
  });

  it('another home (another key) cannot open it', async () => {
    const other = await tempHome();
    try {
      const sealed = await box.seal(SECRET, context);
      await expect((await FileKeySecretBox.open(join(other, 'secret-box.key'))).open(sealed, context)).rejects.toThrow(
        /does not open/,
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('narrows a key file someone made world-readable back to 0600', async () => {
    const path = join(home, 'widened.key');
    await writeFile(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o644 });
    await FileKeySecretBox.open(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});
