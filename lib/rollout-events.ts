import { ROLLOUT_EVENT_SOURCE, ROLLOUT_EVENT_TYPES } from './runtime/spec';

/**
 * The EventBridge events this library puts on the account's default bus, for your own rules:
 *
 *   new events.Rule(this, 'Rollbacks', { eventPattern: {
 *     source: [RolloutEvents.SOURCE], detailType: [RolloutEvents.CANARY_ROLLED_BACK] } });
 *
 * Every event's detail has `endpointName` and `summary`; the README shows a full example.
 */
export class RolloutEvents {
  /** `source` of every event. */
  public static readonly SOURCE: string = ROLLOUT_EVENT_SOURCE;
  /** An alarm (or a person) sent a canary's traffic back to production. */
  public static readonly CANARY_ROLLED_BACK: string = ROLLOUT_EVENT_TYPES.CANARY_ROLLED_BACK;
  /** A deployment reset a rolled-back canary's weights and the controller set them back to 0 %. */
  public static readonly CANARY_ROLLBACK_REAPPLIED: string = ROLLOUT_EVENT_TYPES.CANARY_ROLLBACK_REAPPLIED;
  /** A rollback could not be made before its deadline: a person must act. */
  public static readonly CANARY_ROLLBACK_FAILED: string = ROLLOUT_EVENT_TYPES.CANARY_ROLLBACK_FAILED;
  /** A promotion step moved the canary's traffic. */
  public static readonly CANARY_STEP: string = ROLLOUT_EVENT_TYPES.CANARY_STEP;
  /** A canary reached a manual gate and waits for `promote`. */
  public static readonly CANARY_AWAITING_APPROVAL: string = ROLLOUT_EVENT_TYPES.CANARY_AWAITING_APPROVAL;
  /** A canary reached 100 %: make it the production model in code. */
  public static readonly CANARY_PROMOTED: string = ROLLOUT_EVENT_TYPES.CANARY_PROMOTED;
  /** A person paused a canary's promotion. */
  public static readonly CANARY_PAUSED: string = ROLLOUT_EVENT_TYPES.CANARY_PAUSED;
  /** A person resumed a canary's promotion. */
  public static readonly CANARY_RESUMED: string = ROLLOUT_EVENT_TYPES.CANARY_RESUMED;
  /** An alarm of a shadow variant went to ALARM (production traffic is not touched). */
  public static readonly SHADOW_ALARM: string = ROLLOUT_EVENT_TYPES.SHADOW_ALARM;
  /** SageMaker rolled a deployment back on its own; the deployment was failed. */
  public static readonly DEPLOYMENT_ROLLED_BACK_BY_SAGEMAKER: string = ROLLOUT_EVENT_TYPES.DEPLOYMENT_ROLLED_BACK_BY_SAGEMAKER;
  /** A person sent an endpoint back to its previous recorded config (`revert`); the detail says who. */
  public static readonly ENDPOINT_REVERTED: string = ROLLOUT_EVENT_TYPES.ENDPOINT_REVERTED;
  /** A person deleted kept endpoint configs and models that nothing used (`cleanup --delete`); the detail says who. */
  public static readonly LEFTOVERS_DELETED: string = ROLLOUT_EVENT_TYPES.LEFTOVERS_DELETED;

  private constructor() {}
}
