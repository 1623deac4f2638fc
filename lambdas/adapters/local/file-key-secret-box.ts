import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import {
  openWithDataKey,
  type SealedSecret,
  type SecretContext,
  sealWithDataKey,
} from '../../core/automatic-export/secret-envelope.ts';
import type { SecretBox } from '../../ports/secret-box.ts';

/**
 * The local SecretBox: AES-256-GCM under one key kept in a file under
 * $FEATURELAKE_HOME (mode 0600, made on first start). It stands in for KMS: a copy
 * of the state table without the key file holds no readable secret.
 */
export class FileKeySecretBox implements SecretBox {
  private constructor(private readonly key: Buffer) {}

  static async open(path: string): Promise<FileKeySecretBox> {
    try {
      const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
      if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
      // Someone widened it by hand: the key is only the owner's.
      if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
      return new FileKeySecretBox(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const key = randomBytes(32);
    // `wx`: two processes starting at once must not each write a different key.
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return new FileKeySecretBox(key);
  }

  async seal(plaintext: string, context: SecretContext): Promise<SealedSecret> {
    return {
      scheme: 'local-key-file',
      key_id: null,
      encrypted_key: null,
      ...sealWithDataKey(plaintext, this.key, context),
    };
  }

  async open(sealed: SealedSecret, context: SecretContext): Promise<string> {
    if (sealed.scheme !== 'local-key-file') {
      throw new Error(`FileKeySecretBox cannot open a secret sealed by ${sealed.scheme}`);
    }
    return openWithDataKey(sealed, this.key, context);
  }
}
