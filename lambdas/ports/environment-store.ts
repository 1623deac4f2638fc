import type { Environment } from '../core/environments/environments.ts';

/** Environments and their keys (the secret API key only as a hash). */
export interface EnvironmentStore {
  /** Writes a new environment; fails if its id already exists. */
  create(environment: Environment): Promise<void>;
  get(environmentId: string): Promise<Environment | undefined>;
  findByTrackingKey(trackingKey: string): Promise<Environment | undefined>;
  findByApiKeyHash(apiKeyHash: string): Promise<Environment | undefined>;
  /** Every environment's id (the daily facts build runs over all of them). */
  listIds(): Promise<string[]>;
}
