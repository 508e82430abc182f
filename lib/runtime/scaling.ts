import {
  ApplicationAutoScalingClient, DeleteScalingPolicyCommand, DeleteScheduledActionCommand, DeregisterScalableTargetCommand, DescribeScalableTargetsCommand, DescribeScalingPoliciesCommand,
  DescribeScheduledActionsCommand, PutScalingPolicyCommand,
  PutScheduledActionCommand, RegisterScalableTargetCommand, ScalableDimension, ScalableTarget,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand, MetricAlarm, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointConfigCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { describeEndpoint, EndpointNotFoundError } from './endpoint-ops';
import { errorName } from './retry';
import { CandidateScalingSpec, ScalingGuardSpec, VariantScalingSpec } from './spec';

/**
 * The runtime side of autoscaling: taking a variant's scaling off before an update SageMaker would
 * refuse, putting it back afterwards, and narrowing a rolled-back canary to its minimum.
 *
 * SageMaker refuses an UpdateEndpoint that changes the instance type of a variant registered with
 * Application Auto Scaling, or removes such a variant; the documented way through is to deregister
 * the variant, update, and register it again with its policies
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html). Deregistering
 * deletes the target's scaling policies and scheduled actions
 * (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html),
 * so putting scaling back means putting those back too, from the template's definitions.
 */

export interface ScalingDeps {
  readonly sagemaker: SageMakerClient;
  readonly cloudwatch: CloudWatchClient;
  readonly autoscaling: ApplicationAutoScalingClient;
  readonly log: (message: string, data?: Record<string, unknown>) => void;
}

/** What the deployment wants: the new config's variants and the scaling of each scaled one. */
export type ScalingIntent = ScalingGuardSpec;

/** What one guard pass did, per variant. */
export type GuardAction =
  | { readonly variantName: string; readonly action: 'deregistered'; readonly reason: string }
  | { readonly variantName: string; readonly action: 'restored' }
  | { readonly variantName: string; readonly action: 'kept' | 'left-to-cloudformation' | 'not-registered' };

/** The two phases disagree with CloudFormation's order and cannot be done in one deployment. */
export class ScalingGuardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScalingGuardError';
  }
}

const SAGEMAKER = 'sagemaker';

/** The scalable target of a variant, or undefined when it is not registered. */
export async function describeTarget(autoscaling: ApplicationAutoScalingClient, resourceId: string, dimension: string): Promise<ScalableTarget | undefined> {
  const out = await autoscaling.send(new DescribeScalableTargetsCommand({
    ServiceNamespace: SAGEMAKER, ResourceIds: [resourceId], ScalableDimension: dimension as ScalableDimension,
  }));
  return (out.ScalableTargets ?? []).find((t) => t.ResourceId === resourceId && t.ScalableDimension === dimension);
}

/** Every scalable target registered for the endpoint's variants, by variant name. */
export async function endpointTargets(autoscaling: ApplicationAutoScalingClient, endpointName: string, variantNames: string[]): Promise<Record<string, ScalableTarget>> {
  const targets: Record<string, ScalableTarget> = {};
  if (variantNames.length === 0) return targets;
  let next: string | undefined;
  do {
    const out = await autoscaling.send(new DescribeScalableTargetsCommand({
      ServiceNamespace: SAGEMAKER, ResourceIds: variantNames.map((v) => variantResourceId(endpointName, v)), NextToken: next,
    }));
    for (const t of out.ScalableTargets ?? []) {
      const variant = variantNames.find((v) => variantResourceId(endpointName, v) === t.ResourceId);
      if (variant !== undefined) targets[variant] = t;
    }
    next = out.NextToken;
  } while (next);
  return targets;
}

/** Application Auto Scaling's resource id of a SageMaker variant. */
export function variantResourceId(endpointName: string, variantName: string): string {
  return `endpoint/${endpointName}/variant/${variantName}`;
}

/** The instance type of each variant of the config the endpoint runs ('serverless' for serverless variants); empty when the endpoint does not exist. */
export async function liveVariantTypes(sagemaker: SageMakerClient, endpointName: string): Promise<Record<string, string> | undefined> {
  let configName: string;
  try {
    configName = (await describeEndpoint(sagemaker, endpointName)).configName;
  } catch (error) {
    if (error instanceof EndpointNotFoundError) return undefined;
    throw error;
  }
  const out = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }));
  const types: Record<string, string> = {};
  for (const v of out.ProductionVariants ?? []) {
    if (v.VariantName) types[v.VariantName] = v.ServerlessConfig ? 'serverless' : (v.InstanceType ?? '');
  }
  return types;
}

/**
 * One pass of the scaling guard, the same rule before and after SageMaker's update, so that it is
 * right in every order CloudFormation may run it (forward, or backwards during a stack rollback),
 * and after a crash when Lambda runs it again:
 *  - a registered variant whose live instance type differs from the one this deployment wants, or
 *    that this deployment removes, is deregistered: the update that comes next would be refused;
 *  - a variant the deployment scales, that already scaled before (`previous`), that runs the type
 *    it wants and has no target (a guard deregistered it) is registered again with its policies;
 *  - a variant that starts scaling in this deployment is left to CloudFormation, which creates it.
 */
export async function guardScaling(deps: ScalingDeps, intent: ScalingIntent, previous: ScalingIntent | undefined): Promise<GuardAction[]> {
  const live = await liveVariantTypes(deps.sagemaker, intent.endpointName);
  if (!live) return []; // the endpoint is being created: nothing is registered yet
  const wanted = new Map(intent.variants.map((v) => [v.variantName, v]));
  const before = new Map((previous?.variants ?? []).map((v) => [v.variantName, v]));
  const names = [...new Set([...wanted.keys(), ...before.keys()])];
  const targets = await endpointTargets(deps.autoscaling, intent.endpointName, names);
  const actions: GuardAction[] = [];

  for (const name of names) {
    const spec = wanted.get(name) ?? before.get(name)!;
    const liveType = live[name];
    const wantedType = intent.configVariants[name];
    const target = targets[name];
    if (liveType !== undefined && liveType !== wantedType) {
      if (!target) {
        actions.push({ variantName: name, action: 'not-registered' });
        continue;
      }
      const old = before.get(name);
      const next = wanted.get(name);
      if (old && next && scalingDefinition(old) !== scalingDefinition(next)) {
        throw new ScalingGuardError(`variant ${name} of endpoint ${intent.endpointName} changes its instance type (${liveType} to ${wantedType}) and its scaling `
          + '(range, policies or schedules) in the same deployment: scaling is taken off for the instance-type change and put back from the template, '
          + 'which CloudFormation cannot order safely with an update of the same scaling resources. Deploy the two changes one after the other.');
      }
      const reason = wantedType === undefined
        ? `the deployment removes variant ${name}, which SageMaker refuses while it is registered with Application Auto Scaling`
        : `the deployment changes the instance type of variant ${name} from ${liveType} to ${wantedType}, which SageMaker refuses while it is registered with Application Auto Scaling`;
      await deregister(deps.autoscaling, spec);
      deps.log('scaling taken off', { endpointName: intent.endpointName, variant: name, reason });
      actions.push({ variantName: name, action: 'deregistered', reason });
      continue;
    }
    const next = wanted.get(name);
    const old = before.get(name);
    if (!next) {
      actions.push({ variantName: name, action: target ? 'kept' : 'not-registered' });
    } else if (!old) {
      // Scaling starts in this deployment: CloudFormation creates the target and its policies.
      actions.push({ variantName: name, action: 'left-to-cloudformation' });
    } else {
      // What existed before and is still wanted; anything new is CloudFormation's to create.
      const kept = carriedOver(old, next);
      if (target && !(await somethingMissing(deps.autoscaling, kept))) {
        actions.push({ variantName: name, action: 'kept' });
      } else {
        await restore(deps, kept);
        deps.log('scaling put back', { endpointName: intent.endpointName, variant: name });
        actions.push({ variantName: name, action: 'restored' });
      }
    }
  }
  return actions;
}

/** The wanted scaling, limited to the policies and scheduled actions the previous deployment had too. */
function carriedOver(old: VariantScalingSpec, next: VariantScalingSpec): VariantScalingSpec {
  const oldPolicies = new Set(old.policies.map((p) => String(p.PolicyName)));
  const oldActions = new Set(old.scheduledActions.map((a) => String(a.ScheduledActionName)));
  return {
    ...next,
    policies: next.policies.filter((p) => oldPolicies.has(String(p.PolicyName))),
    scheduledActions: next.scheduledActions.filter((a) => oldActions.has(String(a.ScheduledActionName))),
  };
}

/** Whether a policy or scheduled action of the spec is missing on the registered target (a restore that crashed halfway). */
async function somethingMissing(autoscaling: ApplicationAutoScalingClient, v: VariantScalingSpec): Promise<boolean> {
  const identity = { ServiceNamespace: SAGEMAKER, ResourceId: v.resourceId, ScalableDimension: v.dimension as ScalableDimension } as const;
  if (v.policies.length > 0) {
    const out = await autoscaling.send(new DescribeScalingPoliciesCommand({ ...identity, PolicyNames: v.policies.map((p) => String(p.PolicyName)) }));
    const present = new Set((out.ScalingPolicies ?? []).map((p) => p.PolicyName));
    if (v.policies.some((p) => !present.has(String(p.PolicyName)))) return true;
  }
  if (v.scheduledActions.length > 0) {
    const out = await autoscaling.send(new DescribeScheduledActionsCommand({
      ...identity, ScheduledActionNames: v.scheduledActions.map((a) => String(a.ScheduledActionName)),
    }));
    const present = new Set((out.ScheduledActions ?? []).map((a) => a.ScheduledActionName));
    if (v.scheduledActions.some((a) => !present.has(String(a.ScheduledActionName)))) return true;
  }
  return false;
}

/** The parts of a variant's scaling that the guard puts back: a change in them with an instance-type change is refused. */
function scalingDefinition(v: VariantScalingSpec): string {
  return JSON.stringify([v.minCapacity, v.maxCapacity, v.policies, v.scheduledActions]);
}

/**
 * SageMaker's documented procedure: delete the variant's scaling policies, then deregister it
 * (deregistering deletes policies and scheduled actions anyway; deleting them first leaves nothing
 * behind wherever that is not so).
 */
async function deregister(autoscaling: ApplicationAutoScalingClient, v: VariantScalingSpec): Promise<void> {
  const identity = { ServiceNamespace: SAGEMAKER, ResourceId: v.resourceId, ScalableDimension: v.dimension as ScalableDimension } as const;
  const policies = (await autoscaling.send(new DescribeScalingPoliciesCommand(identity))).ScalingPolicies ?? [];
  for (const p of policies) await ignoreNotFound(autoscaling.send(new DeleteScalingPolicyCommand({ ...identity, PolicyName: p.PolicyName! })));
  const actions = (await autoscaling.send(new DescribeScheduledActionsCommand(identity))).ScheduledActions ?? [];
  for (const a of actions) await ignoreNotFound(autoscaling.send(new DeleteScheduledActionCommand({ ...identity, ScheduledActionName: a.ScheduledActionName! })));
  await ignoreNotFound(autoscaling.send(new DeregisterScalableTargetCommand(identity)));
}

/** Gone already (a retry of a pass that got this far): the outcome is the one wanted. */
async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (errorName(error) !== 'ObjectNotFoundException') throw error;
  }
}

/**
 * Registers the variant again with the template's range, policies and scheduled actions, and points
 * the alarms of its step-scaling policies at the re-created policies. Every call is an upsert, so a
 * pass that crashed halfway is finished by the next one.
 */
export async function restore(deps: ScalingDeps, v: VariantScalingSpec): Promise<void> {
  const identity = { ServiceNamespace: SAGEMAKER, ResourceId: v.resourceId, ScalableDimension: v.dimension as ScalableDimension } as const;
  // No RoleARN: Application Auto Scaling uses its service-linked role for SageMaker.
  await deps.autoscaling.send(new RegisterScalableTargetCommand({ ...identity, MinCapacity: v.minCapacity, MaxCapacity: v.maxCapacity }));
  for (const policy of v.policies) {
    const out = await deps.autoscaling.send(new PutScalingPolicyCommand({ ...identity, ...(policy as object) } as any));
    const name = String(policy.PolicyName);
    const alarms = v.stepAlarms[name] ?? [];
    if (alarms.length > 0 && out.PolicyARN) await repointAlarms(deps.cloudwatch, alarms, name, out.PolicyARN);
  }
  for (const action of v.scheduledActions) {
    await deps.autoscaling.send(new PutScheduledActionCommand({ ...identity, ...(action as object) } as any));
  }
}

/**
 * Points a step-scaling policy's alarms at its new ARN: the action that names the policy (by its
 * `:policyName/<name>` suffix) is replaced, other actions are kept. PutMetricAlarm replaces the
 * whole alarm, so every setting is sent back as described.
 */
async function repointAlarms(cloudwatch: CloudWatchClient, alarmNames: string[], policyName: string, policyArn: string): Promise<void> {
  const out = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: alarmNames, AlarmTypes: ['MetricAlarm'] }));
  for (const alarm of out.MetricAlarms ?? []) {
    const others = (alarm.AlarmActions ?? []).filter((a) => !a.endsWith(`:policyName/${policyName}`));
    const actions = [...others, policyArn];
    if (JSON.stringify(actions) === JSON.stringify(alarm.AlarmActions ?? [])) continue;
    await cloudwatch.send(new PutMetricAlarmCommand({ ...alarmDefinition(alarm), AlarmActions: actions }));
  }
}

function alarmDefinition(a: MetricAlarm) {
  return {
    AlarmName: a.AlarmName!,
    AlarmDescription: a.AlarmDescription,
    ActionsEnabled: a.ActionsEnabled,
    OKActions: a.OKActions,
    InsufficientDataActions: a.InsufficientDataActions,
    MetricName: a.MetricName,
    Namespace: a.Namespace,
    Statistic: a.Statistic,
    ExtendedStatistic: a.ExtendedStatistic,
    Dimensions: a.Dimensions,
    Period: a.Period,
    Unit: a.Unit,
    EvaluationPeriods: a.EvaluationPeriods!,
    DatapointsToAlarm: a.DatapointsToAlarm,
    Threshold: a.Threshold,
    ComparisonOperator: a.ComparisonOperator!,
    TreatMissingData: a.TreatMissingData,
    EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile,
    Metrics: a.Metrics,
    ThresholdMetricId: a.ThresholdMetricId,
  };
}

/**
 * A rolled-back canary keeps paying for its fleet unless it shrinks: its range is narrowed to
 * [min, min] and scale-out and scheduled scaling are suspended, so nothing grows it while it serves
 * no traffic. Registering an existing target with a range that excludes its capacity makes
 * Application Auto Scaling move the capacity into the range
 * (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html).
 */
export async function pinToMinimum(autoscaling: ApplicationAutoScalingClient, c: CandidateScalingSpec): Promise<void> {
  await autoscaling.send(new RegisterScalableTargetCommand({
    ServiceNamespace: SAGEMAKER, ResourceId: c.resourceId, ScalableDimension: c.dimension as ScalableDimension,
    MinCapacity: c.minCapacity, MaxCapacity: c.minCapacity,
    SuspendedState: { DynamicScalingOutSuspended: true, ScheduledScalingSuspended: true, DynamicScalingInSuspended: false },
  }));
}

/** The template's range again, with nothing suspended: the candidate scales on its share once more. */
export async function restoreRange(autoscaling: ApplicationAutoScalingClient, c: CandidateScalingSpec): Promise<void> {
  await autoscaling.send(new RegisterScalableTargetCommand({
    ServiceNamespace: SAGEMAKER, ResourceId: c.resourceId, ScalableDimension: c.dimension as ScalableDimension,
    MinCapacity: c.minCapacity, MaxCapacity: c.maxCapacity,
    SuspendedState: { DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false, DynamicScalingInSuspended: false },
  }));
}

/** Whether the candidate's target is narrowed to its minimum (undefined: not registered). */
export async function isPinned(autoscaling: ApplicationAutoScalingClient, c: CandidateScalingSpec): Promise<boolean | undefined> {
  const target = await describeTarget(autoscaling, c.resourceId, c.dimension);
  if (!target) return undefined;
  return target.MaxCapacity === c.minCapacity && target.SuspendedState?.DynamicScalingOutSuspended === true;
}
