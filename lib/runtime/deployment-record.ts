import { VariantModel } from './spec';

/**
 * The record of what went live on an endpoint, and of the reverts people made, with the pure
 * decisions built on them: where a revert goes, whether a deployment would bring a reverted model
 * back, what `cleanup` must keep. No I/O here (deployment-log.ts stores the records).
 */

/** A config that a deployment put live on an endpoint, as the post-deploy check saw it. */
export interface DeploymentRecord {
  readonly endpointName: string;
  readonly configName: string;
  /** The model of each variant of the config. */
  readonly models: VariantModel[];
  /** When the post-deploy check confirmed it live (ISO 8601). */
  readonly at: string;
  /** The CloudFormation stack that deployed it. */
  readonly stack: string;
  /** The endpoint's notification topic at that deployment. */
  readonly topicArn?: string;
  /** Set when a revert, not a deployment, put the config live: the revert's id. */
  readonly revertId?: string;
}

/** A revert that stands: the endpoint runs an earlier config than the stack's template says. */
export interface RevertRecord {
  /** `revert-<UTC time>`: what `acknowledgeRevert` names. */
  readonly id: string;
  readonly endpointName: string;
  readonly at: string;
  /** The caller's identity (the ARN from STS GetCallerIdentity). */
  readonly by: string;
  /** The `--as` label, when one was given. */
  readonly label?: string;
  readonly reason: string;
  readonly mode: 'all-at-once' | 'guarded';
  /** The config and models the endpoint ran before the revert. */
  readonly fromConfig: string;
  readonly fromModels: VariantModel[];
  /** The config and models the revert put back. */
  readonly toConfig: string;
  readonly toModels: VariantModel[];
  /** The config the stack's template deploys; CloudFormation believes it is live. */
  readonly templateConfig: string;
  readonly templateModels: VariantModel[];
  /**
   * Every model reverted away from, across consecutive reverts: a deployment that would put one
   * of them back is refused until the code changes or acknowledges the revert.
   */
  readonly revertedModels: string[];
}

/** The id of a revert made at `at`: `revert-20261130T041233Z`. */
export function revertIdAt(at: Date): string {
  return `revert-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export { REVERT_ID_PATTERN } from './spec';

/** `production=model-a, shadow=model-b`. */
export function describeModels(models: readonly VariantModel[]): string {
  return models.length === 0 ? 'no models recorded' : models.map((m) => `${m.variant}=${m.model}`).join(', ');
}

/** Where a revert would go, or why there is nowhere to go. */
export type RevertTarget =
  | { readonly kind: 'target'; readonly target: DeploymentRecord; readonly live: DeploymentRecord }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * The configs the endpoint went through, as a stack: a deployment pushes its config, a revert
 * pops back to the config it restored. So a second revert goes one step further back instead of
 * undoing the first, and a revert after a later deployment returns to what was really live
 * before it (the reverted config, not the model a person reverted away from).
 *
 * @param records the endpoint's deployments and reverts, newest first
 */
export function liveHistory(records: readonly DeploymentRecord[]): DeploymentRecord[] {
  const stack: DeploymentRecord[] = [];
  for (const r of [...records].reverse()) {
    if (r.revertId) {
      while (stack.length > 0 && stack[stack.length - 1].configName !== r.configName) stack.pop();
      if (stack.length === 0) stack.push(r);
    } else if (stack[stack.length - 1]?.configName !== r.configName) {
      stack.push(r);
    }
  }
  return stack;
}

/**
 * The config a revert goes back to: the one that was live before the live one (see
 * `liveHistory`), or the reason there is none.
 *
 * @param records the endpoint's deployments and reverts, newest first
 */
export function revertTarget(endpointName: string, records: readonly DeploymentRecord[], liveConfig: string): RevertTarget {
  if (records.length === 0) {
    return {
      kind: 'refused',
      reason: `no deployment of "${endpointName}" is recorded, so there is no previous config to go back to `
        + '(deployments are recorded by the post-deploy check from this version of cdk-sagemaker-rollout on, unless verifyDeployment is false)',
    };
  }
  const history = liveHistory(records);
  const live = history[history.length - 1];
  if (live.configName !== liveConfig) {
    return {
      kind: 'refused',
      reason: `endpoint "${endpointName}" runs config ${liveConfig}, but the last recorded config is ${live.configName}: `
        + 'the endpoint was changed outside CloudFormation and this tool, so the previous config is unknown',
    };
  }
  if (history.length < 2) {
    return {
      kind: 'refused',
      reason: `no deployment of "${endpointName}" before config ${liveConfig} is recorded: there is no previous config to go back to`,
    };
  }
  return { kind: 'target', target: history[history.length - 2], live };
}

/** Model names of a config that a standing revert moved away from (empty: the deployment is welcome). */
export function revertedModelsIn(revert: RevertRecord, models: readonly VariantModel[]): string[] {
  const restored = new Set(revert.toModels.map((m) => m.model));
  return [...new Set(models.map((m) => m.model).filter((m) => revert.revertedModels.includes(m) && !restored.has(m)))].sort();
}

/** What the revert guard decides for one endpoint of a deployment. */
export type GuardDecision =
  | { readonly kind: 'allow'; readonly note?: string }
  | { readonly kind: 'refuse'; readonly message: string };

/**
 * Whether a deployment may put `models` (config `configName`) on an endpoint with this standing
 * revert. A deployment that would bring a reverted model back is refused unless the code names
 * the revert in `acknowledgeRevert`; any other deployment is welcome (and ends the revert once
 * it is live).
 */
export function guardDeployment(revert: RevertRecord | undefined, entry: { configName: string; models: readonly VariantModel[]; acknowledgeRevert?: string }): GuardDecision {
  if (!revert) return { kind: 'allow' };
  const back = revertedModelsIn(revert, entry.models);
  if (back.length === 0) return { kind: 'allow', note: `config ${entry.configName} runs none of the reverted models: it ends ${revert.id} once it is live` };
  if (entry.acknowledgeRevert === revert.id) {
    return { kind: 'allow', note: `${revert.id} is acknowledged in the code: model ${back.join(', ')} goes back on the endpoint` };
  }
  return {
    kind: 'refuse',
    message: `endpoint ${revert.endpointName} was reverted at ${revert.at} by ${who(revert)} (${revert.id}: from ${revert.fromConfig} to ${revert.toConfig}, `
      + `reason: ${revert.reason}). This deployment would put the reverted model ${back.join(', ')} back on it (config ${entry.configName}). `
      + `Nothing was changed. To proceed, either change the model in the code (a fixed model ends the revert), or acknowledge the revert: `
      + `set acknowledgeRevert: '${revert.id}' on the ModelEndpoint and deploy again.`,
  };
}

/** `arn:aws:sts::123456789012:assumed-role/Ops/alice (as "bob")`. */
export function who(revert: Pick<RevertRecord, 'by' | 'label'>): string {
  return revert.label ? `${revert.by} (as "${revert.label}")` : revert.by;
}

/**
 * The configs a revert could need, which `cleanup` must keep even though no endpoint runs them:
 * the one a revert would go back to now, and the one the template deploys (a stack rollback or the
 * next deployment goes through it while a revert stands).
 */
export function configsARevertNeeds(endpointName: string, records: readonly DeploymentRecord[], liveConfig: string): string[] {
  const keep = new Set<string>();
  const template = records.find((r) => !r.revertId);
  if (template) keep.add(template.configName);
  const target = revertTarget(endpointName, records, liveConfig);
  if (target.kind === 'target') keep.add(target.target.configName);
  keep.delete(liveConfig);
  return [...keep].sort();
}
