import type { z } from 'zod';
import type { EnvironmentStore } from '../../ports/environment-store.ts';
import { type CreatedEnvironment, type createEnvironmentRequest, newEnvironment } from './environments.ts';

/** `POST /admin/v1/environments`: stores a new environment and shows its API key, this once. */
export async function createEnvironment(
  store: Pick<EnvironmentStore, 'create'>,
  request: z.infer<typeof createEnvironmentRequest>,
  now: Date,
): Promise<CreatedEnvironment> {
  const { stored, created } = newEnvironment(request, now);
  await store.create(stored);
  return created;
}
