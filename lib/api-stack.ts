import { CfnOutput, CrossStackReferences, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AdminApiHandler } from './admin-api.ts';
import type { FeaturelakeDataStack } from './data-stack.ts';
import { HandlerFunction } from './handler-function.ts';
import { FeaturelakeHttpApi } from './http-api.ts';
import { TrackingApiHandler } from './tracking-api.ts';

export interface FeaturelakeApiStackProps extends StackProps {
  /** The stateful stack whose resources the handlers use. */
  readonly data: FeaturelakeDataStack;
}

/**
 * The stateless part: Lambdas and the HTTP API. It can be destroyed and
 * redeployed at will; nothing here holds data.
 */
export class FeaturelakeApiStack extends Stack {
  readonly tracking: TrackingApiHandler;
  readonly admin: AdminApiHandler;
  readonly health: HandlerFunction;
  readonly api: FeaturelakeHttpApi;

  constructor(scope: Construct, id: string, props: FeaturelakeApiStackProps) {
    super(scope, id, props);
    // Strong (export/import): CloudFormation then refuses to delete the data
    // stack, or anything in it the API uses, while this stack still uses it.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const { data } = props;
    this.tracking = new TrackingApiHandler(this, 'Tracking', {
      eventStream: data.eventStream,
      stateTable: data.stateTable,
    });
    this.admin = new AdminApiHandler(this, 'Admin', {
      stateTable: data.stateTable,
      adminToken: data.adminToken,
      lake: data.lake,
      workgroup: data.workgroup,
    });
    this.health = new HandlerFunction(this, 'Health', { handler: 'health', memorySize: 128 });

    this.api = new FeaturelakeHttpApi(this, 'HttpApi', {
      handlers: {
        tracking: this.tracking.handler.function,
        admin: this.admin.handler.function,
        health: this.health.function,
      },
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the featurelake HTTP API',
      value: this.api.url,
    });
  }
}
