import { CfnTag, Names, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MANAGED_BY_TAG_KEY } from '../runtime/spec';

/** Tag on every model, endpoint config and endpoint this library creates: the cleanup command looks for it. */
export const MANAGED_BY_TAG: CfnTag = { key: MANAGED_BY_TAG_KEY, value: 'cdk-sagemaker-rollout' };

/**
 * A stable endpoint name from the construct path: lower case (SageMaker writes names in lower case
 * inside ARNs, SAGEMAKER-FACTS.md section 9), at most 63 characters, SageMaker's name pattern, and
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
