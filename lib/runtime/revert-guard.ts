import { announce, AnnounceDeps } from './announce';
import { CustomResourceEvent, respond, ResponseSender } from './custom-resource';
import { DeploymentLog } from './deployment-log';
import { guardDeployment, who } from './deployment-record';
import { EndpointView } from './endpoint-ops';
import { DeploymentSpec, RevertGuardEntry, RevertGuardSpec } from './spec';
import { StateStore } from './state-store';

/**
 * The deployment side of reverts (the CLI's `revert` makes them):
 *  - before CloudFormation updates any endpoint of the stack, the revert guard refuses a
 *    deployment that would put a reverted model back (unless the code acknowledges the revert);
 *  - after the update, the post-deploy check records what went live, ends a revert that a
 *    deployment of another model replaced, and lets a standing revert explain why the endpoint
 *    does not run the template's config.
 *
 * Why before: if the check failed the deployment afterwards, CloudFormation's rollback would set
 * the endpoint to the template's previous config, the very config the revert moved away from.
 */
export interface RevertDeps extends AnnounceDeps {
  readonly records?: DeploymentLog;
  readonly store?: StateStore;
  readonly now: () => Date;
  readonly log: (message: string, data?: Record<string, unknown>) => void;
  /** How the answer to CloudFormation is sent. @default - HTTPS PUT */
  readonly send?: ResponseSender;
}

/** Answers the stack's revert guard: fails the deployment before any endpoint changes, or lets it go on. */
export async function onRevertGuard(deps: RevertDeps, event: CustomResourceEvent): Promise<void> {
  const physicalResourceId = event.PhysicalResourceId ?? 'revert-guard';
  try {
    if (event.RequestType !== 'Delete') {
      const { refusals, accepted } = await guardRefusals(deps, event);
      if (refusals.length > 0) {
        await respond(event, { Status: 'FAILED', PhysicalResourceId: physicalResourceId, Reason: refusals.join(' ') }, deps.send);
        return;
      }
      for (const entry of accepted) await deps.records!.acceptGuardEntry(entry.endpointName, JSON.stringify(entry));
    }
    await respond(event, { Status: 'SUCCESS', PhysicalResourceId: physicalResourceId }, deps.send);
  } catch (error) {
    deps.log('revert guard failed', { error: (error as Error).message });
    await respond(event, { Status: 'FAILED', PhysicalResourceId: physicalResourceId, Reason: `the revert guard could not read the state table: ${(error as Error).message}` }, deps.send);
  }
}

/**
 * The refusals for the endpoints this deployment changes, and the entries it accepts. An endpoint
 * whose entry did not change is not touched by CloudFormation, so its standing revert is no
 * concern of this deployment. An entry the guard accepted for one of the last two deployments
 * passes again: that is CloudFormation rolling the stack back (after a refusal, or after another
 * resource failed), and a rollback must never get stuck.
 */
export async function guardRefusals(deps: RevertDeps, event: CustomResourceEvent): Promise<{ refusals: string[]; accepted: RevertGuardEntry[] }> {
  const spec = JSON.parse(String(event.ResourceProperties.Spec)) as RevertGuardSpec;
  const old = event.OldResourceProperties?.Spec ? JSON.parse(String(event.OldResourceProperties.Spec)) as RevertGuardSpec : undefined;
  const before = new Map((old?.endpoints ?? []).map((e) => [e.endpointName, JSON.stringify(e)]));
  const changed = spec.endpoints.filter((e) => before.get(e.endpointName) !== JSON.stringify(e));
  if (changed.length === 0) return { refusals: [], accepted: [] };
  if (!deps.records) throw new Error('the controller has no state table');
  const refusals: string[] = [];
  for (const entry of changed) {
    await deps.records.putConfigModels(entry.endpointName, entry.endpointConfigName, entry.models);
    if ((await deps.records.acceptedGuardEntries(entry.endpointName)).includes(JSON.stringify(entry))) {
      deps.log(`revert guard ${entry.endpointName}: an entry accepted before (a stack rollback): allowed`);
      continue;
    }
    const revert = (await deps.records.getRevert(entry.endpointName))?.value;
    const decision = guardDeployment(revert, { configName: entry.endpointConfigName, models: entry.models, acknowledgeRevert: entry.acknowledgeRevert });
    if (decision.kind === 'refuse') refusals.push(decision.message);
    else if (decision.note) deps.log(`revert guard ${entry.endpointName}: ${decision.note}`);
  }
  return { refusals, accepted: changed };
}

/**
 * After a verified deployment (the endpoint runs `spec.endpointConfigName`): records it, and ends
 * a standing revert, since the endpoint now runs what the template says.
 */
export async function recordDeployment(deps: RevertDeps, spec: DeploymentSpec, endpoint: EndpointView, stackId: string): Promise<void> {
  if (!deps.records) return;
  const at = deps.now().toISOString();
  const models = spec.models ?? await deps.records.configModels(spec.endpointName, endpoint.configName) ?? [];
  const wrote = await deps.records.record({
    endpointName: spec.endpointName,
    configName: endpoint.configName,
    models,
    at,
    stack: stackNameOf(stackId),
    topicArn: spec.topicArn,
  });
  if (wrote) deps.log('deployment recorded', { endpointName: spec.endpointName, config: endpoint.configName });
  const revert = await deps.records.getRevert(spec.endpointName);
  if (!revert || revert.value.toConfig === endpoint.configName) return;
  await deps.records.deleteRevert(spec.endpointName, revert.version);
  await deps.store?.appendHistory(spec.endpointName, {
    at, action: 'revert-ended', by: 'deployment',
    reason: `config ${endpoint.configName} deployed and live: ${revert.value.id} (back to ${revert.value.toConfig}) is over`,
  });
}

/**
 * The check found the endpoint on another config than the template's. If that config is the one a
 * standing revert put back, the revert explains it: the deployment passes and the revert stands.
 * Failing it would make CloudFormation roll the endpoint to the template's previous config, the
 * one the revert moved away from. Returns whether the revert explains the difference.
 */
export async function standingRevertExplains(deps: RevertDeps, spec: DeploymentSpec, endpoint: EndpointView): Promise<boolean> {
  if (!deps.records || endpoint.status !== 'InService') return false;
  const read = await deps.records.getRevert(spec.endpointName);
  if (!read || read.value.toConfig !== endpoint.configName) return false;
  const revert = read.value;
  if (revert.templateConfig === spec.endpointConfigName) {
    deps.log('the endpoint stays reverted', { endpointName: spec.endpointName, live: endpoint.configName, template: spec.endpointConfigName, revert: revert.id });
    return true;
  }
  // A new config was deployed, and SageMaker rolled it back onto the reverted config.
  const templateModels = spec.models ?? await deps.records.configModels(spec.endpointName, spec.endpointConfigName) ?? [];
  await deps.records.putRevert({ ...revert, templateConfig: spec.endpointConfigName, templateModels }, read.version);
  const message = `The deployment of config ${spec.endpointConfigName} to ${spec.endpointName} did not go live: the endpoint runs ${endpoint.configName}, `
    + `the config ${revert.id} put back (${who(revert)}, ${revert.at}), so SageMaker rolled the deployment back. The deployment is not failed, `
    + 'because CloudFormation would then restore the config the revert moved away from. The revert stands; '
    + `"npx cdk-sagemaker-rollout status ${spec.endpointName}" shows both configs.`;
  await deps.store?.appendHistory(spec.endpointName, { at: deps.now().toISOString(), action: 'deployment-rolled-back', by: 'deployment', reason: message });
  await announce(deps, {
    type: 'Deployment Rolled Back By SageMaker', endpointName: spec.endpointName, topicArn: spec.topicArn,
    summary: `deployment of ${spec.endpointConfigName} rolled back by SageMaker; the revert stands`,
    message,
    detail: { expectedConfig: spec.endpointConfigName, liveConfig: endpoint.configName, revertId: revert.id, failureReason: endpoint.failureReason ?? null },
  }).catch((e) => deps.log('announcing failed', { error: (e as Error).message }));
  return true;
}

/** `Service` from `arn:aws:cloudformation:us-east-1:123456789012:stack/Service/guid`. */
export function stackNameOf(stackId: string): string {
  return /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? stackId;
}
