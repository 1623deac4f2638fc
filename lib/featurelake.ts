import { Annotations, type Stage } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ExportWorkflowSpecs } from '../lambdas/contract/workflow-spec.ts';
import { FeaturelakeApiStack } from './api-stack.ts';
import { FeaturelakeDataStack, type ScanLimits } from './data-stack.ts';
import { DEFAULT_API_THROTTLE } from './http-api.ts';
import { defaultFirehoseQuota, type FirehoseQuota } from './monitoring.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';
import { MIN_SCAN_LIMIT_BYTES } from './query-workgroup.ts';

/** Region used when neither `-c region=…` nor CDK_DEFAULT_REGION says otherwise. */
export const DEFAULT_REGION = 'us-east-1';

/**
 * API Gateway's account-level throttle per Region, shared by every API of the
 * account ("Amazon API Gateway quotas", https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html:
 * 10,000 requests per second with a burst of 5,000). A stage or route limit above
 * it cannot be reached unless the account's quota was raised.
 */
export const API_GATEWAY_ACCOUNT_THROTTLE: Required<ThrottleSettings> = { rateLimit: 10_000, burstLimit: 5_000 };

export interface FeaturelakeStacks {
  readonly data: FeaturelakeDataStack;
  readonly api: FeaturelakeApiStack;
}

/** Everything `cdk synth` reads from context, parsed and validated (docs/deploy.md, "Parameters"). */
export interface FeaturelakeParameters {
  readonly region: string;
  readonly account: string | undefined;
  readonly emailFrom: string | undefined;
  readonly emailIdentity: string | undefined;
  readonly scanLimits: ScanLimits;
  /** Stage-wide throttle: every route except tracking. */
  readonly apiThrottle: Required<ThrottleSettings>;
  /** The tracking route's own throttle. */
  readonly trackingThrottle: Required<ThrottleSettings>;
  readonly firehoseQuota: FirehoseQuota;
  readonly alarmEmail: string | undefined;
  /** The custom domain's https URL that download links start with (else the HTTP API's own URL); checked by the API stack. */
  readonly publicBaseUrl: string | undefined;
  /** Whether company exports read the daily facts (`rollupFromFacts`, `1` or `0`; default `1`). */
  readonly rollupFromFacts: boolean;
}

/**
 * Adds the two featurelake stacks to an app (or stage), deploying the given
 * export workflows (lambdas/workflows/exportWorkflowSpecs(): bin/app.ts builds
 * them, so lib/ never builds SQL or documents), configured from CDK context
 * (readFeaturelakeParameters).
 */
export function addFeaturelakeStacks(
  scope: Stage,
  workflows: ExportWorkflowSpecs,
  /** The built web console's directory (console/build.ts buildConsole: bin/app.ts builds it at synth). */
  consoleAssets: string,
): FeaturelakeStacks {
  const parameters = readFeaturelakeParameters(scope);
  const { region, account } = parameters;
  // A region on the stacks is required by the state table's KMS key; the
  // account may stay unset (synth then needs no credentials).
  const env = account === undefined ? { region } : { account, region };

  const data = new FeaturelakeDataStack(scope, 'FeaturelakeData', {
    env,
    description: 'featurelake: event lake, state table, admin token (stateful)',
    workflows,
    scanLimits: parameters.scanLimits,
  });
  const api = new FeaturelakeApiStack(scope, 'FeaturelakeApi', {
    env,
    description: 'featurelake: HTTP API and Lambda handlers (stateless)',
    data,
    workflows,
    consoleAssets,
    emailFrom: parameters.emailFrom,
    emailIdentity: parameters.emailIdentity,
    apiThrottle: parameters.apiThrottle,
    trackingThrottle: parameters.trackingThrottle,
    firehoseQuota: parameters.firehoseQuota,
    alarmEmail: parameters.alarmEmail,
    publicBaseUrl: parameters.publicBaseUrl,
    rollupFromFacts: parameters.rollupFromFacts,
  });
  warnAboutLimits(api, parameters);
  acknowledgeNagFindings({ data, api });
  return { data, api };
}

/**
 * The context parameters, each validated with an error naming it:
 *
 * - `region`: deployment region (else CDK_DEFAULT_REGION, else us-east-1);
 * - `account`: deployment account (else CDK_DEFAULT_ACCOUNT, else unset);
 * - `athenaScanLimitBytes`: the scan cutoff of every workgroup that has no
 *   cutoff of its own below (else each workgroup's default, DEFAULT_SCAN_LIMITS);
 * - `adhocScanLimitBytes`, `companyExportScanLimitBytes`,
 *   `eventsExportScanLimitBytes`, `dailyFactsScanLimitBytes`: one workgroup's cutoff;
 * - `apiThrottleRateLimit`, `apiThrottleBurstLimit`: the stage's throttle, for
 *   every route but tracking (else DEFAULT_API_THROTTLE);
 * - `trackingThrottleRateLimit`, `trackingThrottleBurstLimit`: the tracking
 *   route's (else the Firehose requests/s quota, and twice that as burst, at most
 *   the account's burst): each tracking call is at least one PutRecordBatch;
 * - `firehoseRecordsPerSecondQuota`, `firehoseRequestsPerSecondQuota`,
 *   `firehoseMiBPerSecondQuota`: the delivery stream's Direct PUT quotas in this
 *   account and region (else the region's defaults, defaultFirehoseQuota), which
 *   the alarms watch;
 * - `alarmEmail`: an address the alarms notify through an SNS topic (else the
 *   alarms have no action);
 * - `emailFrom`: the SES-verified address events export emails come from
 *   (else none: no email is sent);
 * - `emailIdentity`: the SES identity covering `emailFrom`, when it is a parent
 *   domain (else the address and its domain);
 * - `rollupFromFacts`: `1` (default) company exports read the daily facts where
 *   current; `0` the full recompute from raw events (the fallback switch).
 */
export function readFeaturelakeParameters(scope: Stage): FeaturelakeParameters {
  const region = contextString(scope, 'region') ?? process.env.CDK_DEFAULT_REGION ?? DEFAULT_REGION;
  const account = contextString(scope, 'account') ?? process.env.CDK_DEFAULT_ACCOUNT;

  const scanLimit = (key: string) => {
    const value = contextInteger(scope, key);
    if (value !== undefined && value < MIN_SCAN_LIMIT_BYTES) {
      throw new Error(
        `context "${key}" must be at least ${MIN_SCAN_LIMIT_BYTES} bytes (10 MiB, Athena's minimum per-query cutoff), got ${value}`,
      );
    }
    return value;
  };
  const fallback = scanLimit('athenaScanLimitBytes');
  const scanLimits: ScanLimits = {
    adhoc: scanLimit('adhocScanLimitBytes') ?? fallback,
    companyExport: scanLimit('companyExportScanLimitBytes') ?? fallback,
    eventsExport: scanLimit('eventsExportScanLimitBytes') ?? fallback,
    dailyFacts: scanLimit('dailyFactsScanLimitBytes') ?? fallback,
  };

  const regionQuota = defaultFirehoseQuota(region);
  const firehoseQuota: FirehoseQuota = {
    recordsPerSecond: positiveInteger(scope, 'firehoseRecordsPerSecondQuota') ?? regionQuota.recordsPerSecond,
    requestsPerSecond: positiveInteger(scope, 'firehoseRequestsPerSecondQuota') ?? regionQuota.requestsPerSecond,
    mibPerSecond: positiveInteger(scope, 'firehoseMiBPerSecondQuota') ?? regionQuota.mibPerSecond,
  };

  const apiThrottle = throttle(scope, 'api', DEFAULT_API_THROTTLE);
  const trackingRate = firehoseQuota.requestsPerSecond;
  const trackingThrottle = throttle(scope, 'tracking', {
    rateLimit: trackingRate,
    burstLimit: Math.min(2 * trackingRate, API_GATEWAY_ACCOUNT_THROTTLE.burstLimit),
  });

  const alarmEmail = contextString(scope, 'alarmEmail');
  // One "@", something on each side, no spaces: what SNS's email protocol can deliver to.
  if (alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail)) {
    throw new Error(`context "alarmEmail" must be an email address, got ${JSON.stringify(alarmEmail)}`);
  }

  return {
    region,
    account,
    emailFrom: contextString(scope, 'emailFrom'),
    emailIdentity: contextString(scope, 'emailIdentity'),
    scanLimits,
    apiThrottle,
    trackingThrottle,
    firehoseQuota,
    alarmEmail,
    publicBaseUrl: contextString(scope, 'publicBaseUrl'),
    rollupFromFacts: rollupFromFacts(scope),
  };
}

function rollupFromFacts(scope: Stage): boolean {
  const value: unknown = scope.node.tryGetContext('rollupFromFacts');
  if (value === undefined || value === null || value === '') return true;
  if (value === '1' || value === 1 || value === true) return true;
  if (value === '0' || value === 0 || value === false) return false;
  throw new Error(
    `context "rollupFromFacts" must be 1 (read the daily facts) or 0 (the full recompute), got ${JSON.stringify(value)}`,
  );
}

/** `<prefix>ThrottleRateLimit` and `<prefix>ThrottleBurstLimit`, each defaulting on its own. */
function throttle(scope: Stage, prefix: string, defaults: Required<ThrottleSettings>): Required<ThrottleSettings> {
  return {
    rateLimit: positiveInteger(scope, `${prefix}ThrottleRateLimit`) ?? defaults.rateLimit,
    burstLimit: positiveInteger(scope, `${prefix}ThrottleBurstLimit`) ?? defaults.burstLimit,
  };
}

/**
 * Settings that synthesize but will not behave as written: a throttle above the
 * account's (only reachable after a quota increase), a tracking rate above what
 * Firehose accepts (the excess becomes 5xx instead of API Gateway's 429).
 */
function warnAboutLimits(api: FeaturelakeApiStack, parameters: FeaturelakeParameters): void {
  const annotations = Annotations.of(api);
  for (const [name, limits] of [
    ['api', parameters.apiThrottle],
    ['tracking', parameters.trackingThrottle],
  ] as const) {
    if (
      limits.rateLimit > API_GATEWAY_ACCOUNT_THROTTLE.rateLimit ||
      limits.burstLimit > API_GATEWAY_ACCOUNT_THROTTLE.burstLimit
    ) {
      annotations.addWarningV2(
        `featurelake:${name}ThrottleAboveAccount`,
        `${name}Throttle (rate ${limits.rateLimit}, burst ${limits.burstLimit}) is above API Gateway's default account throttle (rate ${API_GATEWAY_ACCOUNT_THROTTLE.rateLimit}, burst ${API_GATEWAY_ACCOUNT_THROTTLE.burstLimit}): it only holds if the account's quota was raised.`,
      );
    }
  }
  if (parameters.trackingThrottle.rateLimit > parameters.firehoseQuota.requestsPerSecond) {
    annotations.addWarningV2(
      'featurelake:trackingThrottleAboveFirehose',
      `trackingThrottleRateLimit (${parameters.trackingThrottle.rateLimit}/s) is above firehoseRequestsPerSecondQuota (${parameters.firehoseQuota.requestsPerSecond}/s): each tracking call is at least one PutRecordBatch, so calls past the Firehose quota fail with 5xx rather than API Gateway's 429.`,
    );
  }
}

function contextString(scope: Stage, key: string): string | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new Error(`context "${key}" must be a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function contextInteger(scope: Stage, key: string): number | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  // `-c key=value` on the command line always arrives as a string.
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new Error(`context "${key}" must be a whole number, got ${JSON.stringify(value)}`);
  }
  return number;
}

function positiveInteger(scope: Stage, key: string): number | undefined {
  const value = contextInteger(scope, key);
  if (value !== undefined && value < 1) {
    throw new Error(`context "${key}" must be a whole number of at least 1, got ${value}`);
  }
  return value;
}
