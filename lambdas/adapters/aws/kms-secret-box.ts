import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  openWithDataKey,
  type SealedSecret,
  type SecretContext,
  sealWithDataKey,
} from '../../core/automatic-export/secret-envelope.ts';
import type { SecretBox } from '../../ports/secret-box.ts';

/**
 * KMS envelope encryption: each secret gets its own AES-256 data key from
 * GenerateDataKey; the secret is sealed with AES-256-GCM and only the KMS-encrypted
 * data key is kept beside it. Opening asks KMS to decrypt that data key, with the
 * same encryption context, so a role without kms:Decrypt on the key (or a value
 * moved to another environment) gets nothing. Plaintext keys are wiped after use.
 */
export class KmsSecretBox implements SecretBox {
  constructor(private readonly options: { readonly client: KMSClient; readonly keyId: string }) {
    if (!options.keyId) throw new Error('KmsSecretBox: keyId is required');
  }

  async seal(plaintext: string, context: SecretContext): Promise<SealedSecret> {
    const { Plaintext, CiphertextBlob, KeyId } = await this.options.client.send(
      new GenerateDataKeyCommand({ KeyId: this.options.keyId, KeySpec: 'AES_256', EncryptionContext: { ...context } }),
    );
    if (!Plaintext || !CiphertextBlob) throw new Error('KMS GenerateDataKey returned no data key');
    try {
      return {
        scheme: 'kms',
        key_id: KeyId ?? this.options.keyId,
        encrypted_key: Buffer.from(CiphertextBlob).toString('base64'),
        ...sealWithDataKey(plaintext, Plaintext, context),
      };
    } finally {
      Plaintext.fill(0);
    }
  }

  async open(sealed: SealedSecret, context: SecretContext): Promise<string> {
    if (sealed.scheme !== 'kms' || !sealed.encrypted_key) {
      throw new Error(`KmsSecretBox cannot open a secret sealed by ${sealed.scheme}`);
    }
    const { Plaintext } = await this.options.client.send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(sealed.encrypted_key, 'base64'),
        // Pinned, so KMS refuses a data key that some other key encrypted.
        KeyId: sealed.key_id ?? this.options.keyId,
        EncryptionContext: { ...context },
      }),
    );
    if (!Plaintext) throw new Error('KMS Decrypt returned no data key');
    try {
      return openWithDataKey(sealed, Plaintext, context);
    } finally {
      Plaintext.fill(0);
    }
  }
}
