import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HANDLER_ENTRIES, LAMBDA_MAX_TIMEOUT_SECONDS, type LambdaName } from '../lambdas/contract/lambdas.ts';
import { ROUTES } from '../lambdas/contract/routes.ts';
import {
  ENV,
  LAMBDA_SETTINGS,
  type LambdaSetting,
  type LambdaSettings,
  type Setting,
} from '../lambdas/contract/settings.ts';

/** The repository root: HANDLER_ENTRIES and package-lock.json are relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The newest Node.js runtime CDK knows; handlers also run on the local Node 20. */
export const HANDLER_RUNTIME = Runtime.NODEJS_24_X;

/** API Gateway stops waiting for an integration at 30 s. */
const MAX_ROUTE_TIMEOUT_SECONDS = 29;

/**
 * ESM bundles still contain CommonJS dependencies that call `require`; ESM has
 * none, so give them one.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as featurelakeCreateRequire } from 'node:module'; const require = featurelakeCreateRequire(import.meta.url);";

/**
 * Memory in MiB of a workflow-steps Lambda, which streams up to a GB per call
 * (`streams` says what, for the error): a whole number from 1,024 to 10,240, by
 * default 1,769, where Lambda gives a full vCPU.
 */
export function workflowStepsMemory(owner: string, memorySize: number | undefined, streams: string): number {
  const size = memorySize ?? 1769;
  if (!Number.isInteger(size) || size < 1024 || size > 10240) {
    throw new Error(`${owner}: memorySize must be a whole number of MiB from 1024 to 10240 (${streams}), got ${size}`);
  }
  return size;
}

interface HandlerFunctionOptions<L extends LambdaName> {
  /** Which handler of HANDLER_ENTRIES to bundle. */
  readonly handler: L;
  /**
   * Memory in MiB; Lambda gives CPU in proportion, so this also sets speed.
   *
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * At most 29 s for a handler that serves routes of ROUTES: API Gateway gives
   * up on an integration after 30 s, so a longer timeout would only keep
   * working on an answer nobody receives. Lambdas no route reaches (the
   * workflows' step Lambda) may take Lambda's maximum, 15 minutes.
   *
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * How long the function's logs are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * A value for each of the Lambda's settings, exactly its list in LAMBDA_SETTINGS
 * (lambdas/contract/settings.ts); the function gets each as its environment
 * variable (ENV). May be omitted for a Lambda with no settings.
 */
type HandlerFunctionSettings<L extends LambdaName> = [LambdaSetting<L>] extends [never]
  ? { readonly settings?: LambdaSettings<L> }
  : { readonly settings: LambdaSettings<L> };

export type HandlerFunctionProps<L extends LambdaName> = HandlerFunctionOptions<L> & HandlerFunctionSettings<L>;

/**
 * The environment variables of a Lambda's settings. The names are the table's
 * alone: a construct gives values (CDK tokens), and a setting missing or not in
 * the Lambda's list would deploy a Lambda that fails on its first call.
 */
function settingsEnvironment(lambda: LambdaName, settings: Readonly<Record<string, string>>): Record<string, string> {
  const expected: readonly string[] = LAMBDA_SETTINGS[lambda];
  const missing = expected.filter((setting) => !(setting in settings));
  const extra = Object.keys(settings).filter((setting) => !expected.includes(setting));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `HandlerFunction(${lambda}): settings must be exactly LAMBDA_SETTINGS['${lambda}'] in lambdas/contract/settings.ts (${expected.join(', ') || 'none'})` +
        (missing.length > 0 ? `; missing ${missing.join(', ')}` : '') +
        (extra.length > 0
          ? `; not in its list ${extra.join(', ')} (if the handler reads it, add it to the table)`
          : ''),
    );
  }
  return Object.fromEntries(Object.entries(settings).map(([setting, value]) => [ENV[setting as Setting], value]));
}

/**
 * One featurelake Lambda: the handler file bundled by esbuild (locally, no
 * Docker) as ESM for Node.js on arm64, with its own role that holds nothing but
 * the right to write its own log group. Every other permission is granted
 * explicitly by the construct that owns the resource.
 */
export class HandlerFunction<L extends LambdaName = LambdaName> extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps<L>) {
    super(scope, id);
    const environment = settingsEnvironment(props.handler, props.settings ?? {});
    const timeout = props.timeout ?? Duration.seconds(10);
    const servesRoutes = ROUTES.some((route) => route.handler === props.handler);
    const [maxSeconds, why] = servesRoutes
      ? [MAX_ROUTE_TIMEOUT_SECONDS, 'API Gateway stops waiting at 30']
      : [LAMBDA_MAX_TIMEOUT_SECONDS, "Lambda's maximum"];
    if (!timeout.isUnresolved() && timeout.toSeconds() > maxSeconds) {
      throw new Error(
        `HandlerFunction(${props.handler}): timeout must be at most ${maxSeconds} seconds (${why}), got ${timeout.toSeconds()}`,
      );
    }

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: that managed policy
    // lets the function write to every log group in the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `featurelake ${props.handler} handler`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, HANDLER_ENTRIES[props.handler]),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: HANDLER_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...environment },
      bundling: {
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Ship the SDK versions pinned in package-lock.json (the ones the tests
        // ran against), not whichever the runtime happens to carry.
        bundleAwsSDK: true,
      },
    });
    // The role's log permission must exist before the function first logs.
    this.function.node.addDependency(this.role);
  }
}
