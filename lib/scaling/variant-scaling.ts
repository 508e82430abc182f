import { Aws, CfnResource, Lazy, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnEndpoint } from 'aws-cdk-lib/aws-sagemaker';
import { Construct, IConstruct } from 'constructs';
import {
  INSTANCE_COUNT_DIMENSION, PROVISIONED_CONCURRENCY_DIMENSION, ProvisionedConcurrencyScalingOptions, VariantAutoScalingOptions,
} from './auto-scaling-options';
import { ScalableInstanceCount, scalingAlarmPrefixOf } from './scalable-instance-count';
import { RolloutController } from '../controller/rollout-controller';
import { CandidateScalingSpec, ScalingGuardSpec, VariantScalingSpec } from '../runtime/spec';

/**
 * How a `ModelEndpoint` scales, and how scaling survives its deployments (README, "Autoscaling").
 *
 * Per scaled variant: an Application Auto Scaling scalable target (Application Auto Scaling's
 * service-linked role, never a role per target) and, with a target value, a target-tracking
 * policy. The target's ResourceId is a literal string, which gives CloudFormation no dependency:
 * the target is made to wait for the endpoint explicitly.
 *
 * The instance count belongs to Application Auto Scaling once a variant scales, so the endpoint
 * retains its variants' instance counts across updates (`RetainAllVariantProperties`) and takes
 * its weights from the new config (`ExcludeRetainedVariantProperties: DesiredWeight`), as without
 * scaling: SageMaker documents that with retention "production variants with the same name are
 * updated with the most recent DesiredInstanceCount ... regardless of the InitialInstanceCount in
 * the new EndpointConfig" (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VariantProperty.html). So the
 * green fleet of a blue/green update starts at the blue fleet's scaled size, also when the
 * instance type changes (never fewer instances than the load needed a minute ago). Weights stay
 * with the config because a retained weight can be wrong for the new set of variants (a promoted
 * canary's production at weight 0, after the candidate is removed); the controller re-applies the
 * runtime's weights after every deployment, as it always has.
 *
 * The instance-type change, in one `cdk deploy` (SageMaker refuses it while the variant is
 * registered):
 *
 *   ScalingGuard (custom resource)  ->  Endpoint (UpdateEndpoint)  ->  targets, policies  ->  Deployment (custom resource)
 *   deregisters the variants whose      SageMaker's update, with        CloudFormation's own      registers the deregistered variants
 *   type changes or that go away        nothing registered on them      updates, if any           again with the template's policies
 *
 * Both custom resources are served by the stack's controller and run one rule (lib/runtime/scaling.ts):
 * deregister where the live instance type differs from the wanted one, register again where it
 * matches. That rule is also right backwards, when CloudFormation rolls the stack back (the
 * Deployment resource is rolled back first and takes scaling off before the endpoint goes back to
 * the old type; the guard is rolled back last and puts it back), and when Lambda runs a crashed
 * invocation again. So a failure in between never leaves a fleet without scaling once the stack
 * is settled. The one combination it refuses (with a message, before anything changes) is an
 * instance-type change together with a change of the same variant's scaling settings.
 */

/** A variant as the scaling binder needs it. */
export interface ScalingVariant {
  readonly role: 'production' | 'candidate' | 'shadow';
  readonly variantName: string;
  /** The instance type's name; undefined for serverless. */
  readonly instanceType?: string;
  readonly autoScaling?: VariantAutoScalingOptions;
  readonly provisionedConcurrencyScaling?: ProvisionedConcurrencyScalingOptions;
}

/** What binding scaling gives the endpoint. */
export interface EndpointScaling {
  /** The scalable attribute of each scaled variant, by variant name. */
  readonly attributes: Record<string, ScalableInstanceCount>;
  /** The guard spec, resolved at synthesis (users may add policies after the endpoint is built). */
  readonly spec: ScalingGuardSpec;
  /** The canary candidate's range, when it scales. */
  readonly candidate?: CandidateScalingSpec;
}

/** The role Application Auto Scaling creates for SageMaker the first time a variant registers. */
function serviceLinkedRoleArn(): string {
  return `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`;
}

/**
 * Creates the scaling of every scaled variant, the guard that takes it off around instance-type
 * changes, and retains the endpoint's instance counts across updates. Returns undefined when no
 * variant scales: then the endpoint's template is exactly what it was without this feature.
 */
export function bindScaling(scope: Construct, options: {
  readonly endpointName: string;
  readonly endpointArn: string;
  readonly endpoint: CfnEndpoint;
  readonly controller: RolloutController;
  readonly variants: ScalingVariant[];
}): EndpointScaling | undefined {
  const scaled = options.variants.filter((v) => v.autoScaling || v.provisionedConcurrencyScaling);
  if (scaled.length === 0) return undefined;

  const controller = options.controller;
  const alarmNamePrefix = scalingAlarmPrefixOf(controller.alarmNamePrefix);
  // An imported role is only a name here: CDK renders nothing for it, and the RoleARN is removed
  // below so that Application Auto Scaling uses (and, the first time, creates) its service-linked role.
  const role = iam.Role.fromRoleArn(scope, 'ScalingRole', serviceLinkedRoleArn(), { mutable: false });
  const production = options.variants.find((v) => v.role === 'production');
  const attributes: Record<string, ScalableInstanceCount> = {};
  let candidate: CandidateScalingSpec | undefined;

  for (const v of scaled) {
    const instances = v.autoScaling;
    const dimension = instances ? INSTANCE_COUNT_DIMENSION : PROVISIONED_CONCURRENCY_DIMENSION;
    const min = instances ? instances.minInstanceCount : v.provisionedConcurrencyScaling!.minProvisionedConcurrency;
    const max = instances ? instances.maxInstanceCount : v.provisionedConcurrencyScaling!.maxProvisionedConcurrency;
    const resourceId = `endpoint/${options.endpointName}/variant/${v.variantName}`;
    const attribute = new ScalableInstanceCount(scope, v.role === 'production' ? 'ProductionScaling' : 'CandidateScaling', {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId,
      dimension,
      role,
      minCapacity: min,
      maxCapacity: max,
      endpointName: options.endpointName,
      variantName: v.variantName,
      alarmNamePrefix,
    });
    const target = attribute.node.findChild('Target').node.defaultChild as appscaling.CfnScalableTarget;
    target.addPropertyDeletionOverride('RoleARN');
    // The ResourceId names the endpoint by a literal string: CloudFormation must be told to wait.
    target.node.addDependency(options.endpoint);

    if (instances) {
      // A canary candidate without a target of its own tracks production's.
      const targetValue = instances.targetInvocationsPerInstance
        ?? (v.role === 'candidate' ? production?.autoScaling?.targetInvocationsPerInstance : undefined);
      if (targetValue !== undefined) {
        attribute.scaleOnInvocations('InvocationsPerInstance', {
          invocationsPerInstance: targetValue,
          scaleInCooldown: instances.scaleInCooldown,
          scaleOutCooldown: instances.scaleOutCooldown,
        });
      }
    } else if (v.provisionedConcurrencyScaling!.targetUtilizationPercent !== undefined) {
      const pc = v.provisionedConcurrencyScaling!;
      attribute.scaleOnProvisionedConcurrencyUtilization('ProvisionedConcurrencyUtilization', {
        targetUtilizationPercent: pc.targetUtilizationPercent!,
        scaleInCooldown: pc.scaleInCooldown,
        scaleOutCooldown: pc.scaleOutCooldown,
      });
    }
    attributes[v.variantName] = attribute;
    if (v.role === 'candidate') candidate = { resourceId, dimension, minCapacity: min, maxCapacity: max };
  }

  // Scaling owns the instance counts; the new config owns the weights (see the comment at the top).
  options.endpoint.retainAllVariantProperties = true;
  options.endpoint.excludeRetainedVariantProperties = [{ variantPropertyType: 'DesiredWeight' }];

  const configVariants: Record<string, string> = {};
  for (const v of options.variants) {
    if (v.role !== 'shadow') configVariants[v.variantName] = v.instanceType ?? 'serverless';
  }
  const spec: ScalingGuardSpec = {
    endpointName: options.endpointName,
    configVariants,
    variants: Lazy.any({ produce: () => scaled.map((v) => variantSpec(attributes[v.variantName], v.instanceType)) }) as unknown as VariantScalingSpec[],
  };
  controller.allowScaling({ endpointArn: options.endpointArn, alarmNamePrefix });
  const guard = controller.scalingGuardResource(scope, 'ScalingGuard', spec);
  // Before SageMaker's update: takes scaling off a variant whose instance type changes.
  options.endpoint.node.addDependency(guard);
  return { attributes, spec, candidate };
}

/**
 * A scaled variant's definition as the template renders it, in the Application Auto Scaling
 * API's shapes (CloudFormation's property names are the API's), without the target's identity.
 */
function variantSpec(attribute: ScalableInstanceCount, instanceType: string | undefined): VariantScalingSpec {
  const stack = Stack.of(attribute);
  const target = attribute.node.findChild('Target').node.defaultChild as appscaling.CfnScalableTarget;
  const targetProps = renderedProperties(stack, target);
  const policies: Record<string, unknown>[] = [];
  const stepAlarms: Record<string, string[]> = {};
  for (const child of attribute.node.findAll()) {
    if (!(child instanceof appscaling.CfnScalingPolicy)) continue;
    const { ScalingTargetId, ResourceId, ScalableDimension, ServiceNamespace, ...policy } = renderedProperties(stack, child);
    policies.push(policy);
    // A step-scaling action ('LowerPolicy'/'UpperPolicy') sits beside the alarm that invokes it.
    const action = child.node.scope as IConstruct | undefined;
    const side = action?.node.id === 'LowerPolicy' ? 'LowerAlarm' : action?.node.id === 'UpperPolicy' ? 'UpperAlarm' : undefined;
    const alarm = side ? action?.node.scope?.node.tryFindChild(side) as cloudwatch.Alarm | undefined : undefined;
    const alarmName = alarm ? (alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmName : undefined;
    if (alarmName) stepAlarms[String(policy.PolicyName)] = [alarmName];
  }
  return {
    variantName: attribute.variantName,
    resourceId: String(targetProps.ResourceId),
    dimension: attribute.dimension,
    instanceType,
    minCapacity: Number(targetProps.MinCapacity),
    maxCapacity: Number(targetProps.MaxCapacity),
    policies,
    scheduledActions: (targetProps.ScheduledActions as Record<string, unknown>[] | undefined) ?? [],
    stepAlarms,
  };
}

function renderedProperties(stack: Stack, resource: CfnResource): Record<string, any> {
  const rendered = stack.resolve((resource as unknown as { _toCloudFormation(): { Resources: Record<string, { Properties?: Record<string, unknown> }> } })._toCloudFormation());
  const only = Object.values(rendered.Resources as Record<string, { Properties?: Record<string, unknown> }>)[0];
  return only?.Properties ?? {};
}
