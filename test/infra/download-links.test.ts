import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contract/settings.ts';
import {
  actionsOf,
  buildFeaturelake,
  featurelake,
  importOf,
  logicalId,
  resourceOf,
  resourcesOf,
  type Statement,
} from './featurelake-app.ts';

/**
 * Issue 11, finding 3: download links are signed with a key that Secrets Manager
 * generates at deploy time; only the Lambdas that make or check links read it, and
 * they start links with the API's own URL, or the custom domain's.
 */

type Json = Record<string, unknown>;

function linkLambdas() {
  const { stacks } = featurelake();
  return {
    'events-exports': stacks.api.eventsExports.handler,
    'company-exports': stacks.api.companyExports.handler,
    'events-export-steps': stacks.api.eventsExportSteps.handler,
  };
}

describe('the download-link key', () => {
  it('is a secret Secrets Manager generates (64 letters and digits), never a value in the template', () => {
    const { data, stacks } = featurelake();
    const secret = resourceOf(data, stacks.data.downloadLinkKey.secret).Properties;
    expect(secret.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false });
    expect(secret.SecretString).toBeUndefined();
    // Deleted with its stack: it guards links, not data, so create → destroy → create leaves nothing behind.
    const resource = (data.toJSON().Resources as Json)[logicalId(stacks.data.downloadLinkKey.secret)] as Json;
    expect(resource.DeletionPolicy).toBe('Delete');
  });

  it('is read by exactly the Lambdas that make or check links, and by no other role', () => {
    const { api, data, stacks } = featurelake();
    const secretArn = JSON.stringify(importOf(data, { Ref: logicalId(stacks.data.downloadLinkKey.secret) }));
    const readers = Object.values(resourcesOf(api, 'AWS::IAM::Policy'))
      .filter((policy) =>
        (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some((statement) =>
          JSON.stringify(statement.Resource).includes(secretArn),
        ),
      )
      .flatMap((policy) => (policy.Properties.Roles as Json[]).map((role) => role.Ref))
      .sort();
    const expected = Object.values(linkLambdas())
      .map((handler) => logicalId(handler.role))
      .sort();
    expect(readers).toEqual(expected);
    for (const handler of Object.values(linkLambdas())) {
      const policies = Object.values(resourcesOf(api, 'AWS::IAM::Policy')).filter((policy) =>
        (policy.Properties.Roles as Json[]).some((role) => role.Ref === logicalId(handler.role)),
      );
      const onKey = policies
        .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((statement) => JSON.stringify(statement.Resource).includes(secretArn));
      expect(onKey.flatMap(actionsOf).sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
      expect(onKey.map((statement) => statement.Resource)).toEqual([JSON.parse(secretArn)]);
    }
    // Nothing in the data stack (no resource policy, no other grant) opens it further.
    expect(Object.keys(resourcesOf(data, 'AWS::SecretsManager::ResourcePolicy'))).toEqual([]);
  });

  it('reaches its Lambdas as an ARN only: no environment variable of any Lambda holds a secret value', () => {
    const { api } = featurelake();
    for (const fn of Object.values(resourcesOf(api, 'AWS::Lambda::Function'))) {
      const variables = ((fn.Properties.Environment as { Variables?: Json } | undefined)?.Variables ?? {}) as Json;
      const secretish = Object.keys(variables).filter((name) => /SECRET|KEY/.test(name));
      expect(secretish.filter((name) => !name.endsWith('_ARN'))).toEqual([]);
    }
  });
});

describe("the links' base URL", () => {
  it("is the HTTP API's own URL by default, for every Lambda that makes links, with no dependency cycle", () => {
    const { api } = featurelake();
    const apiUrl = api.toJSON().Outputs.ApiUrl.Value;
    for (const handler of Object.values(linkLambdas())) {
      const variables = (resourceOf(api, handler.function).Properties.Environment as { Variables: Json }).Variables;
      expect(variables[ENV.publicApiUrl]).toEqual(apiUrl);
    }
    expect(cycleIn(api.toJSON().Resources as Record<string, Json>)).toBeUndefined();
    // The check finds no cycle in a Lambda naming the API whose integration names the Lambda…
    const looped = {
      Fn: { Properties: { Environment: { 'Fn::Join': ['', ['https://', { Ref: 'Api' }]] } } },
      Api: { Properties: {} },
      Integration: { Properties: { ApiId: { Ref: 'Api' }, Uri: { 'Fn::GetAtt': ['Fn', 'Arn'] } } },
    };
    expect(cycleIn(looped)).toBeUndefined();
    // …as when the API resource itself depended on the Lambda.
    expect(cycleIn({ ...looped, Api: { Properties: {}, DependsOn: 'Fn' } })).toEqual(['Fn', 'Api', 'Fn']);
  });

  it('is the publicBaseUrl context parameter behind a custom domain, without its trailing slash', () => {
    const { api, stacks } = buildFeaturelake({ publicBaseUrl: 'https://analytics.example.com/base/' });
    for (const handler of [stacks.api.eventsExports, stacks.api.companyExports, stacks.api.eventsExportSteps]) {
      const variables = (resourceOf(api, handler.handler.function).Properties.Environment as { Variables: Json })
        .Variables;
      expect(variables[ENV.publicApiUrl]).toBe('https://analytics.example.com/base');
    }
  });

  it.each(['http://analytics.example.com', 'analytics.example.com', 'https://a.example.com/?x=1'])(
    'refuses a publicBaseUrl that is not a plain https URL: %s',
    (publicBaseUrl) => {
      expect(() => buildFeaturelake({ publicBaseUrl })).toThrow(/publicBaseUrl must be an https URL/);
    },
  );
});

/** A dependency cycle among a template's resources (Ref, GetAtt, Sub, DependsOn), as CloudFormation would refuse it. */
function cycleIn(resources: Record<string, Json>): string[] | undefined {
  const edges = new Map<string, Set<string>>();
  const collect = (node: unknown, into: Set<string>): void => {
    if (Array.isArray(node)) {
      for (const item of node) collect(item, into);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Ref' && typeof value === 'string' && value in resources) into.add(value);
        else if (key === 'Fn::GetAtt' && Array.isArray(value) && String(value[0]) in resources) into.add(value[0]);
        else if (key === 'Fn::Sub' && typeof (Array.isArray(value) ? value[0] : value) === 'string') {
          for (const [, name] of String(Array.isArray(value) ? value[0] : value).matchAll(/\$\{([^}.!]+)/g)) {
            if (name && name in resources) into.add(name);
          }
          collect(value, into);
        } else collect(value, into);
      }
    }
  };
  for (const [id, resource] of Object.entries(resources)) {
    const into = new Set<string>();
    collect(resource.Properties, into);
    const dependsOn = resource.DependsOn;
    for (const name of Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : []) into.add(String(name));
    edges.set(id, into);
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
}
