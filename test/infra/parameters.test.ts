import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/contract/routes.ts';
import { ENV } from '../../lambdas/contract/settings.ts';
import { DEFAULT_SCAN_LIMITS } from '../../lib/data-stack.ts';
import { readFeaturelakeParameters } from '../../lib/featurelake.ts';
import { DEFAULT_API_THROTTLE, routeKey } from '../../lib/http-api.ts';
import { defaultFirehoseQuota } from '../../lib/monitoring.ts';
import { MIN_SCAN_LIMIT_BYTES } from '../../lib/query-workgroup.ts';
import {
  type BuiltFeaturelake,
  buildFeaturelake,
  featurelake,
  logicalId,
  resourceOf,
  resourcesOf,
} from './featurelake-app.ts';

function cutoffs(built: BuiltFeaturelake) {
  const { data, stacks } = built;
  const cutoff = (workgroup: typeof stacks.data.workgroup) =>
    (resourceOf(data, workgroup.workgroup).Properties.WorkGroupConfiguration as { BytesScannedCutoffPerQuery: number })
      .BytesScannedCutoffPerQuery;
  return {
    adhoc: cutoff(stacks.data.workgroup),
    companyExport: cutoff(stacks.data.companyExportWorkgroup),
    eventsExport: cutoff(stacks.data.eventsExportWorkgroup),
    dailyFacts: cutoff(stacks.data.dailyFactsWorkgroup),
  };
}

function stage(built: BuiltFeaturelake) {
  const stages = Object.values(resourcesOf(built.api, 'AWS::ApiGatewayV2::Stage'));
  expect(stages).toHaveLength(1);
  return stages[0]?.Properties as {
    DefaultRouteSettings: Record<string, unknown>;
    RouteSettings?: Record<string, Record<string, unknown>>;
  };
}

const trackingRouteKeys = ROUTES.filter((route) => route.handler === 'tracking').map(routeKey);

describe('Athena scan cutoffs per workgroup', () => {
  it('default to the sizes docs/deploy.md derives for the reference customer', () => {
    expect(cutoffs(featurelake())).toEqual(DEFAULT_SCAN_LIMITS);
    // 10 GiB ad hoc, 2 TiB per company export query, 64 GiB per events export week, 2 TiB per facts build
    // (a first build reads an environment's whole history, as a full recompute does).
    expect(DEFAULT_SCAN_LIMITS).toEqual({
      adhoc: 10 * 1024 ** 3,
      companyExport: 2 * 1024 ** 4,
      eventsExport: 64 * 1024 ** 3,
      dailyFacts: 2 * 1024 ** 4,
    });
  });

  it('take each workgroup its own context parameter, athenaScanLimitBytes standing in for the ones not given', () => {
    const built = buildFeaturelake({
      athenaScanLimitBytes: String(5 * 1024 ** 3),
      companyExportScanLimitBytes: String(3 * 1024 ** 4),
    });

    expect(cutoffs(built)).toEqual({
      adhoc: 5 * 1024 ** 3,
      companyExport: 3 * 1024 ** 4,
      eventsExport: 5 * 1024 ** 3,
      dailyFacts: 5 * 1024 ** 3,
    });
    expect(
      cutoffs(buildFeaturelake({ adhocScanLimitBytes: 1024 ** 3, eventsExportScanLimitBytes: 1024 ** 4 })),
    ).toEqual({
      adhoc: 1024 ** 3,
      companyExport: DEFAULT_SCAN_LIMITS.companyExport,
      eventsExport: 1024 ** 4,
      dailyFacts: DEFAULT_SCAN_LIMITS.dailyFacts,
    });
  });

  it.each([
    ['adhocScanLimitBytes', String(MIN_SCAN_LIMIT_BYTES - 1), /"adhocScanLimitBytes" must be at least 10485760 bytes/],
    ['companyExportScanLimitBytes', '2TB', /"companyExportScanLimitBytes" must be a whole number/],
    ['eventsExportScanLimitBytes', -5, /"eventsExportScanLimitBytes" must be at least 10485760 bytes/],
    ['dailyFactsScanLimitBytes', '1e12', /"dailyFactsScanLimitBytes" must be a whole number/],
    ['athenaScanLimitBytes', '1000', /"athenaScanLimitBytes" must be at least 10485760 bytes/],
  ])('refuse %s = %j at synth, naming it', (key, value, message) => {
    expect(() => readFeaturelakeParameters(new App({ context: { [key]: value } }))).toThrow(message);
  });
});

describe('the fallback switch to the full recompute', () => {
  it('rollupFromFacts: 1 by default, 0 switches the export-steps Lambda to the full recompute, anything else is refused', () => {
    const variable = (built: BuiltFeaturelake) =>
      (
        resourceOf(built.api, built.stacks.api.exportSteps.handler.function).Properties.Environment as {
          Variables: Record<string, string>;
        }
      ).Variables[ENV.rollupFromFacts];

    expect(variable(featurelake())).toBe('1');
    expect(variable(buildFeaturelake({ rollupFromFacts: '0' }))).toBe('0');
    expect(() => readFeaturelakeParameters(new App({ context: { rollupFromFacts: 'no' } }))).toThrow(
      /"rollupFromFacts" must be 1 \(read the daily facts\) or 0/,
    );
  });
});

describe('API throttles', () => {
  it('throttle every route at DEFAULT_API_THROTTLE, and the tracking route at the Firehose requests/s quota (burst twice that)', () => {
    const built = featurelake();
    const quota = defaultFirehoseQuota('eu-west-1');

    expect(stage(built).DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: DEFAULT_API_THROTTLE.rateLimit,
      ThrottlingBurstLimit: DEFAULT_API_THROTTLE.burstLimit,
    });
    // seed 001's path form and the SDKs' own routes (issue 12) all carry tracking traffic.
    expect(trackingRouteKeys).toEqual(
      expect.arrayContaining(['POST /{trackingKey}/{method}', 'POST /bulk', 'POST /event']),
    );
    expect(stage(built).RouteSettings).toEqual(
      Object.fromEntries(
        trackingRouteKeys.map((key) => [
          key,
          { ThrottlingRateLimit: quota.requestsPerSecond, ThrottlingBurstLimit: 2 * quota.requestsPerSecond },
        ]),
      ),
    );
  });

  it('the stage is created after the tracking route, since API Gateway refuses settings for a route it does not know yet', () => {
    const built = featurelake();
    const stages = built.api.toJSON().Resources as Record<string, { Type: string; DependsOn?: string[] }>;
    const stageResource = Object.values(stages).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Stage');
    const trackingRoutes = built.stacks.api.api.routes.filter((_, index) => ROUTES[index]?.handler === 'tracking');

    expect(trackingRoutes).toHaveLength(trackingRouteKeys.length);
    expect(stageResource?.DependsOn).toEqual(expect.arrayContaining(trackingRoutes.map((route) => logicalId(route))));
  });

  it('take their rates and bursts from context, each on its own', () => {
    const built = buildFeaturelake({
      apiThrottleRateLimit: '50',
      trackingThrottleRateLimit: '1500',
      trackingThrottleBurstLimit: '3000',
    });

    expect(stage(built).DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: DEFAULT_API_THROTTLE.burstLimit,
    });
    expect(stage(built).RouteSettings?.['POST /{trackingKey}/{method}']).toEqual({
      ThrottlingRateLimit: 1500,
      ThrottlingBurstLimit: 3000,
    });
  });

  it('cap the default tracking burst at the account burst of 5,000 when the Firehose quota was raised', () => {
    const built = buildFeaturelake({ firehoseRequestsPerSecondQuota: '4000' });

    expect(stage(built).RouteSettings?.['POST /{trackingKey}/{method}']).toEqual({
      ThrottlingRateLimit: 4000,
      ThrottlingBurstLimit: 5000,
    });
  });

  it('warn at synth when a throttle is above the account default, or tracking is above the Firehose quota', () => {
    const built = buildFeaturelake({ trackingThrottleRateLimit: '12000', apiThrottleBurstLimit: '6000' });
    const annotations = Annotations.fromStack(built.stacks.api);

    annotations.hasWarning('*', Match.stringLikeRegexp('trackingThrottle \\(rate 12000.*account throttle'));
    annotations.hasWarning('*', Match.stringLikeRegexp('apiThrottle \\(rate 1000, burst 6000\\).*account throttle'));
    annotations.hasWarning(
      '*',
      Match.stringLikeRegexp(
        'trackingThrottleRateLimit \\(12000/s\\) is above firehoseRequestsPerSecondQuota \\(2000/s\\)',
      ),
    );
    Annotations.fromStack(featurelake().stacks.api).hasNoWarning('*', Match.stringLikeRegexp('Throttle'));
  });

  it.each([
    ['apiThrottleRateLimit', '0'],
    ['trackingThrottleBurstLimit', 'lots'],
    ['firehoseRequestsPerSecondQuota', '1.5'],
  ])('refuse %s = %j at synth, naming it', (key, value) => {
    expect(() => readFeaturelakeParameters(new App({ context: { [key]: value } }))).toThrow(`context "${key}" must be`);
  });
});

describe('Firehose Direct PUT quotas', () => {
  it("default to the region's documented quotas (Amazon Data Firehose Quota)", () => {
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) {
      expect(readFeaturelakeParameters(new App({ context: { region } })).firehoseQuota).toEqual({
        recordsPerSecond: 500_000,
        requestsPerSecond: 2_000,
        mibPerSecond: 5,
      });
    }
    for (const region of ['eu-central-1', 'us-east-2', 'ap-southeast-2']) {
      expect(readFeaturelakeParameters(new App({ context: { region } })).firehoseQuota).toEqual({
        recordsPerSecond: 100_000,
        requestsPerSecond: 1_000,
        mibPerSecond: 1,
      });
    }
  });

  it('take a raised quota from context', () => {
    const app = new App({
      context: {
        region: 'eu-central-1',
        firehoseRecordsPerSecondQuota: '200000',
        firehoseRequestsPerSecondQuota: '2000',
        firehoseMiBPerSecondQuota: '2',
      },
    });

    expect(readFeaturelakeParameters(app).firehoseQuota).toEqual({
      recordsPerSecond: 200_000,
      requestsPerSecond: 2_000,
      mibPerSecond: 2,
    });
  });
});

describe('alarmEmail', () => {
  it.each(['not-an-address', 'ops@localhost', 'two words@example.com'])('refuses %j at synth', (value) => {
    expect(() => readFeaturelakeParameters(new App({ context: { alarmEmail: value } }))).toThrow(
      'context "alarmEmail" must be an email address',
    );
  });
});
