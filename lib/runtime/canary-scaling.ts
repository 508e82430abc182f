import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { EndpointView } from './endpoint-ops';
import { RetryOptions, withRetry } from './retry';
import { isPinned, pinToMinimum, restoreRange } from './scaling';
import { RolloutSpec } from './spec';

/**
 * A scaled canary through rollback and resume (DESIGN.md, "Who owns the instance count"): a
 * rolled-back candidate serves no traffic, so it is narrowed to its minimum and stops paying for
 * its fleet; `resume` gives it back its range and the capacity it had before the rollback, before
 * any traffic returns. Production's scaling is never touched, also not at 100 %.
 */

export interface CanaryScalingDeps {
  readonly sagemaker: SageMakerClient;
  readonly autoscaling?: ApplicationAutoScalingClient;
  readonly log: (message: string, data?: Record<string, unknown>) => void;
}

/** The candidate's instance count the endpoint shows (desired, else current). */
export function candidateInstanceCount(endpoint: EndpointView, spec: RolloutSpec): number | undefined {
  const v = endpoint.variants.find((x) => x.name === spec.candidateVariant);
  return v?.desiredInstanceCount ?? v?.currentInstanceCount;
}

/**
 * After a rollback moved the traffic: narrows the candidate to its minimum. Never fails the
 * rollback (the traffic is what matters, and it has moved); the controller narrows it again when
 * the endpoint is next back in service.
 */
export async function shrinkRolledBackCandidate(deps: CanaryScalingDeps, spec: RolloutSpec, endpointName: string): Promise<boolean> {
  const c = spec.candidateScaling;
  if (!c || !deps.autoscaling) return false;
  try {
    if ((await isPinned(deps.autoscaling, c)) === false) await pinToMinimum(deps.autoscaling, c);
    deps.log('rolled-back candidate narrowed to its minimum', { endpointName, variant: spec.candidateVariant, minCapacity: c.minCapacity });
    return true;
  } catch (error) {
    deps.log('narrowing the rolled-back candidate failed: it keeps its instances until the endpoint is next in service', { endpointName, error: (error as Error).message });
    return false;
  }
}

/**
 * Before `resume` sends traffic again: the candidate's range comes back, and its capacity goes
 * back to what it had before the rollback (within the range), so that the first step does not
 * meet a fleet sized for no traffic.
 */
export async function regrowCandidate(deps: CanaryScalingDeps, spec: RolloutSpec, endpointName: string, countBefore: number | undefined, retry: RetryOptions): Promise<number | undefined> {
  const c = spec.candidateScaling;
  if (!c || !deps.autoscaling) return undefined;
  await restoreRange(deps.autoscaling, c);
  const count = Math.min(c.maxCapacity, Math.max(c.minCapacity, countBefore ?? c.minCapacity));
  if (count > c.minCapacity) {
    await withRetry(() => deps.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({
      EndpointName: endpointName,
      DesiredWeightsAndCapacities: [{ VariantName: spec.candidateVariant, DesiredInstanceCount: count }],
    })), retry);
  }
  deps.log('candidate scaling restored before traffic returns', { endpointName, variant: spec.candidateVariant, instanceCount: count });
  return count;
}

/**
 * After a deployment (or any return to service): a rolled-back candidate stays narrowed (a
 * deployment may have re-registered its template range), and one that is not rolled back is not
 * left narrowed by a `resume` that stopped halfway.
 */
export async function syncCandidateScaling(deps: CanaryScalingDeps, spec: RolloutSpec, endpointName: string, rolledBack: boolean): Promise<'pinned' | 'restored' | 'in-sync' | 'none'> {
  const c = spec.candidateScaling;
  if (!c || !deps.autoscaling) return 'none';
  const pinned = await isPinned(deps.autoscaling, c);
  if (pinned === undefined) return 'none';
  if (rolledBack && !pinned) {
    await pinToMinimum(deps.autoscaling, c);
    deps.log('rolled-back candidate narrowed to its minimum again', { endpointName });
    return 'pinned';
  }
  if (!rolledBack && pinned && c.maxCapacity > c.minCapacity) {
    await restoreRange(deps.autoscaling, c);
    return 'restored';
  }
  return 'in-sync';
}
