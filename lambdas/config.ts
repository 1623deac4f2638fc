import { z } from 'zod';
import type { LambdaName } from './contract/lambdas.ts';
import { ENV, LAMBDA_SETTINGS, type LambdaSetting, type LambdaSettings } from './contract/settings.ts';

/**
 * Reads one Lambda's settings (its list in LAMBDA_SETTINGS) from `process.env`
 * once, failing fast with a message that names every missing variable (a
 * misconfigured deploy should not start).
 */
export function loadConfig<L extends LambdaName>(lambda: L, env = process.env): LambdaSettings<L> {
  const settings: readonly LambdaSetting<L>[] = LAMBDA_SETTINGS[lambda];
  const shape = Object.fromEntries(
    settings.map((s) => [
      ENV[s],
      z
        .string({ error: `environment variable ${ENV[s]} is not set` })
        .min(1, `environment variable ${ENV[s]} is empty`),
    ]),
  );
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `featurelake configuration of the ${lambda} Lambda: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return Object.fromEntries(
    settings.map((s) => [s, (parsed.data as Record<string, string>)[ENV[s]]]),
  ) as LambdaSettings<L>;
}

/** Builds a Lambda handler on first invocation, so importing a handler module has no side effects. */
export function lazyHandler<E, C, R>(
  build: () => (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  let built: ((event: E, context: C) => Promise<R>) | undefined;
  return (event, context) => {
    built ??= build();
    return built(event, context);
  };
}
