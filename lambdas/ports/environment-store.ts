import type { Environment } from '../core/environments/environments.ts';

/** Environments and their keys (the secret API key only as a hash). */
export interface EnvironmentStore {
  /** Writes a new environment; fails if its id already exists. */
  create(environment: Environment): Promise<void>;
  get(environmentId: string): Promise<Environment | undefined>;
  findByTrackingKey(trackingKey: string): Promise<Environment | undefined>;
  findByApiKeyHash(apiKeyHash: string): Promise<Environment | undefined>;
  /** Every environment (the admin's list), oldest first. */
  list(): Promise<Environment[]>;
  /**
   * Replaces the environment's API key hash, only if it is still `expectedHash` (one
   * conditional write): false when the key changed meanwhile or there is no such environment.
   */
  replaceApiKeyHash(environmentId: string, expectedHash: string, newHash: string): Promise<boolean>;
}
