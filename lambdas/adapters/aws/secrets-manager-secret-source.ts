import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretSource } from '../../ports/secret-source.ts';

export interface SecretsManagerSecretSourceOptions {
  readonly client: SecretsManagerClient;
  /** ARN of the secret whose SecretString is the value (the admin token, the download-link key). */
  readonly secretArn: string;
  /**
   * How long a read value is reused. Bounds both the Secrets Manager calls (one per
   * warm Lambda per period, not one per request) and how long a rotated-out value
   * keeps working.
   * @default 300000 (5 minutes)
   */
  readonly cacheTtlMs?: number;
  /** Milliseconds clock; injected in tests. @default Date.now */
  readonly now?: () => number;
}

/** Reads a secret's current version from Secrets Manager, cached in memory. */
export class SecretsManagerSecretSource implements SecretSource {
  readonly #client: SecretsManagerClient;
  readonly #secretArn: string;
  readonly #cacheTtlMs: number;
  readonly #now: () => number;
  #cached: { value: string; fetchedAt: number } | undefined;
  #inFlight: Promise<string> | undefined;

  constructor(options: SecretsManagerSecretSourceOptions) {
    if (!options.secretArn) throw new Error('SecretsManagerSecretSource: secretArn is required');
    const cacheTtlMs = options.cacheTtlMs ?? 5 * 60 * 1000;
    if (!(cacheTtlMs >= 0)) throw new Error(`SecretsManagerSecretSource: cacheTtlMs must be ≥ 0, got ${cacheTtlMs}`);
    this.#client = options.client;
    this.#secretArn = options.secretArn;
    this.#cacheTtlMs = cacheTtlMs;
    this.#now = options.now ?? Date.now;
  }

  async value(): Promise<string> {
    if (this.#cached && this.#now() - this.#cached.fetchedAt < this.#cacheTtlMs) return this.#cached.value;
    // Requests that arrive together on a cold container share one read.
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #fetch(): Promise<string> {
    const response = await this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretArn }));
    const value = response.SecretString;
    // An empty secret would let an empty bearer through a naive comparison, or sign with no key: refuse it.
    if (!value) throw new Error(`secret ${this.#secretArn} has no SecretString`);
    this.#cached = { value, fetchedAt: this.#now() };
    return value;
  }
}
