import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Function as CloudFrontFunction,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { type IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_CSP, CONSOLE_HSTS_SECONDS, CONSOLE_PATH } from '../lambdas/contract/console.ts';

export interface FeaturelakeConsoleProps {
  /** The HTTP API the console calls: the distribution's default origin, so both share one origin. */
  readonly httpApi: IHttpApi;
  /** The built console (console/build.ts buildConsole's outDir): index.html and its JS and CSS files. */
  readonly assets: string;
  /** Where the console bucket's S3 server access logs go (prefix `console/`). */
  readonly accessLogsBucket: IBucket;
}

/**
 * The web console on one origin with the API: a CloudFront distribution whose
 * `/console/*` behavior serves the built files from a private S3 bucket (Origin
 * Access Control, strict security headers) and whose default behavior passes
 * everything else to the HTTP API uncached, with every viewer header but Host
 * (so `Authorization` and `Featurelake-Environment` reach the handlers). A
 * CloudFront Function sends `/` to `/console/` and serves `/console/` as its
 * index.html.
 */
export class FeaturelakeConsole extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly responseHeadersPolicy: ResponseHeadersPolicy;
  readonly viewerRequestFunction: CloudFrontFunction;
  readonly deployment: BucketDeployment;
  /** `https://<distribution>/console/`. */
  readonly url: string;
  /** The Lambda BucketDeployment runs the copy with (a stack singleton), for the stack's alarms. */
  readonly deploymentFunction: IFunction;

  constructor(scope: Construct, id: string, props: FeaturelakeConsoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bucket = new Bucket(this, 'Bucket', {
      // SSE-S3: CloudFront's Origin Access Control reads it without a key policy to keep in step.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'console/',
      // Built files only: every deploy puts them back.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });

    this.responseHeadersPolicy = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'featurelake console: CSP without inline script, HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: CONSOLE_CSP, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.seconds(CONSOLE_HSTS_SECONDS),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    this.viewerRequestFunction = new CloudFrontFunction(this, 'ConsolePaths', {
      comment: 'featurelake: / and /console redirect to /console/, which serves /console/index.html',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(consolePathsFunction(CONSOLE_PATH)),
    });
    const functionAssociations = [
      { function: this.viewerRequestFunction, eventType: FunctionEventType.VIEWER_REQUEST },
    ];

    const apiDomain = `${props.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'featurelake: the console (/console/*) and the API on one origin',
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        // An API client is never redirected: a redirected POST would lose its body.
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        functionAssociations,
      },
      additionalBehaviors: {
        [`${CONSOLE_PATH}*`]: {
          origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: this.responseHeadersPolicy,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          functionAssociations,
        },
      },
    });

    this.deployment = new BucketDeployment(this, 'Files', {
      sources: [Source.asset(props.assets)],
      destinationBucket: this.bucket,
      destinationKeyPrefix: CONSOLE_PATH.slice(1),
      // index.html names the hashed JS and CSS: browsers revalidate it, and the deploy invalidates the edge.
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: [`${CONSOLE_PATH}*`],
      memoryLimit: 256,
    });

    const provider = stack.node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!(provider instanceof LambdaFunction))
      throw new Error('FeaturelakeConsole: no BucketDeployment provider Lambda');
    this.deploymentFunction = provider;

    this.url = `https://${this.distribution.distributionDomainName}${CONSOLE_PATH}`;
    new CfnOutput(stack, 'ConsoleUrl', {
      description: 'The featurelake web console (the API is served on the same origin)',
      value: this.url,
    });
  }
}

/** The CloudFront Function (JS 2.0 runtime) of both behaviors: the console's entry paths. */
export function consolePathsFunction(consolePath: string): string {
  const bare = consolePath.replace(/\/$/, '');
  return [
    'function handler(event) {',
    '  var request = event.request;',
    `  if (request.uri === '/' || request.uri === '${bare}') {`,
    `    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '${consolePath}' }, 'cache-control': { value: 'no-store' } } };`,
    '  }',
    `  if (request.uri === '${consolePath}') request.uri = '${consolePath}index.html';`,
    '  return request;',
    '}',
  ].join('\n');
}
