import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { validatePositive } from './auto-scaling-options';

/** Options of `scaleOnInvocations`. */
export interface InvocationsScalingProps extends appscaling.BaseTargetTrackingProps {
  /**
   * Requests per instance per minute to keep the variant at (`SageMakerVariantInvocationsPerInstance`).
   * Take it from a load test, with a safety margin.
   */
  readonly invocationsPerInstance: number;
}

/** Options of `scaleOnUtilization`. */
export interface UtilizationScalingProps extends appscaling.BaseTargetTrackingProps {
  /**
   * Average `CPUUtilization` of the variant's instances to keep it at, in percent. SageMaker sums
   * CPU utilization over an instance's vCPUs, so 4 vCPUs at full load read 400 %.
   */
  readonly targetUtilizationPercent: number;
}

/** Options of `scaleOnProvisionedConcurrencyUtilization`. */
export interface ProvisionedConcurrencyUtilizationScalingProps extends appscaling.BaseTargetTrackingProps {
  /** Share of the provisioned concurrency in use to keep the variant at, in percent (1-100). */
  readonly targetUtilizationPercent: number;
}

/** Properties of a `ScalableInstanceCount`. */
export interface ScalableInstanceCountProps extends appscaling.BaseScalableAttributeProps {
  /** The endpoint's name. */
  readonly endpointName: string;
  /** The variant's name. */
  readonly variantName: string;
  /**
   * Prefix of the names given to the alarms of step-scaling policies (`scaleOnMetric`): the
   * library points those alarms at their policies again after an instance-type change.
   */
  readonly alarmNamePrefix: string;
}

/**
 * The scalable capacity of one endpoint variant (its instance count, or a serverless variant's
 * provisioned concurrency), the way aws-cdk-lib's scalable attributes work: add target tracking,
 * step scaling or schedules. Get it from `endpoint.scalableInstanceCount(variantName)` (or
 * `scalableProvisionedConcurrency`) for a variant with `autoScaling`.
 *
 * Application Auto Scaling uses its service-linked role for SageMaker: no role is created per
 * variant. Everything added here is registered again, unchanged, when an instance-type change
 * makes the library take the variant's scaling off around SageMaker's update.
 */
export class ScalableInstanceCount extends appscaling.BaseScalableAttribute {
  /** The endpoint's name. */
  public readonly endpointName: string;
  /** The variant's name. */
  public readonly variantName: string;
  /** The scalable dimension: `sagemaker:variant:DesiredInstanceCount` or `sagemaker:variant:DesiredProvisionedConcurrency`. */
  public readonly dimension: string;
  private readonly alarmNamePrefix: string;

  constructor(scope: Construct, id: string, props: ScalableInstanceCountProps) {
    super(scope, id, props);
    this.endpointName = props.endpointName;
    this.variantName = props.variantName;
    this.dimension = props.dimension;
    this.alarmNamePrefix = props.alarmNamePrefix;
  }

  /** Keeps `SageMakerVariantInvocationsPerInstance` (requests per instance per minute) at a target. */
  public scaleOnInvocations(id: string, props: InvocationsScalingProps): void {
    this.requireInstances('scaleOnInvocations');
    validatePositive('invocationsPerInstance', props.invocationsPerInstance);
    this.doScaleToTrackMetric(id, {
      ...props,
      targetValue: props.invocationsPerInstance,
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
    });
  }

  /** Keeps the variant's average CPU utilization (summed over each instance's vCPUs) at a target. */
  public scaleOnUtilization(id: string, props: UtilizationScalingProps): void {
    this.requireInstances('scaleOnUtilization');
    validatePositive('targetUtilizationPercent', props.targetUtilizationPercent);
    this.doScaleToTrackMetric(id, {
      ...props,
      targetValue: props.targetUtilizationPercent,
      customMetric: new cloudwatch.Metric({
        namespace: '/aws/sagemaker/Endpoints',
        metricName: 'CPUUtilization',
        dimensionsMap: { EndpointName: this.endpointName, VariantName: this.variantName },
        statistic: 'Average',
        period: Duration.minutes(1),
      }),
    });
  }

  /** Keeps a serverless variant's `SageMakerVariantProvisionedConcurrencyUtilization` at a target. */
  public scaleOnProvisionedConcurrencyUtilization(id: string, props: ProvisionedConcurrencyUtilizationScalingProps): void {
    if (this.dimension !== 'sagemaker:variant:DesiredProvisionedConcurrency') {
      throw new Error(`scaleOnProvisionedConcurrencyUtilization is for serverless variants, and variant ${this.variantName} runs on instances: use scaleOnInvocations`);
    }
    if (!(props.targetUtilizationPercent > 0) || props.targetUtilizationPercent > 100) {
      throw new Error(`targetUtilizationPercent must be greater than 0 and at most 100, got ${props.targetUtilizationPercent}`);
    }
    this.doScaleToTrackMetric(id, {
      ...props,
      // The metric is the used share of the provisioned concurrency, from 0 to 1.
      targetValue: props.targetUtilizationPercent / 100,
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_PROVISIONED_CONCURRENCY_UTILIZATION,
    });
  }

  /** Keeps any metric at a target (target tracking). */
  public scaleToTrackMetric(id: string, props: appscaling.BasicTargetTrackingScalingPolicyProps): void {
    this.doScaleToTrackMetric(id, props);
  }

  /**
   * Steps the capacity on a metric (step scaling). The policy's alarms get names from the stack's
   * scaling prefix, so that the library can point them at the policy again after an
   * instance-type change re-created it.
   */
  public scaleOnMetric(id: string, props: appscaling.BasicStepScalingPolicyProps): void {
    this.doScaleOnMetric(id, props);
    const policy = this.node.findChild('Target').node.findChild(id);
    for (const side of ['LowerAlarm', 'UpperAlarm']) {
      const alarm = policy.node.tryFindChild(side) as cloudwatch.Alarm | undefined;
      if (alarm) {
        (alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmName = `${this.alarmNamePrefix}${this.endpointName}-${this.variantName}-${id}-${side === 'LowerAlarm' ? 'lower' : 'upper'}`;
      }
    }
  }

  /** Sets the range (and so the capacity) on a schedule. */
  public scaleOnSchedule(id: string, props: appscaling.ScalingSchedule): void {
    this.doScaleOnSchedule(id, props);
  }

  private requireInstances(method: string): void {
    if (this.dimension !== 'sagemaker:variant:DesiredInstanceCount') {
      throw new Error(`${method} is for instance variants, and variant ${this.variantName} is serverless: use scaleOnProvisionedConcurrencyUtilization`);
    }
  }
}

/** `<stack name>-scaling-`: the names of step-scaling alarms the library names (and may update). @internal */
export function scalingAlarmPrefixOf(stackPrefix: string): string {
  return stackPrefix.replace(/-rollout-$/, '-scaling-');
}
