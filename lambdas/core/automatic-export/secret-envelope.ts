import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AUTOMATIC_EXPORT_SECRET_PURPOSE } from '../../contract/exports.ts';

/**
 * A secret sealed with AES-256-GCM under a data key. On AWS the data key comes
 * from KMS GenerateDataKey and is stored only encrypted by KMS (`encrypted_key`);
 * locally it is the key file under $FEATURELAKE_HOME and `encrypted_key` is null.
 * Everything here is base64, so the value is a plain DynamoDB map.
 */
export interface SealedSecret {
  /** Which SecretBox made it: `kms` or `local-key-file`. */
  readonly scheme: 'kms' | 'local-key-file';
  /** The KMS key that encrypted the data key (its ARN), null locally. */
  readonly key_id: string | null;
  /** The data key as KMS encrypted it (CiphertextBlob), null locally. */
  readonly encrypted_key: string | null;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

/**
 * What a secret is bound to. Used as the KMS encryption context and as the
 * GCM additional data, so a sealed secret copied into another environment's
 * settings does not open there.
 */
export type SecretContext = Readonly<Record<string, string>>;

/** The context of an environment's automatic-export bucket secret. */
export function automaticExportSecretContext(environmentId: string): SecretContext {
  return { purpose: AUTOMATIC_EXPORT_SECRET_PURPOSE, environment_id: environmentId };
}

/** The context as bytes, keys sorted, so that sealing and opening agree whatever the key order. */
function additionalData(context: SecretContext): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}

const KEY_BYTES = 32;
const IV_BYTES = 12;

export function sealWithDataKey(
  plaintext: string,
  dataKey: Uint8Array,
  context: SecretContext,
): Pick<SealedSecret, 'iv' | 'tag' | 'ciphertext'> {
  if (dataKey.length !== KEY_BYTES) throw new Error(`a data key must be ${KEY_BYTES} bytes, got ${dataKey.length}`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(additionalData(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

/** Throws if the key, the context or any byte of the sealed value is not what sealed it. */
export function openWithDataKey(
  sealed: Pick<SealedSecret, 'iv' | 'tag' | 'ciphertext'>,
  dataKey: Uint8Array,
  context: SecretContext,
): string {
  if (dataKey.length !== KEY_BYTES) throw new Error(`a data key must be ${KEY_BYTES} bytes, got ${dataKey.length}`);
  const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(additionalData(context));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    // Never echo anything of the value: the message only says that it did not open.
    throw new Error('the sealed secret does not open with this key and context');
  }
}
