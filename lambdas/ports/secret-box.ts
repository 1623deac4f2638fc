import type { SealedSecret, SecretContext } from '../core/automatic-export/secret-envelope.ts';

/**
 * Encrypts secrets for storage (KMS envelope encryption on AWS, a local key file
 * locally). The context is bound to the value: `open` with another context fails.
 */
export interface SecretBox {
  seal(plaintext: string, context: SecretContext): Promise<SealedSecret>;
  open(sealed: SealedSecret, context: SecretContext): Promise<string>;
}
