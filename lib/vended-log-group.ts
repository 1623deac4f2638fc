import { Aws, Fn, Names, RemovalPolicy } from 'aws-cdk-lib';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Where a log group a service delivers into (vended logs) lives. */
export const VENDED_LOGS_PREFIX = '/aws/vendedlogs/';

/**
 * A log group that an AWS service delivers into (Step Functions execution logs,
 * API Gateway access logs), named `/aws/vendedlogs/<service>/<construct path>-<stack id>`.
 *
 * The prefix: such a service adds the log group to the account's CloudWatch
 * Logs resource policy, which is limited to 5,120 characters; in a busy account
 * the policy is full and creating the state machine fails. Log groups under
 * `/aws/vendedlogs/` are covered without growing it ("Avoiding Amazon CloudWatch
 * Logs resource policy size restrictions", Step Functions developer guide,
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html).
 *
 * The name: the construct path makes it unique per stack and construct; the
 * stack's own id (a new GUID each time CloudFormation creates the stack) makes
 * it unique per creation, so create → destroy → create never meets a log group
 * of an earlier stack, even one that outlived it. Destroyed with the stack.
 */
export function vendedLogGroup(
  scope: Construct,
  id: string,
  props: { readonly service: string; readonly retention: RetentionDays },
): LogGroup {
  // The owner's path (stack name first) plus the id: unique within the account.
  const path = `${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}-${id}`;
  const stackGuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return new LogGroup(scope, id, {
    logGroupName: Fn.join('', [`${VENDED_LOGS_PREFIX}${props.service}/${path}-`, stackGuid]),
    retention: props.retention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
