import { z } from 'zod';
import { ENV } from './contract/settings.ts';

type Setting = keyof typeof ENV;

/**
 * Reads the named settings from `process.env` once, failing fast with a message
 * that names every missing variable (a misconfigured deploy should not start).
 */
export function loadConfig<K extends Setting>(settings: readonly K[], env = process.env): Record<K, string> {
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
    throw new Error(`featurelake configuration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return Object.fromEntries(settings.map((s) => [s, (parsed.data as Record<string, string>)[ENV[s]]])) as Record<
    K,
    string
  >;
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
