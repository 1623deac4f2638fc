import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AdminTokenSource } from '../../ports/admin-token-source.ts';

export interface SecretsManagerAdminTokenSourceOptions {
  readonly client: SecretsManagerClient;
  /** ARN of the secret whose SecretString is the admin bearer token. */
  readonly secretArn: string;
  /**
   * How long a read token is reused. Bounds both the Secrets Manager calls (one per
   * warm Lambda per period, not one per request) and how long a rotated-out token
   * keeps working.
   * @default 300000 (5 minutes)
   */
  readonly cacheTtlMs?: number;
  /** Milliseconds clock; injected in tests. @default Date.now */
  readonly now?: () => number;
}

/** Reads the admin token from Secrets Manager (its current version), cached in memory. */
export class SecretsManagerAdminTokenSource implements AdminTokenSource {
  readonly #client: SecretsManagerClient;
  readonly #secretArn: string;
  readonly #cacheTtlMs: number;
  readonly #now: () => number;
  #cached: { token: string; fetchedAt: number } | undefined;
  #inFlight: Promise<string> | undefined;

  constructor(options: SecretsManagerAdminTokenSourceOptions) {
    if (!options.secretArn) throw new Error('SecretsManagerAdminTokenSource: secretArn is required');
    const cacheTtlMs = options.cacheTtlMs ?? 5 * 60 * 1000;
    if (!(cacheTtlMs >= 0))
      throw new Error(`SecretsManagerAdminTokenSource: cacheTtlMs must be ≥ 0, got ${cacheTtlMs}`);
    this.#client = options.client;
    this.#secretArn = options.secretArn;
    this.#cacheTtlMs = cacheTtlMs;
    this.#now = options.now ?? Date.now;
  }

  async token(): Promise<string> {
    if (this.#cached && this.#now() - this.#cached.fetchedAt < this.#cacheTtlMs) return this.#cached.token;
    // Requests that arrive together on a cold container share one read.
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #fetch(): Promise<string> {
    const response = await this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretArn }));
    const token = response.SecretString;
    // An empty token would let an empty bearer through a naive comparison: refuse it.
    if (!token) throw new Error(`secret ${this.#secretArn} has no SecretString to use as the admin token`);
    this.#cached = { token, fetchedAt: this.#now() };
    return token;
  }
}
