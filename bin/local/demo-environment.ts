import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CreatedEnvironment, newEnvironment } from '../../lambdas/core/environments/environments.ts';
import type { Clock } from '../../lambdas/ports/clock.ts';
import type { EnvironmentStore } from '../../lambdas/ports/environment-store.ts';

/** The demo environment's public parts, as `demo-environment.json` keeps them. */
export interface DemoEnvironment {
  environment_id: string;
  name: string;
  plan: string;
  app_token: string;
  tracking_key: string;
}

/**
 * The `demo` environment, made on first start. Its public parts are kept in
 * `demo-environment.json`; its API key exists only as a hash, so it is printed once.
 */
export async function ensureDemoEnvironment(
  home: string,
  environments: Pick<EnvironmentStore, 'get' | 'create'>,
  clock: Clock,
): Promise<{ demo: DemoEnvironment; apiKey: string | undefined }> {
  const file = join(home, 'demo-environment.json');
  try {
    const demo = JSON.parse(await readFile(file, 'utf8')) as DemoEnvironment;
    if (await environments.get(demo.environment_id)) return { demo, apiKey: undefined };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { stored, created } = newEnvironment({ name: 'demo', plan: 'enterprise' }, clock.now());
  await environments.create(stored);
  const { api_key, ...demo } = created satisfies CreatedEnvironment;
  await writeFile(file, `${JSON.stringify(demo, null, 2)}\n`);
  return { demo, apiKey: api_key };
}
