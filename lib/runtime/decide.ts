import { RolloutSpec } from './spec';
import { RolloutState } from './state';

/**
 * The controller's decisions, as pure functions of what it observed: no I/O here, so every rule
 * is testable on its own and the order of the rules is visible in one place.
 */

/** What the controller saw when it decided. */
export interface Observation {
  readonly now: Date;
  /** State of each of the candidate's alarms (OK, ALARM, INSUFFICIENT_DATA). */
  readonly alarmStates: Record<string, string>;
  /** Requests the candidate served since the current step started; undefined when not read. */
  readonly invocationsInStep?: number;
}

export type StepDecision =
  | { readonly kind: 'rollback'; readonly alarmName: string; readonly reason: string }
  | { readonly kind: 'wait'; readonly reason: string; readonly needsInvocations?: boolean }
  | { readonly kind: 'await-approval'; readonly reason: string }
  | { readonly kind: 'advance'; readonly toStepIndex: number; readonly toPercent: number; readonly reason: string };

/** The alarms in ALARM, in a stable order. */
export function alarmsFiring(alarmStates: Record<string, string>): string[] {
  return Object.entries(alarmStates).filter(([, state]) => state === 'ALARM').map(([name]) => name).sort();
}

/**
 * The next move of a canary rollout. The order is the policy: an alarm wins over everything, a
 * person's pause or gate over the schedule, and a step moves only when it is due and the candidate
 * has served enough requests to be judged.
 */
export function decideStep(spec: RolloutSpec, state: RolloutState, seen: Observation): StepDecision {
  if (state.status === 'rolled-back') {
    return { kind: 'wait', reason: `rolled back at ${state.rollback?.at ?? 'an earlier time'} (${state.rollback?.reason ?? 'no reason recorded'}); waiting for a person` };
  }
  if (state.status === 'promoted') {
    return { kind: 'wait', reason: 'promoted to 100%: make the candidate the production model in code' };
  }
  const firing = alarmsFiring(seen.alarmStates);
  if (firing.length > 0) {
    return { kind: 'rollback', alarmName: firing[0], reason: `alarm ${firing.join(', ')} in ALARM` };
  }
  if (state.status === 'paused') {
    return { kind: 'wait', reason: `paused${state.pausedBy ? ` by ${state.pausedBy}` : ''}` };
  }
  if (state.status === 'awaiting-approval') {
    return { kind: 'wait', reason: `waiting at ${state.percent}% for a person to promote` };
  }
  const promotion = spec.promotion;
  if (!promotion) {
    return { kind: 'wait', reason: `holding at ${state.percent}% (no promotion schedule)` };
  }
  const nextIndex = state.stepIndex + 1;
  if (nextIndex >= promotion.steps.length) {
    return { kind: 'wait', reason: `at the last step (${state.percent}%)` };
  }
  const dueAt = new Date(Date.parse(state.stepStartedAt) + promotion.intervalSeconds * 1000);
  if (seen.now < dueAt) {
    return { kind: 'wait', reason: `step ${state.stepIndex + 1} of ${promotion.steps.length} at ${state.percent}% until ${dueAt.toISOString()}` };
  }
  if (seen.invocationsInStep === undefined) {
    return { kind: 'wait', reason: 'step is due: reading the candidate\'s requests', needsInvocations: true };
  }
  if (seen.invocationsInStep < promotion.minInvocations) {
    return { kind: 'wait', reason: `the candidate served ${seen.invocationsInStep} of the ${promotion.minInvocations} requests a step needs` };
  }
  if (promotion.approvalAt === state.percent) {
    return { kind: 'await-approval', reason: `manual gate at ${state.percent}%: run "promote" to go on to ${promotion.steps[nextIndex]}%` };
  }
  return {
    kind: 'advance',
    toStepIndex: nextIndex,
    toPercent: promotion.steps[nextIndex],
    reason: `step due, all alarms OK, ${seen.invocationsInStep} requests served (at least ${promotion.minInvocations})`,
  };
}

/** The state a rollout starts in, for a newly registered candidate. */
export function freshState(endpointName: string, spec: RolloutSpec, now: Date): RolloutState {
  const at = now.toISOString();
  return {
    endpointName,
    kind: spec.kind,
    candidateModelName: spec.candidateModelName,
    status: 'active',
    stepIndex: 0,
    percent: spec.kind === 'canary' ? spec.initialPercent : 0,
    stepStartedAt: at,
    startedAt: at,
    updatedAt: at,
  };
}

/**
 * The state after a re-registration of the same candidate (a later deployment): the rollout keeps
 * where it stands (a rollback stays a rollback), and its step is re-read against the new schedule.
 */
export function carriedOverState(previous: RolloutState, spec: RolloutSpec, now: Date): RolloutState {
  const steps = spec.promotion?.steps ?? [previous.percent];
  let stepIndex = 0;
  steps.forEach((step, i) => { if (step <= previous.percent) stepIndex = i; });
  return { ...previous, stepIndex, updatedAt: now.toISOString() };
}

/**
 * Where `promote --to` leads: the step index of the highest schedule step at or below the target,
 * so the schedule carries on from there.
 */
export function stepIndexFor(spec: RolloutSpec, percent: number): number {
  const steps = spec.promotion?.steps ?? [];
  let index = 0;
  steps.forEach((step, i) => { if (step <= percent) index = i; });
  return index;
}

/** The next target of a manual promote: the next step, or 100 % without a schedule. */
export function nextPromotionTarget(spec: RolloutSpec, state: RolloutState): number {
  const steps = spec.promotion?.steps;
  if (!steps) return 100;
  const next = steps.find((step) => step > state.percent);
  return next ?? 100;
}

/** Weights for a candidate share: percentages, so the share is exact. */
export function weightsFor(spec: RolloutSpec, candidatePercent: number): { variantName: string; weight: number }[] {
  return [
    { variantName: spec.productionVariant, weight: 100 - candidatePercent },
    { variantName: spec.candidateVariant, weight: candidatePercent },
  ];
}

/** The candidate's share of the live weights, in percent (0 when the endpoint reports no weights). */
export function candidatePercentOf(weights: Record<string, number | undefined>, spec: RolloutSpec): number {
  const candidate = weights[spec.candidateVariant] ?? 0;
  const total = Object.values(weights).reduce<number>((sum, w) => sum + (w ?? 0), 0);
  return total > 0 ? Math.round((candidate / total) * 10000) / 100 : 0;
}
