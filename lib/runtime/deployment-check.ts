import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { alarmsFiring } from './decide';
import { describeEndpoint, EndpointView } from './endpoint-ops';
import { alarmStates } from './signals';
import { DeploymentSpec } from './spec';

/** The endpoint does not run what the deployment put in place. */
export class DeploymentCheckError extends Error {
  constructor(message: string, public readonly endpoint?: EndpointView, public readonly firingAlarms: string[] = []) {
    super(message);
    this.name = 'DeploymentCheckError';
  }
}

export interface CheckDeps {
  readonly sagemaker: SageMakerClient;
  readonly cloudwatch: CloudWatchClient;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Statuses in which the endpoint is still changing. */
const TRANSITIONAL = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);

/**
 * After CloudFormation finished updating the endpoint: does the endpoint run the config just
 * deployed, with its variants? SageMaker may have rolled the update back on its own while
 * CloudFormation reports success: after a rollback the endpoint is back in service on the previous
 * config (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html),
 * which the cleanup phase would delete. Fails with the reason: the alarms in ALARM and SageMaker's
 * FailureReason. One describe in the normal case; polls only if the endpoint is still changing.
 */
export async function checkDeployment(deps: CheckDeps, spec: DeploymentSpec, budgetMs: number, pollMs: number = 15_000): Promise<EndpointView> {
  const giveUpAt = deps.now().getTime() + budgetMs;
  let endpoint = await describeEndpoint(deps.sagemaker, spec.endpointName);
  while (TRANSITIONAL.has(endpoint.status) && deps.now().getTime() + pollMs < giveUpAt) {
    await deps.sleep(pollMs);
    endpoint = await describeEndpoint(deps.sagemaker, spec.endpointName);
  }
  if (TRANSITIONAL.has(endpoint.status)) {
    throw new DeploymentCheckError(`endpoint ${spec.endpointName} is still ${endpoint.status} after the deployment: cannot confirm it runs ${spec.endpointConfigName}`, endpoint);
  }
  if (endpoint.status === 'Failed' || endpoint.status === 'UpdateRollbackFailed' || endpoint.status === 'OutOfService') {
    throw new DeploymentCheckError(`endpoint ${spec.endpointName} is ${endpoint.status}${endpoint.failureReason ? `: ${endpoint.failureReason}` : ''}`, endpoint);
  }
  if (endpoint.configName === spec.endpointConfigName) {
    checkVariants(spec, endpoint);
    return endpoint;
  }

  const states = spec.rollbackAlarmNames.length > 0 ? await alarmStates(deps.cloudwatch, spec.rollbackAlarmNames) : {};
  const firing = alarmsFiring(states);
  const why = [
    firing.length > 0 ? `rollback alarm(s) in ALARM: ${firing.join(', ')}` : 'no rollback alarm is in ALARM now (it may have fired during the bake and recovered since)',
    endpoint.failureReason ? `SageMaker says: ${endpoint.failureReason}` : 'SageMaker gave no FailureReason',
  ].join('; ');
  throw new DeploymentCheckError(
    `SageMaker rolled the deployment of ${spec.endpointName} back: the endpoint runs endpoint config ${endpoint.configName}, not ${spec.endpointConfigName} (${why}). `
    + 'Failing the deployment so that CloudFormation rolls the stack back instead of deleting the config the endpoint still runs.',
    endpoint, firing);
}

/**
 * The endpoint runs the new config: it must also serve that config's variants. Adding or removing a
 * candidate changes the set of variants, an update SageMaker's guardrails may not guard
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html only asks
 * for the same variant names), so this is where such a deployment is confirmed.
 */
function checkVariants(spec: DeploymentSpec, endpoint: EndpointView): void {
  if (spec.variantNames === undefined) return;
  const live = endpoint.variants.map((v) => v.name);
  const expected = spec.variantNames;
  const same = live.length === expected.length && expected.every((name) => live.includes(name));
  if (!same) {
    throw new DeploymentCheckError(`endpoint ${spec.endpointName} runs endpoint config ${spec.endpointConfigName} but serves the variants [${live.join(', ')}], `
      + `not the config's [${expected.join(', ')}]: the change of variants did not take effect as deployed. Failing the deployment so that CloudFormation rolls the stack back.`, endpoint);
  }
}

/** "production, candidate -> production" when a deployment adds or removes variants; undefined otherwise. */
export function variantSetChange(old: DeploymentSpec | undefined, spec: DeploymentSpec): string | undefined {
  if (!old?.variantNames || !spec.variantNames) return undefined;
  const before = [...old.variantNames].sort();
  const after = [...spec.variantNames].sort();
  if (before.length === after.length && before.every((name, i) => name === after[i])) return undefined;
  return `${old.variantNames.join(', ')} -> ${spec.variantNames.join(', ')}`;
}
