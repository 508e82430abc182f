import { Duration, Token } from 'aws-cdk-lib';
import { InstanceType } from '../instance-type';
import { validateWholeNumber } from '../private/validation';

/**
 * Autoscaling of an instance-based variant through Application Auto Scaling: the variant's
 * instance count moves between `minInstanceCount` and `maxInstanceCount`.
 *
 * Once a variant scales, its instance count belongs to Application Auto Scaling: deployments keep
 * the scaled size (they never reset it to `instanceCount`), and an instance-type change takes
 * scaling off and puts it back around SageMaker's update (README, "Autoscaling").
 */
export interface VariantAutoScalingOptions {
  /** Fewest instances (1 or more). */
  readonly minInstanceCount: number;
  /** Most instances (at least `minInstanceCount`). */
  readonly maxInstanceCount: number;
  /**
   * Target tracking on `SageMakerVariantInvocationsPerInstance`: requests per instance per minute
   * the variant is kept at. Take it from a load test: the number of requests per minute one
   * instance serves within its latency budget, with a safety margin.
   * @default - no policy (a canary candidate tracks production's target when production has one):
   *            the variant gets its scalable target only; add policies through
   *            `endpoint.scalableInstanceCount(variantName)`
   */
  readonly targetInvocationsPerInstance?: number;
  /**
   * Time after a scale-in before the next scale-in.
   * @default - Application Auto Scaling's default for SageMaker variants (300 seconds)
   */
  readonly scaleInCooldown?: Duration;
  /**
   * Time after a scale-out before the next scale-out.
   * @default - Application Auto Scaling's default for SageMaker variants (300 seconds)
   */
  readonly scaleOutCooldown?: Duration;
}

/**
 * Autoscaling of a serverless variant's provisioned concurrency (the only capacity of a
 * serverless variant that Application Auto Scaling scales).
 */
export interface ProvisionedConcurrencyScalingOptions {
  /** Least provisioned concurrency (1 or more). */
  readonly minProvisionedConcurrency: number;
  /** Most provisioned concurrency (at most the variant's `maxConcurrency`). */
  readonly maxProvisionedConcurrency: number;
  /**
   * Target tracking on `SageMakerVariantProvisionedConcurrencyUtilization`, in percent (1-100)
   * of the provisioned concurrency in use.
   * @default - no policy: add your own through `endpoint.scalableProvisionedConcurrency(variantName)`
   */
  readonly targetUtilizationPercent?: number;
  /**
   * Time after a scale-in before the next scale-in.
   * @default - Application Auto Scaling's default
   */
  readonly scaleInCooldown?: Duration;
  /**
   * Time after a scale-out before the next scale-out.
   * @default - Application Auto Scaling's default
   */
  readonly scaleOutCooldown?: Duration;
}

/** Application Auto Scaling's scalable dimensions of a SageMaker variant. @internal */
export const INSTANCE_COUNT_DIMENSION = 'sagemaker:variant:DesiredInstanceCount';
/** @internal */
export const PROVISIONED_CONCURRENCY_DIMENSION = 'sagemaker:variant:DesiredProvisionedConcurrency';

/**
 * Cooldowns are whole seconds (the API's `Cooldown` is an integer). The API model gives no upper
 * bound; one year keeps an obvious mistake (a Duration in the wrong unit) from reaching AWS.
 */
const MAX_COOLDOWN_SECONDS = 365 * 24 * 3600;

/** A cooldown in whole seconds, or undefined. @internal */
export function cooldownSeconds(prop: string, value: Duration | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value.isUnresolved()) return value.toSeconds();
  const seconds = value.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_COOLDOWN_SECONDS) {
    throw new Error(`${prop} must be a whole number of seconds between 0 and ${MAX_COOLDOWN_SECONDS} (365 days), got ${seconds} seconds`);
  }
  return seconds;
}

/** A target value above 0. @internal */
export function validatePositive(prop: string, value: number | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${prop} must be greater than 0, got ${value}`);
  }
}

/**
 * The checks of an instance variant's autoscaling, with the initial count it starts at (which
 * must lie in the range). `prefix` names the variant's options: `production` or `candidate`.
 * @internal
 */
export function validateInstanceScaling(prefix: string, scaling: VariantAutoScalingOptions, instanceType: InstanceType | undefined, instanceCount: number | undefined): void {
  const p = `${prefix}.autoScaling`;
  validateWholeNumber(`${p}.minInstanceCount`, scaling.minInstanceCount, 1);
  validateWholeNumber(`${p}.maxInstanceCount`, scaling.maxInstanceCount, 1);
  const { minInstanceCount: min, maxInstanceCount: max } = scaling;
  if (!Token.isUnresolved(min) && !Token.isUnresolved(max) && max < min) {
    throw new Error(`${p}.maxInstanceCount must be at least minInstanceCount (${min}), got ${max}`);
  }
  if (instanceCount !== undefined && !Token.isUnresolved(instanceCount) && !Token.isUnresolved(min) && !Token.isUnresolved(max)
    && (instanceCount < min || instanceCount > max)) {
    throw new Error(`${prefix}.instanceCount must be between ${p}.minInstanceCount (${min}) and ${p}.maxInstanceCount (${max}), got ${instanceCount}`);
  }
  const type = instanceType?.toString();
  if (type !== undefined && !Token.isUnresolved(type) && type.startsWith('ml.t')) {
    throw new Error(`${p} is not available on burstable instance types, got ${type}: SageMaker does not scale ml.t* instances; choose another instanceType or remove autoScaling`);
  }
  validatePositive(`${p}.targetInvocationsPerInstance`, scaling.targetInvocationsPerInstance);
  cooldownSeconds(`${p}.scaleInCooldown`, scaling.scaleInCooldown);
  cooldownSeconds(`${p}.scaleOutCooldown`, scaling.scaleOutCooldown);
}

/**
 * The checks of a serverless variant's provisioned-concurrency scaling. Application Auto Scaling
 * scales only the provisioned concurrency of a serverless variant, so one without it is refused.
 * @internal
 */
export function validateProvisionedConcurrencyScaling(prefix: string, scaling: ProvisionedConcurrencyScalingOptions,
  provisionedConcurrency: number | undefined, maxConcurrency: number): void {
  const p = `${prefix}.autoScaling`;
  if (provisionedConcurrency === undefined) {
    throw new Error(`${p} needs ${prefix}.provisionedConcurrency: Application Auto Scaling scales only the provisioned concurrency of a serverless variant, and this one has none`);
  }
  validateWholeNumber(`${p}.minProvisionedConcurrency`, scaling.minProvisionedConcurrency, 1, 200);
  validateWholeNumber(`${p}.maxProvisionedConcurrency`, scaling.maxProvisionedConcurrency, 1, 200);
  const { minProvisionedConcurrency: min, maxProvisionedConcurrency: max } = scaling;
  if ([min, max, provisionedConcurrency, maxConcurrency].some((v) => Token.isUnresolved(v))) return;
  if (max < min) {
    throw new Error(`${p}.maxProvisionedConcurrency must be at least minProvisionedConcurrency (${min}), got ${max}`);
  }
  if (max > maxConcurrency) {
    throw new Error(`${p}.maxProvisionedConcurrency must be at most ${prefix}.maxConcurrency (${maxConcurrency}), got ${max}`);
  }
  if (provisionedConcurrency < min || provisionedConcurrency > max) {
    throw new Error(`${prefix}.provisionedConcurrency must be between ${p}.minProvisionedConcurrency (${min}) and ${p}.maxProvisionedConcurrency (${max}), got ${provisionedConcurrency}`);
  }
  if (scaling.targetUtilizationPercent !== undefined && !Token.isUnresolved(scaling.targetUtilizationPercent)
    && (!(scaling.targetUtilizationPercent > 0) || scaling.targetUtilizationPercent > 100)) {
    throw new Error(`${p}.targetUtilizationPercent must be greater than 0 and at most 100, got ${scaling.targetUtilizationPercent}`);
  }
  cooldownSeconds(`${p}.scaleInCooldown`, scaling.scaleInCooldown);
  cooldownSeconds(`${p}.scaleOutCooldown`, scaling.scaleOutCooldown);
}
