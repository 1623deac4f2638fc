import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerSecretSource } from '../../lambdas/adapters/aws/secrets-manager-secret-source.ts';

const secrets = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:featurelake-admin-token-AbCdEf';

function source(cacheTtlMs?: number) {
  const clock = { now: 1_000_000 };
  const instance = new SecretsManagerSecretSource({
    client: new SecretsManagerClient({ region: 'us-east-1' }),
    secretArn: ARN,
    now: () => clock.now,
    ...(cacheTtlMs === undefined ? {} : { cacheTtlMs }),
  });
  return { source: instance, clock };
}

beforeEach(() => {
  secrets.reset();
});

describe('SecretsManagerSecretSource', () => {
  it('returns the SecretString of the secret named by its ARN', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: 'admin-token-1' });

    await expect(source().source.value()).resolves.toBe('admin-token-1');
  });

  it('reuses the token for five minutes by default, then picks up a rotation', async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'admin-token-1' })
      .resolvesOnce({ SecretString: 'admin-token-2' });
    const { source: s, clock } = source();

    await expect(s.value()).resolves.toBe('admin-token-1');
    clock.now += 5 * 60 * 1000 - 1;
    await expect(s.value()).resolves.toBe('admin-token-1');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    clock.now += 1;
    await expect(s.value()).resolves.toBe('admin-token-2');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('honours a configured cache time', async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'admin-token-1' })
      .resolvesOnce({ SecretString: 'admin-token-2' });
    const { source: s, clock } = source(10_000);

    await s.value();
    clock.now += 10_000;
    await expect(s.value()).resolves.toBe('admin-token-2');
  });

  it('shares one read between requests that arrive together', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'admin-token-1' });
    const { source: s } = source();

    const tokens = await Promise.all([s.value(), s.value(), s.value()]);

    expect(tokens).toEqual(['admin-token-1', 'admin-token-1', 'admin-token-1']);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('does not remember a failed read', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'not found', $metadata: {} }))
      .resolvesOnce({ SecretString: 'admin-token-1' });
    const { source: s } = source();

    await expect(s.value()).rejects.toThrow('not found');
    await expect(s.value()).resolves.toBe('admin-token-1');
  });

  it('refuses a secret without a SecretString rather than accept an empty token', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });

    await expect(source().source.value()).rejects.toThrow(/no SecretString/);
  });
});
