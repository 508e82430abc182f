import { Token } from 'aws-cdk-lib';

/**
 * The instance type of a SageMaker production variant.
 *
 * Constants cover common types; `InstanceType.of(name)` takes any other. SageMaker's list changes
 * over time, so only the `ml.` prefix is checked here (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html).
 */
export class InstanceType {
  /** ml.t2.medium: burstable, for development endpoints. */
  public static readonly ML_T2_MEDIUM = InstanceType.of('ml.t2.medium');
  /** ml.m5.large: general purpose, 2 vCPU, 8 GiB. */
  public static readonly ML_M5_LARGE = InstanceType.of('ml.m5.large');
  /** ml.m5.xlarge: general purpose, 4 vCPU, 16 GiB. */
  public static readonly ML_M5_XLARGE = InstanceType.of('ml.m5.xlarge');
  /** ml.m5.2xlarge: general purpose, 8 vCPU, 32 GiB. */
  public static readonly ML_M5_2XLARGE = InstanceType.of('ml.m5.2xlarge');
  /** ml.m5.4xlarge: general purpose, 16 vCPU, 64 GiB. */
  public static readonly ML_M5_4XLARGE = InstanceType.of('ml.m5.4xlarge');
  /** ml.m6i.large: general purpose, 2 vCPU, 8 GiB. */
  public static readonly ML_M6I_LARGE = InstanceType.of('ml.m6i.large');
  /** ml.m6i.xlarge: general purpose, 4 vCPU, 16 GiB. */
  public static readonly ML_M6I_XLARGE = InstanceType.of('ml.m6i.xlarge');
  /** ml.c5.large: compute optimised, 2 vCPU, 4 GiB. */
  public static readonly ML_C5_LARGE = InstanceType.of('ml.c5.large');
  /** ml.c5.xlarge: compute optimised, 4 vCPU, 8 GiB. */
  public static readonly ML_C5_XLARGE = InstanceType.of('ml.c5.xlarge');
  /** ml.c5.2xlarge: compute optimised, 8 vCPU, 16 GiB. */
  public static readonly ML_C5_2XLARGE = InstanceType.of('ml.c5.2xlarge');
  /** ml.c6i.xlarge: compute optimised, 4 vCPU, 8 GiB. */
  public static readonly ML_C6I_XLARGE = InstanceType.of('ml.c6i.xlarge');
  /** ml.r5.large: memory optimised, 2 vCPU, 16 GiB. */
  public static readonly ML_R5_LARGE = InstanceType.of('ml.r5.large');
  /** ml.r5.xlarge: memory optimised, 4 vCPU, 32 GiB. */
  public static readonly ML_R5_XLARGE = InstanceType.of('ml.r5.xlarge');
  /** ml.g4dn.xlarge: one NVIDIA T4 GPU. */
  public static readonly ML_G4DN_XLARGE = InstanceType.of('ml.g4dn.xlarge');
  /** ml.g5.xlarge: one NVIDIA A10G GPU. */
  public static readonly ML_G5_XLARGE = InstanceType.of('ml.g5.xlarge');
  /** ml.g5.2xlarge: one NVIDIA A10G GPU, more CPU and memory. */
  public static readonly ML_G5_2XLARGE = InstanceType.of('ml.g5.2xlarge');
  /** ml.g6.xlarge: one NVIDIA L4 GPU. */
  public static readonly ML_G6_XLARGE = InstanceType.of('ml.g6.xlarge');
  /** ml.p3.2xlarge: one NVIDIA V100 GPU. */
  public static readonly ML_P3_2XLARGE = InstanceType.of('ml.p3.2xlarge');
  /** ml.inf1.xlarge: AWS Inferentia 1. Deployment guardrails do not support Inf1 (a warning says so). */
  public static readonly ML_INF1_XLARGE = InstanceType.of('ml.inf1.xlarge');
  /** ml.inf2.xlarge: AWS Inferentia 2. */
  public static readonly ML_INF2_XLARGE = InstanceType.of('ml.inf2.xlarge');

  /**
   * Any SageMaker instance type by name, for example `ml.m5.xlarge`.
   * The name must start with `ml.`.
   */
  public static of(name: string): InstanceType {
    if (!Token.isUnresolved(name) && !/^ml\.[a-z0-9-]+\.[a-z0-9-]+$/.test(name)) {
      throw new Error(`instanceType must be a SageMaker instance type starting with "ml." (for example ml.m5.xlarge), got "${name}"`);
    }
    return new InstanceType(name);
  }

  private constructor(private readonly name: string) {}

  /**
   * True for Inferentia 1 (ml.inf1.*) instances, which deployment guardrails do not support:
   * SageMaker silently falls back to all-at-once without a bake
   * (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html).
   */
  public get isInferentia1(): boolean {
    return !Token.isUnresolved(this.name) && this.name.startsWith('ml.inf1.');
  }

  /** The instance type's name, as SageMaker takes it. */
  public toString(): string {
    return this.name;
  }
}
