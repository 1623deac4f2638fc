/**
 * The local stack's settings: every environment variable it reads, parsed once
 * (as `lambdas/config.ts` does for the Lambdas), each overridable by an option.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { PrivateEndpoints } from '../../lambdas/adapters/aws/customer-endpoint-http.ts';
import type { ObservedExchange } from '../../lambdas/adapters/local/api-gateway-server.ts';
import { systemClock } from '../../lambdas/core/shared/clock.ts';
import type { Clock } from '../../lambdas/ports/clock.ts';

/** The local stack's fixed names: its one DynamoDB table and its S3 buckets. */
export const LOCAL_STATE_TABLE = 'featurelake-state';
export const LOCAL_EXPORTS_BUCKET = 'featurelake-exports';
/** Where the local Athena stand-in writes query results, as Athena writes to the workgroup's bucket. */
export const LOCAL_RESULTS_BUCKET = 'featurelake-query-results';

/** Where the stack keeps its state and where it listens unless told otherwise; the CLI looks there too. */
export const LOCAL_DEFAULT_HOME = '.featurelake';
export const LOCAL_DEFAULT_PORT = 3000;

export interface LocalStackOptions {
  /** Where every byte of state lives. @default $FEATURELAKE_HOME or .featurelake */
  readonly home?: string;
  /** @default $PORT or 3000; 0 picks a free port */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default the system clock */
  readonly clock?: Clock;
  /** How often the local export schedule looks at the clock. @default 30 s */
  readonly schedulerPollMs?: number;
  /**
   * DuckDB's memory limit for queries and exports; past it they spill to
   * `$FEATURELAKE_HOME/tmp/spill` (a 6-month export of 10M events peaks near 1.4 GB
   * of RSS with 1GB, and near 9 GB without a limit). @default $FEATURELAKE_QUERY_MEMORY or 1GB
   */
  readonly queryMemoryLimit?: string;
  /**
   * Whether automatic exports may go to loopback and private-network endpoints (a
   * developer's local S3 server). The stack's own listeners are refused either way.
   * @default $FEATURELAKE_PRIVATE_ENDPOINTS or allow
   */
  readonly privateEndpoints?: PrivateEndpoints;
  /** Admin SQL's time limit: past it the query is interrupted and the answer is a 400. @default 25 s */
  readonly sqlTimeoutMs?: number;
  /** Sees every exchange a route serves (the tests validate each against the OpenAPI document). */
  readonly observeExchanges?: (exchange: ObservedExchange) => void;
  /**
   * Whether company exports read the daily facts where current (else the full
   * recompute from raw events: the reference, and the fallback).
   * @default $FEATURELAKE_ROLLUP_FROM_FACTS (`1` or `0`) or true
   */
  readonly rollupFromFacts?: boolean;
}

/** The options with every default filled in: what the stack runs with. */
export interface LocalConfig {
  /** Absolute. */
  readonly home: string;
  readonly port: number;
  readonly host: string;
  readonly clock: Clock;
  /** Left to the scheduler's own default when not given. */
  readonly schedulerPollMs: number | undefined;
  readonly queryMemoryLimit: string;
  readonly privateEndpoints: PrivateEndpoints;
  /** Left to the query engine's own default when not given. */
  readonly sqlTimeoutMs: number | undefined;
  readonly rollupFromFacts: boolean;
}

/** An empty variable counts as unset, as `PORT= npm start` means. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const LOCAL_ENV = z.object({
  FEATURELAKE_HOME: optional(z.string()),
  PORT: optional(
    z
      .string()
      .refine(
        (port) => /^\d{1,5}$/.test(port) && Number(port) <= 65_535,
        'must be a port number from 0 to 65535 (0 picks a free one)',
      )
      .transform(Number),
  ),
  // DuckDB judges the size's wording itself (1GB, 512MiB, …) when the stack opens it.
  FEATURELAKE_QUERY_MEMORY: optional(z.string()),
  FEATURELAKE_PRIVATE_ENDPOINTS: optional(z.enum(['allow', 'deny'], 'must be "allow" or "deny"')),
  FEATURELAKE_ROLLUP_FROM_FACTS: optional(
    z.enum(['0', '1'], 'must be "1" (read the daily facts) or "0" (the full recompute)'),
  ),
});

/**
 * The stack's settings: each option if given, else its environment variable, else
 * its default. Throws once, naming every variable that is set to something unusable.
 */
export function localConfig(options: LocalStackOptions = {}, env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const parsed = LOCAL_ENV.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name} ${issue.message}; got "${env[name]}"`;
    });
    throw new Error(problems.join('; '));
  }
  const fromEnv = parsed.data;
  return {
    home: resolve(options.home ?? fromEnv.FEATURELAKE_HOME ?? LOCAL_DEFAULT_HOME),
    port: options.port ?? fromEnv.PORT ?? LOCAL_DEFAULT_PORT,
    host: options.host ?? '127.0.0.1',
    clock: options.clock ?? systemClock,
    schedulerPollMs: options.schedulerPollMs,
    queryMemoryLimit: options.queryMemoryLimit ?? fromEnv.FEATURELAKE_QUERY_MEMORY ?? '1GB',
    privateEndpoints: options.privateEndpoints ?? fromEnv.FEATURELAKE_PRIVATE_ENDPOINTS ?? 'allow',
    sqlTimeoutMs: options.sqlTimeoutMs,
    rollupFromFacts: options.rollupFromFacts ?? fromEnv.FEATURELAKE_ROLLUP_FROM_FACTS !== '0',
  };
}
