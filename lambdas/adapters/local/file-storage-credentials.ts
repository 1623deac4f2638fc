import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';

export interface LocalStorageCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * s3rver knows this access key id out of the box and checks nothing else about a
 * SigV4 request; the gateway in front of it checks the signature with the secret.
 */
const ACCESS_KEY_ID = 'S3RVER';

/**
 * The local stack's own S3 and DynamoDB credentials: a secret made at random on the
 * first start of a `$FEATURELAKE_HOME` and kept in `path` (mode 0600). It replaces the
 * public constant every s3rver user knows, so a download link cannot be re-signed by
 * anyone but the stack. Never printed or logged.
 */
export async function openLocalStorageCredentials(path: string): Promise<LocalStorageCredentials> {
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as Partial<LocalStorageCredentials>;
    if (typeof stored.secretAccessKey !== 'string' || stored.secretAccessKey.length < 32) {
      throw new Error(`${path} holds no secretAccessKey: delete it to make a new one`);
    }
    // Someone widened it by hand: the secret is only the owner's.
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
    return { accessKeyId: ACCESS_KEY_ID, secretAccessKey: stored.secretAccessKey };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: randomBytes(30).toString('base64url') };
  // `wx`: two processes starting at once must not each write a different secret.
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return credentials;
}
