import { Aws, CfnTag, Fn, Names, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MANAGED_BY_TAG_KEY } from '../runtime/spec';

/** Tag on every model, endpoint config and endpoint this library creates: the cleanup command looks for it. */
export const MANAGED_BY_TAG: CfnTag = { key: MANAGED_BY_TAG_KEY, value: 'cdk-sagemaker-rollout' };

/**
 * A stable endpoint name from the construct path: lower case (SageMaker writes names in lower case
 * inside ARNs, so IAM statements spelled with capitals never match; no AWS page says so, it is seen
 * in practice: github.com/philschmid/cdk-samples/issues/2), at most 63 characters, SageMaker's name
 * pattern (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html), and
 * independent of the models, the candidate and the traffic shift, so that none of them ever
 * replaces the endpoint.
 */
export function generatedEndpointName(scope: Construct): string {
  return Names.uniqueResourceName(scope, { maxLength: 63, separator: '-' }).toLowerCase().replace(/^-+|-+$/g, '');
}

/** The lower-case form SageMaker uses in ARNs; tokens are left alone. */
export function arnName(name: string): string {
  return Token.isUnresolved(name) ? name : name.toLowerCase();
}

/**
 * An ARN in `Fn::Sub` syntax, with the stack's partition and, unless given, its region and account:
 * for use inside a larger `Fn::Sub` string, such as a dashboard body.
 */
export function arnSubTemplate(service: string, resource: string, options: { region?: string; account?: string } = {}): string {
  return `arn:\${AWS::Partition}:${service}:${options.region ?? '${AWS::Region}'}:${options.account ?? '${AWS::AccountId}'}:${resource}`;
}

/**
 * An ARN in the stack's partition (and, unless given, its region and account), as one `Fn::Sub`
 * string rather than CDK's usual `Fn::Join` of pseudo parameters: less than half the size, which
 * keeps the roles' policies of stacks with dozens of endpoints under IAM's size limits.
 * Parts that are tokens fall back to the usual form.
 */
export function compactArn(service: string, resource: string, options: { region?: string; account?: string } = {}): string {
  if ([service, resource, options.region, options.account].some((part) => part !== undefined && Token.isUnresolved(part))) {
    const r = options.region ?? Aws.REGION;
    const a = options.account ?? Aws.ACCOUNT_ID;
    return `arn:${Aws.PARTITION}:${service}:${r}:${a}:${resource}`;
  }
  const template = arnSubTemplate(service, resource, options);
  // One token per ARN, so that IAM sees equal ARNs as equal and merges or drops duplicates.
  let arn = compactArns.get(template);
  if (arn === undefined) {
    arn = Fn.sub(template);
    compactArns.set(template, arn);
  }
  return arn;
}

/** Fn::Sub tokens are plain intrinsics, independent of any stack: safe to share. */
const compactArns = new Map<string, string>();
