import { ROLLOUT_EVENT_SOURCE } from './runtime/spec';

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
  public static readonly SOURCE = ROLLOUT_EVENT_SOURCE;
  /** An alarm (or a person) sent a canary's traffic back to production. */
  public static readonly CANARY_ROLLED_BACK = 'Canary Rolled Back';
  /** A deployment reset a rolled-back canary's weights and the controller set them back to 0 %. */
  public static readonly CANARY_ROLLBACK_REAPPLIED = 'Canary Rollback Reapplied';
  /** A rollback could not be made before its deadline: a person must act. */
  public static readonly CANARY_ROLLBACK_FAILED = 'Canary Rollback Failed';
  /** A promotion step moved the canary's traffic. */
  public static readonly CANARY_STEP = 'Canary Step';
  /** A canary reached a manual gate and waits for `promote`. */
  public static readonly CANARY_AWAITING_APPROVAL = 'Canary Awaiting Approval';
  /** A canary reached 100 %: make it the production model in code. */
  public static readonly CANARY_PROMOTED = 'Canary Promoted';
  /** A person paused a canary's promotion. */
  public static readonly CANARY_PAUSED = 'Canary Paused';
  /** A person resumed a canary's promotion. */
  public static readonly CANARY_RESUMED = 'Canary Resumed';
  /** An alarm of a shadow variant went to ALARM (production traffic is not touched). */
  public static readonly SHADOW_ALARM = 'Shadow Alarm';
  /** SageMaker rolled a deployment back on its own; the deployment was failed. */
  public static readonly DEPLOYMENT_ROLLED_BACK_BY_SAGEMAKER = 'Deployment Rolled Back By SageMaker';
  /** A person sent an endpoint back to its previous recorded config (`revert`); the detail says who. */
  public static readonly ENDPOINT_REVERTED = 'Endpoint Reverted';
  /** A person deleted kept endpoint configs and models that nothing used (`cleanup --delete`); the detail says who. */
  public static readonly LEFTOVERS_DELETED = 'Leftovers Deleted';

  private constructor() {}
}
