import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { SecretSource } from '../../ports/secret-source.ts';

/**
 * A local secret: one file under `$FEATURELAKE_HOME` (the admin token in
 * `admin-token`, the download-link key in `download-link.key`), 32 random bytes
 * created (mode 0600) on first start and kept across restarts.
 */
export class FileSecretSource implements SecretSource {
  private constructor(private readonly secret: string) {}

  static async open(path: string): Promise<FileSecretSource> {
    try {
      const existing = (await readFile(path, 'utf8')).trim();
      if (existing) return new FileSecretSource(existing);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const secret = randomBytes(32).toString('base64url');
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'w' });
    return new FileSecretSource(secret);
  }

  async value(): Promise<string> {
    return this.secret;
  }
}
