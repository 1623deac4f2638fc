import type { SecretSource } from '../../lambdas/ports/secret-source.ts';

/** A download-link key for tests that make or check links without a stack (43 characters, as the local key file). */
export const TEST_LINK_KEY: SecretSource = { value: async () => 'test-download-link-key-0123456789abcdefghij' };
