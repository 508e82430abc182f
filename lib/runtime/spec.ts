/**
 * The contract between the constructs (deploy time) and the controller (run time): what a deployment
 * tells the controller about an endpoint. Plain data, no CDK or SDK imports, so that both sides
 * (and the CLI) share it.
 */

/** `source` of every EventBridge event this library puts. */
export const ROLLOUT_EVENT_SOURCE = 'cdk-sagemaker-rollout';

/**
 * The `detail-type` of every EventBridge event this library puts. Here, below both the constructs
 * (`RolloutEvents` publishes them) and the controller (which puts them), so no arrow points up.
 */
export const ROLLOUT_EVENT_TYPES = {
  CANARY_ROLLED_BACK: 'Canary Rolled Back',
  CANARY_ROLLBACK_REAPPLIED: 'Canary Rollback Reapplied',
  CANARY_ROLLBACK_FAILED: 'Canary Rollback Failed',
  CANARY_STEP: 'Canary Step',
  CANARY_AWAITING_APPROVAL: 'Canary Awaiting Approval',
  CANARY_PROMOTED: 'Canary Promoted',
  CANARY_PAUSED: 'Canary Paused',
  CANARY_RESUMED: 'Canary Resumed',
  SHADOW_ALARM: 'Shadow Alarm',
  DEPLOYMENT_ROLLED_BACK_BY_SAGEMAKER: 'Deployment Rolled Back By SageMaker',
  ENDPOINT_REVERTED: 'Endpoint Reverted',
  LEFTOVERS_DELETED: 'Leftovers Deleted',
} as const;

/** One of `ROLLOUT_EVENT_TYPES`. */
export type RolloutEventType = (typeof ROLLOUT_EVENT_TYPES)[keyof typeof ROLLOUT_EVENT_TYPES];

/** Tag on every model, endpoint config and endpoint this library creates: the CLI and cleanup look for it. */
export const MANAGED_BY_TAG_KEY = 'cdk-sagemaker-rollout:managed-by';

/** Tag on a managed endpoint that names the stack's state table: the CLI finds the rollout through it. */
export const STATE_TABLE_TAG = 'cdk-sagemaker-rollout:state-table';

/** A promotion schedule, in the units the controller uses. */
export interface PromotionSpec {
  /** Percent of traffic for the candidate at each step; the first is where the rollout starts, the last is 100. */
  readonly steps: number[];
  /** Seconds each step lasts at least. */
  readonly intervalSeconds: number;
  /** Requests the candidate must serve during a step before the next step. */
  readonly minInvocations: number;
  /** A step (percent) that waits for a person. */
  readonly approvalAt?: number;
}

/** What the controller watches on a canary or shadow endpoint. */
export interface RolloutSpec {
  readonly kind: 'canary' | 'shadow';
  readonly productionVariant: string;
  readonly candidateVariant: string;
  /** The candidate's model name: a different model starts a fresh rollout. */
  readonly candidateModelName: string;
  /** Where the candidate's model is defined in the CDK app, for "make it production" advice. */
  readonly candidateModelPath: string;
  /** Canary: percent of traffic at first. Shadow: sampling percent. */
  readonly initialPercent: number;
  readonly promotion?: PromotionSpec;
  /** The candidate's alarms (a canary's rollback alarms, or a shadow's notifying alarms). */
  readonly alarmNames: string[];
  /** SNS topic for announcements. */
  readonly topicArn?: string;
  /** The candidate's autoscaling, when it scales: a rollback scales it to its minimum. */
  readonly candidateScaling?: CandidateScalingSpec;
}

/** A rollout as the table stores it: the spec and the deployment that registered it. */
export interface RegisteredRollout extends RolloutSpec {
  /** The endpoint config the registering deployment put in place. */
  readonly endpointConfigName: string;
  readonly registeredAt: string;
}

/** The custom resource's `Spec` property. */
export interface DeploymentSpec {
  readonly endpointName: string;
  /** The endpoint config this deployment put in place. */
  readonly endpointConfigName: string;
  /** Whether to fail the deployment when the endpoint does not run `endpointConfigName` afterwards. */
  readonly verify: boolean;
  /**
   * The production variants of `endpointConfigName`. Adding or removing a candidate changes them, an
   * update SageMaker's guardrails may not guard (undocumented): the check confirms the endpoint
   * serves exactly these. Absent in specs of older versions: not checked then.
   */
  readonly variantNames?: string[];
  /** The endpoint's rollback alarms, named in the failure message when in ALARM. */
  readonly rollbackAlarmNames: string[];
  /** The canary or shadow to register, if any. */
  readonly rollout?: RolloutSpec;
  /** SNS topic told when SageMaker rolled a deployment back on its own. */
  readonly topicArn?: string;
  /**
   * The model of each variant of `endpointConfigName`, recorded with the deployment (issue 16).
   * The constructs leave it out (the stack's revert guard stores them before the update, which
   * keeps the template small); tests and older specs may give it.
   */
  readonly models?: VariantModel[];
  /** The endpoint's scaled variants: registered again after an instance-type change took scaling off. */
  readonly scaling?: ScalingGuardSpec;
}

/** A variant of an endpoint config and the model it runs. */
export interface VariantModel {
  readonly variant: string;
  readonly model: string;
}

/** `ResourceType` of the stack's revert guard, which runs before any endpoint of the stack is updated. */
export const REVERT_GUARD_RESOURCE_TYPE = 'Custom::SageMakerRolloutRevertGuard';

/** One endpoint as the revert guard sees it: what this deployment would put on the endpoint. */
export interface RevertGuardEntry {
  readonly endpointName: string;
  readonly endpointConfigName: string;
  readonly models: VariantModel[];
  /**
   * A fingerprint of the endpoint's deployment settings: when they change, CloudFormation updates
   * the endpoint (UpdateEndpoint with the template's config) even without a new config.
   */
  readonly deployment?: string;
  /** The id of a revert the code acknowledges (`acknowledgeRevert`). */
  readonly acknowledgeRevert?: string;
}

/** The shape of a revert id (`revert-20261130T041233Z`), checked at synthesis (`acknowledgeRevert`). */
export const REVERT_ID_PATTERN = /^revert-\d{8}T\d{6}Z$/;

/** The revert guard's `Spec` property. */
export interface RevertGuardSpec {
  readonly endpoints: RevertGuardEntry[];
}

/**
 * One variant's Application Auto Scaling, as the template defines it: what the controller
 * registers again after it had to take scaling off for an instance-type change. The policies and
 * scheduled actions are in the Application Auto Scaling API's own shapes (PutScalingPolicy,
 * PutScheduledAction), without the target's identity, which is `resourceId` and `dimension`.
 */
export interface VariantScalingSpec {
  readonly variantName: string;
  /** `endpoint/<endpoint name>/variant/<variant name>`. */
  readonly resourceId: string;
  /** `sagemaker:variant:DesiredInstanceCount` or `sagemaker:variant:DesiredProvisionedConcurrency`. */
  readonly dimension: string;
  /** The instance type the template gives the variant (absent for serverless variants). */
  readonly instanceType?: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly policies: Record<string, unknown>[];
  readonly scheduledActions: Record<string, unknown>[];
  /**
   * Alarms that invoke a step-scaling policy, by policy name: re-creating a deleted policy gives it
   * a new ARN, so these alarms' actions are pointed at it again.
   */
  readonly stepAlarms: Record<string, string[]>;
}

/** The scaling guard's `Spec` property (Custom::SageMakerRolloutScalingGuard). */
export interface ScalingGuardSpec {
  readonly endpointName: string;
  /** Every variant of the config this deployment puts in place: name -> instance type ('serverless' for serverless variants). */
  readonly configVariants: Record<string, string>;
  /** The variants that scale. */
  readonly variants: VariantScalingSpec[];
}

/** A canary candidate's scaling range, which a rollback narrows to its minimum and `resume` restores. */
export interface CandidateScalingSpec {
  readonly resourceId: string;
  readonly dimension: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
}
