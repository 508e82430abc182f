/**
 * The runtime state of a rollout, as stored in the stack's DynamoDB table, and the records of what
 * the controller decided. Plain data shared by the controller and the CLI.
 */

/** Where a rollout stands. */
export type RolloutStatus =
  /** Serving at `percent`; moves to the next step when it is due (with a promotion schedule). */
  | 'active'
  /** A person paused it: no step until resumed. Alarms still roll it back. */
  | 'paused'
  /** At a manual gate: waits for `promote`. Alarms still roll it back. */
  | 'awaiting-approval'
  /** An alarm or a person rolled it back: the candidate stays at 0 % until a person acts. */
  | 'rolled-back'
  /** At 100 %: make the candidate the production model in code. */
  | 'promoted';

/** A weight change written before it is made, so a crash between the two never skips, repeats or reverses a step. */
export interface PendingChange {
  readonly targetPercent: number;
  /** The step index the change completes, for promotions. */
  readonly targetStepIndex: number;
  readonly reason: string;
  readonly since: string;
}

/** Why and when a rollout was rolled back. */
export interface RollbackRecord {
  readonly at: string;
  readonly reason: string;
  readonly by: 'alarm' | 'operator';
  readonly alarmName?: string;
  /** Candidate percent before the rollback. */
  readonly percentBefore: number;
  /** The candidate's instance count before the rollback, which `resume` gives back to a scaled candidate. */
  readonly instanceCountBefore?: number;
  /** Whether the rollback has been announced (SNS and EventBridge). */
  readonly announced: boolean;
}

/** The state of one endpoint's rollout. */
export interface RolloutState {
  readonly endpointName: string;
  readonly kind: 'canary' | 'shadow';
  /** The candidate model this state belongs to: a different model starts a fresh state. */
  readonly candidateModelName: string;
  readonly status: RolloutStatus;
  /** Index into the promotion steps (0 without a schedule). */
  readonly stepIndex: number;
  /** The candidate's percent of traffic the runtime holds it at (0 when rolled back). */
  readonly percent: number;
  readonly stepStartedAt: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly pending?: PendingChange;
  readonly rollback?: RollbackRecord;
  /** Who paused it and why. */
  readonly pausedBy?: string;
  /** Whether reaching 100 % has been announced. */
  readonly promotedAnnounced?: boolean;
}

/** One decision of the controller or an operator, kept for the audit trail. */
export interface HistoryEntry {
  readonly at: string;
  readonly action: string;
  readonly by: string;
  readonly reason: string;
  readonly stepIndex?: number;
  readonly percentBefore?: number;
  readonly percentAfter?: number;
  readonly alarmStates?: Record<string, string>;
  readonly invocations?: number;
}

/** The percent the live endpoint should show for this state. */
export function desiredPercent(state: RolloutState): number {
  return state.status === 'rolled-back' ? 0 : state.percent;
}
