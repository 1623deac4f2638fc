import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { AdminTokenSource } from '../../ports/admin-token-source.ts';

/** The local admin token: `$FEATURELAKE_HOME/admin-token`, created (mode 0600) on first start. */
export class FileAdminTokenSource implements AdminTokenSource {
  private constructor(private readonly value: string) {}

  static async open(path: string): Promise<FileAdminTokenSource> {
    try {
      const existing = (await readFile(path, 'utf8')).trim();
      if (existing) return new FileAdminTokenSource(existing);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const token = randomBytes(32).toString('base64url');
    await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'w' });
    return new FileAdminTokenSource(token);
  }

  async token(): Promise<string> {
    return this.value;
  }
}
