import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localConfig } from '../../bin/local/config.ts';

describe('localConfig', () => {
  it('runs with the documented defaults when nothing is set', () => {
    const config = localConfig({}, {});
    expect(config).toMatchObject({
      home: resolve('.featurelake'),
      port: 3000,
      host: '127.0.0.1',
      queryMemoryLimit: '1GB',
      privateEndpoints: 'allow',
    });
  });

  it('reads each variable, and an option given to startLocalStack wins over it', () => {
    const env = {
      FEATURELAKE_HOME: '/srv/featurelake',
      PORT: '0',
      FEATURELAKE_QUERY_MEMORY: '512MB',
      FEATURELAKE_PRIVATE_ENDPOINTS: 'deny',
    };
    expect(localConfig({}, env)).toMatchObject({
      home: '/srv/featurelake',
      port: 0,
      queryMemoryLimit: '512MB',
      privateEndpoints: 'deny',
    });
    expect(localConfig({ home: '/tmp/other', port: 4000, privateEndpoints: 'allow' }, env)).toMatchObject({
      home: '/tmp/other',
      port: 4000,
      privateEndpoints: 'allow',
    });
  });

  it('takes FEATURELAKE_PRIVATE_ENDPOINTS=allow as written', () => {
    expect(localConfig({}, { FEATURELAKE_PRIVATE_ENDPOINTS: 'allow' }).privateEndpoints).toBe('allow');
  });

  it('takes an empty variable as unset', () => {
    expect(localConfig({}, { PORT: '', FEATURELAKE_PRIVATE_ENDPOINTS: '' })).toMatchObject({
      port: 3000,
      privateEndpoints: 'allow',
    });
  });

  it.each(['abc', '-1', '3000.5', '65536', ' 3000'])('refuses PORT=%j, naming the variable and the value', (port) => {
    expect(() => localConfig({}, { PORT: port })).toThrow(
      `PORT must be a port number from 0 to 65535 (0 picks a free one); got "${port}"`,
    );
  });

  it('refuses an unknown FEATURELAKE_PRIVATE_ENDPOINTS, naming the variable and the value', () => {
    expect(() => localConfig({}, { FEATURELAKE_PRIVATE_ENDPOINTS: 'no' })).toThrow(
      'FEATURELAKE_PRIVATE_ENDPOINTS must be "allow" or "deny"; got "no"',
    );
  });

  it('names every unusable variable at once', () => {
    expect(() => localConfig({}, { PORT: 'x', FEATURELAKE_PRIVATE_ENDPOINTS: 'no' })).toThrow(
      /^PORT must be .*; got "x"; FEATURELAKE_PRIVATE_ENDPOINTS must be "allow" or "deny"; got "no"/,
    );
  });
});
