import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lambdas/config.ts';
import { ENV } from '../../lambdas/contract/settings.ts';
import { awsDeps } from '../../lambdas/handlers/aws-deps.ts';

describe("a Lambda's settings", () => {
  it('are read by name from its environment variables, and nothing else', () => {
    const env = { [ENV.stateTable]: 'state', [ENV.eventStream]: 'stream', [ENV.emailFrom]: 'a@example.com' };

    expect(loadConfig('tracking', env)).toEqual({ stateTable: 'state', eventStream: 'stream' });
    expect(loadConfig('health', {})).toEqual({});
  });

  it('fail fast, naming the Lambda and every missing or empty variable', () => {
    expect(() => loadConfig('company-exports', { [ENV.exportsBucket]: '' })).toThrow(
      'featurelake configuration of the company-exports Lambda: environment variable FEATURELAKE_STATE_TABLE is not set; environment variable FEATURELAKE_ADMIN_SECRET_ARN is not set; environment variable FEATURELAKE_EXPORTS_BUCKET is empty; environment variable FEATURELAKE_COMPANY_EXPORT_STATE_MACHINE_ARN is not set',
    );
  });
});

describe('awsDeps', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("reads the Lambda's whole list on first use, before any adapter is built", () => {
    vi.stubEnv(ENV.stateTable, 'state');
    vi.stubEnv(ENV.eventStream, '');

    expect(() => awsDeps('tracking')).toThrow(
      /tracking Lambda: environment variable FEATURELAKE_EVENT_STREAM is empty/,
    );
  });

  it("offers only the adapters the Lambda's settings can build", () => {
    vi.stubEnv(ENV.stateTable, 'state');
    vi.stubEnv(ENV.eventStream, 'stream');
    vi.stubEnv(ENV.emailFrom, 'exports@example.com');

    const aws = awsDeps('tracking');

    expect(Object.keys(aws)).toEqual(expect.arrayContaining(['environments', 'eventSink', 'objects']));
    expect(Object.keys(aws)).not.toContain('mailer');
    expect(aws.setting('eventStream')).toBe('stream');
    // @ts-expect-error: the tracking Lambda starts no workflow
    expect(() => aws.workflows('company-export')).toThrow(
      /tracking Lambda has no setting companyExportStateMachineArn: add it to LAMBDA_SETTINGS/,
    );
  });
});
