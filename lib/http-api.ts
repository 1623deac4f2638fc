import { Duration } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_MAX_AGE_SECONDS } from '../lambdas/contract/cors.ts';
import { type HandlerName, ROUTES, type RouteSpec } from '../lambdas/contract/routes.ts';
import { vendedLogGroup } from './vended-log-group.ts';

/** Every route but tracking: the admin, catalog and export APIs, used by people and jobs. */
export const DEFAULT_API_THROTTLE: Required<ThrottleSettings> = { rateLimit: 1_000, burstLimit: 2_000 };

export interface FeaturelakeHttpApiProps {
  /** The Lambda that serves each handler name of ROUTES. */
  readonly handlers: Readonly<Record<HandlerName, IFunction>>;
  /**
   * Steady-state and burst request limits of each route but tracking, so that
   * a flood of calls cannot exhaust the account's Lambda concurrency.
   *
   * @default DEFAULT_API_THROTTLE
   */
  readonly throttle?: ThrottleSettings;
  /**
   * The tracking routes' own limits (ROUTES' `tracking` handler), which carry
   * nearly all the traffic: sized by the Firehose quota behind them, not by
   * what people and jobs call.
   *
   * @default the stage's `throttle`
   */
  readonly trackingThrottle?: ThrottleSettings;
  /**
   * Origins allowed to call the API from a browser (seed 001: tracking calls
   * come from browsers too, through Bucket's and Reflag's browser SDKs). They
   * may send the SDKs' headers, `Authorization` included, but never credentials:
   * the API sets no cookies, so no key is ever sent by the browser on its own
   * (lambdas/contract/cors.ts, docs/architecture.md "CORS").
   *
   * @default ['*']
   */
  readonly corsAllowOrigins?: string[];
  /**
   * How long the stage's access logs are kept.
   *
   * @default RetentionDays.THREE_MONTHS
   */
  readonly accessLogRetention?: RetentionDays;
}

/**
 * The HTTP API: exactly the routes of ROUTES (the same list the local server
 * serves), each sent to its handler's Lambda, on an auto-deployed `$default`
 * stage with access logs and throttling. Authentication is the handlers' job:
 * tracking keys in the path, `Token` and `Bearer` headers, as the seeds define.
 */
export class FeaturelakeHttpApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly routes: HttpRoute[];

  constructor(scope: Construct, id: string, props: FeaturelakeHttpApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'Api', {
      description: 'featurelake tracking, admin and export API',
      // The stage is created below, with access logs and throttling.
      createDefaultStage: false,
      // API Gateway answers preflights itself from this and adds these headers
      // to the Lambdas' answers (replacing any a Lambda sets), 4xx included.
      corsPreflight: {
        allowOrigins: props.corsAllowOrigins ?? ['*'],
        allowMethods: CORS_ALLOW_METHODS.map((method) => CorsHttpMethod[method]),
        allowHeaders: [...CORS_ALLOW_HEADERS],
        allowCredentials: false,
        maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
      },
    });

    const accessLogs = vendedLogGroup(this, 'AccessLogs', {
      service: 'apigateway',
      retention: props.accessLogRetention ?? RetentionDays.THREE_MONTHS,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_API_THROTTLE,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    // One integration per Lambda, shared by all of its routes.
    const integrations = new Map<HandlerName, HttpLambdaIntegration>();
    const integrationFor = (name: HandlerName): HttpLambdaIntegration => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascal(name)}Integration`, props.handlers[name]);
        integrations.set(name, integration);
      }
      return integration;
    };

    this.routes = ROUTES.map(
      (route) =>
        new HttpRoute(this, routeId(route), {
          httpApi: this.httpApi,
          routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
          integration: integrationFor(route.handler),
        }),
    );

    if (props.trackingThrottle) {
      // Route settings override the stage's default route settings for the
      // routes they name (the L2 stage has no per-route throttle). API Gateway
      // refuses settings for a route that does not exist yet ("Unable to find
      // Route by key … within the provided RouteSettings"), so the stage waits
      // for those routes.
      const { rateLimit, burstLimit } = props.trackingThrottle;
      const tracking = ROUTES.flatMap((route, index) =>
        route.handler === 'tracking' ? [{ route, construct: this.routes[index] as HttpRoute }] : [],
      );
      (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
        tracking.map(({ route }) => [
          routeKey(route),
          { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit },
        ]),
      );
      this.stage.node.addDependency(...tracking.map(({ construct }) => construct));
    }
  }

  /** The API's base URL, ending with `/`. */
  get url(): string {
    return this.stage.url;
  }
}

/**
 * One JSON line per request. No headers: `Authorization` carries API and admin
 * tokens. The path's tracking key is public (it ships in browser code).
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
  }),
);

/** The route key API Gateway knows a route by: `POST /{trackingKey}/{method}`. */
export function routeKey(route: RouteSpec): string {
  return `${route.method} ${route.path}`;
}

/** A stable construct id per route: `PostTrackingKeyMethod`, `GetHealth`, … */
function routeId(route: RouteSpec): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter((word) => word.length > 0);
  return pascal(route.method.toLowerCase()) + words.map(pascal).join('');
}

function pascal(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
