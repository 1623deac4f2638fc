import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../console/build.ts';
import { CONSOLE_CSP, CONSOLE_SECURITY_HEADERS } from '../../lambdas/contract/console.ts';
import { exportWorkflowSpecs } from '../../lambdas/workflows/specs.ts';
import { consolePathsFunction } from '../../lib/console.ts';
import { addFeaturelakeStacks } from '../../lib/featurelake.ts';
import { tempHome } from '../support/local-stack.ts';
import { featurelake, logicalId, resourceOf, resourcesOf } from './featurelake-app.ts';

type Json = Record<string, any>;

function distributionConfig(): Json {
  const { api, stacks } = featurelake();
  return resourceOf(api, stacks.api.console.distribution).Properties.DistributionConfig as Json;
}

describe('the console on AWS (CloudFront in front of S3 and the HTTP API)', () => {
  it('sends /console/* to the private bucket through Origin Access Control, and everything else to the HTTP API', () => {
    const { api, stacks } = featurelake();
    const config = distributionConfig();
    const origins = config.Origins as Json[];
    const apiOrigin = origins.find((origin) => origin.CustomOriginConfig);
    const s3Origin = origins.find((origin) => origin.S3OriginConfig);
    expect(origins).toHaveLength(2);
    expect(JSON.stringify(apiOrigin?.DomainName)).toContain(logicalId(stacks.api.api.httpApi));
    expect(JSON.stringify(apiOrigin?.DomainName)).toContain('.execute-api.');
    expect(apiOrigin?.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    expect(s3Origin?.DomainName).toEqual({
      'Fn::GetAtt': [logicalId(stacks.api.console.bucket), 'RegionalDomainName'],
    });
    // OAC, not the legacy identity.
    expect(s3Origin?.S3OriginConfig.OriginAccessIdentity).toBe('');
    const [oacId] = Object.keys(resourcesOf(api, 'AWS::CloudFront::OriginAccessControl'));
    expect(s3Origin?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
    // The bucket lets the distribution (and only it) read objects.
    const policy = Object.values(resourcesOf(api, 'AWS::S3::BucketPolicy')).find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: logicalId(stacks.api.console.bucket) }),
    );
    const read = (policy as { Properties: Json }).Properties.PolicyDocument.Statement.find(
      (s: Json) => s.Action === 's3:GetObject',
    );
    expect(read.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(JSON.stringify(read.Condition)).toContain(logicalId(stacks.api.console.distribution));

    const defaultBehavior = config.DefaultCacheBehavior as Json;
    expect(defaultBehavior.TargetOriginId).toBe(apiOrigin?.Id);
    expect(defaultBehavior.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
    // Managed policies: CachingDisabled, and AllViewerExceptHostHeader (Authorization, Featurelake-Environment, every query string).
    expect(defaultBehavior.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
    expect(defaultBehavior.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac');
    expect(defaultBehavior.ViewerProtocolPolicy).toBe('https-only');

    const [consoleBehavior, ...others] = config.CacheBehaviors as Json[];
    expect(others).toEqual([]);
    expect(consoleBehavior?.PathPattern).toBe('/console/*');
    expect(consoleBehavior?.TargetOriginId).toBe(s3Origin?.Id);
    expect(consoleBehavior?.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(consoleBehavior?.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(consoleBehavior?.ResponseHeadersPolicyId).toEqual({
      Ref: logicalId(stacks.api.console.responseHeadersPolicy),
    });
  });

  it('keeps the bucket private: no public access, TLS only, server access logs like the other buckets', () => {
    const { api, stacks } = featurelake();
    const bucket = resourceOf(api, stacks.api.console.bucket).Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect((bucket.LoggingConfiguration as Json).LogFilePrefix).toBe('console/');
    const policy = Object.values(resourcesOf(api, 'AWS::S3::BucketPolicy')).find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: logicalId(stacks.api.console.bucket) }),
    );
    expect((policy as { Properties: Json }).Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('answers console files with the same security headers as the local server', () => {
    const { api, stacks } = featurelake();
    const config = resourceOf(api, stacks.api.console.responseHeadersPolicy).Properties
      .ResponseHeadersPolicyConfig as Json;
    const security = config.SecurityHeadersConfig as Json;
    expect(security.ContentSecurityPolicy).toEqual({ ContentSecurityPolicy: CONSOLE_CSP, Override: true });
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(security.StrictTransportSecurity).toEqual({
      AccessControlMaxAgeSec: 31_536_000,
      IncludeSubdomains: true,
      Override: true,
    });
    expect(security.ContentTypeOptions).toEqual({ Override: true });
    expect(security.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(security.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
    expect(CONSOLE_SECURITY_HEADERS['referrer-policy']).toBe('no-referrer');
    expect(CONSOLE_SECURITY_HEADERS['x-frame-options']).toBe('DENY');
  });

  it('redirects / (and /console) to /console/, and serves /console/ as its index.html, with a CloudFront Function on both behaviors', () => {
    const { api, stacks } = featurelake();
    const fn = resourceOf(api, stacks.api.console.viewerRequestFunction).Properties;
    expect((fn.FunctionConfig as Json).Runtime).toBe('cloudfront-js-2.0');
    const code = fn.FunctionCode as string;
    expect(code).toBe(consolePathsFunction('/console/'));
    const run = (uri: string) =>
      runInNewContext(`${code}\nhandler(event)`, { event: { request: { uri, headers: {} } } });
    expect(run('/')).toEqual({
      statusCode: 302,
      statusDescription: 'Found',
      headers: { location: { value: '/console/' }, 'cache-control': { value: 'no-store' } },
    });
    expect(run('/console').statusCode).toBe(302);
    expect(run('/console/').uri).toBe('/console/index.html');
    expect(run('/console/main-ABC.js').uri).toBe('/console/main-ABC.js');
    expect(run('/api/v1/environment').uri).toBe('/api/v1/environment');
    const config = distributionConfig();
    const association = [
      {
        EventType: 'viewer-request',
        FunctionARN: { 'Fn::GetAtt': [logicalId(stacks.api.console.viewerRequestFunction), 'FunctionARN'] },
      },
    ];
    expect((config.DefaultCacheBehavior as Json).FunctionAssociations).toEqual(association);
    expect((config.CacheBehaviors as Json[])[0]?.FunctionAssociations).toEqual(association);
  });

  it('outputs the console URL beside the API URL', () => {
    const { api, stacks } = featurelake();
    const outputs = api.toJSON().Outputs as Json;
    expect(outputs.ConsoleUrl.Value).toEqual({
      'Fn::Join': [
        '',
        ['https://', { 'Fn::GetAtt': [logicalId(stacks.api.console.distribution), 'DomainName'] }, '/console/'],
      ],
    });
    expect(outputs.ApiUrl).toBeDefined();
  });
});

describe('the deployed files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempHome('featurelake-console-infra-');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are the real build, copied under console/ and invalidated at the edge on every deploy', async () => {
    const built = await buildConsole(join(dir, 'console'));
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], region: 'eu-west-1' },
      builtinCloudFormationValidation: false,
      outdir: join(dir, 'cdk.out'),
    });
    const stacks = addFeaturelakeStacks(app, exportWorkflowSpecs(), built.outDir);
    const template = Template.fromStack(stacks.api);
    const [deployment] = Object.values(resourcesOf(template, 'Custom::CDKBucketDeployment'));
    expect(deployment?.Properties.DestinationBucketKeyPrefix).toBe('console/');
    expect(deployment?.Properties.DistributionPaths).toEqual(['/console/*']);
    expect(deployment?.Properties.DestinationBucketName).toEqual({ Ref: logicalId(stacks.api.console.bucket) });
    expect(deployment?.Properties.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    // The asset staged for the deployment is the build directory: exactly its files.
    app.synth();
    const staged: string[][] = [];
    for (const entry of await readdir(join(dir, 'cdk.out'))) {
      if (!entry.startsWith('asset.')) continue;
      const files: string[] = await readdir(join(dir, 'cdk.out', entry)).catch(() => []);
      if (files.includes('index.html')) staged.push(files.sort());
    }
    expect(staged).toEqual([[...built.files].sort()]);
  });
});
