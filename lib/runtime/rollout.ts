import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { announce, AnnounceDeps } from './announce';
import { candidateInstanceCount, regrowCandidate, shrinkRolledBackCandidate, syncCandidateScaling } from './canary-scaling';
import {
  alarmsFiring, candidatePercentOf, carriedOverState, decideStep, freshState, nextPromotionTarget, StepDecision, stepIndexFor, weightsFor,
} from './decide';
import { describeEndpoint, EndpointView, liveWeights, modelOfVariant, setWeights } from './endpoint-ops';
import { DeadlineExceededError, withRetry } from './retry';
import { alarmStates, invocationsBetween } from './signals';
import { RegisteredRollout, RolloutSpec } from './spec';
import { desiredPercent, HistoryEntry, RolloutState } from './state';
import { StateStore, Versioned, VersionConflictError } from './state-store';

/**
 * What the controller does with an endpoint's rollout: roll back, step forward, re-apply, register.
 * Every function takes its clients and clock as arguments, so the Lambda handler, the CLI and the
 * tests run the same code against real services, an emulator or a fake clock.
 */
export interface RolloutDeps extends AnnounceDeps {
  readonly sagemaker: SageMakerClient;
  readonly cloudwatch: CloudWatchClient;
  readonly store: StateStore;
  /** Application Auto Scaling, for canaries whose candidate scales. */
  readonly autoscaling?: ApplicationAutoScalingClient;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: (message: string, data?: Record<string, unknown>) => void;
  /** First backoff delay of retried calls. @default 1000 */
  readonly retryBaseDelayMs?: number;
}

/** Who acts: 'controller' for automatic decisions, or an operator's identity. */
export type Actor = string;

/** A pending weight change older than this is no longer in flight: the function that wrote it is gone. */
export const PENDING_IN_FLIGHT_MS = 11 * 60 * 1000;

/** The rollout could not be found or does not allow the action; nothing was changed. */
export class RolloutError extends Error {
  constructor(message: string, public readonly code: 'not-managed' | 'not-allowed' | 'busy' | 'alarm') {
    super(message);
    this.name = 'RolloutError';
  }
}

/** The final deadline of a rollback passed; the rollback did not happen and a person must act. */
export class RollbackFailedError extends Error {
  constructor(message: string, public readonly cause: unknown) {
    super(message);
    this.name = 'RollbackFailedError';
  }
}

/** The invocation's time ran out before the final deadline: let the event be delivered again. */
export class RetryLaterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

/** When to stop retrying: the deadline of the whole action and the end of this invocation. */
export interface Deadlines {
  /** After this, give up for good (and say so). */
  readonly final: Date;
  /** After this, stop this attempt and let the caller retry later (a Lambda invocation ending). */
  readonly attempt?: Date;
}

export interface RollbackCause {
  readonly by: 'alarm' | 'operator';
  readonly actor: Actor;
  readonly reason: string;
  readonly alarmName?: string;
}

export type RollbackOutcome = 'rolled-back' | 'already-rolled-back';

async function loadCanary(deps: RolloutDeps, endpointName: string, knownSpec?: RegisteredRollout): Promise<{ spec: RegisteredRollout; state: Versioned<RolloutState> }> {
  const spec = knownSpec ?? await deps.store.getSpec(endpointName);
  if (!spec) {
    throw new RolloutError(`endpoint "${endpointName}" has no rollout registered in this stack's table: it is not managed here, or its candidate was removed`, 'not-managed');
  }
  const state = await deps.store.getState(endpointName);
  if (!state) {
    throw new RolloutError(`endpoint "${endpointName}" has a registered rollout but no state yet: its deployment is still finishing; try again in a minute`, 'busy');
  }
  return { spec, state };
}

/**
 * Writes a state change that must win (a rollback): on a version conflict it re-reads and applies
 * the change again to whatever is there now.
 */
async function writeWinning(deps: RolloutDeps, endpointName: string, read: Versioned<RolloutState>,
  change: (current: RolloutState) => RolloutState): Promise<{ state: RolloutState; version: number }> {
  let current = read;
  for (let attempt = 1; ; attempt++) {
    const next = change(current.value);
    try {
      return { state: next, version: await deps.store.putState(next, current.version) };
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 10) throw error;
      const again = await deps.store.getState(endpointName);
      if (!again) throw error;
      current = again;
    }
  }
}

function retryOptions(deps: RolloutDeps, deadlines: Deadlines) {
  const attempt = deadlines.attempt && deadlines.attempt < deadlines.final ? deadlines.attempt : deadlines.final;
  return {
    deadline: attempt,
    now: deps.now,
    sleep: deps.sleep,
    baseDelayMs: deps.retryBaseDelayMs,
    onRetry: (error: unknown, n: number, delayMs: number) => deps.log('retrying', { attempt: n, delayMs, error: (error as Error).message }),
  };
}

/** Sets the candidate's share, retrying a busy or throttled endpoint until the deadlines. */
async function setCandidatePercent(deps: RolloutDeps, spec: RolloutSpec, endpointName: string, percent: number, deadlines: Deadlines): Promise<void> {
  try {
    await withRetry(() => setWeights(deps.sagemaker, endpointName, weightsFor(spec, percent)), retryOptions(deps, deadlines));
  } catch (error) {
    // Out of time for this invocation but not for the action: let the event come again.
    const limitedByAttempt = deadlines.attempt !== undefined && deadlines.attempt < deadlines.final;
    if (error instanceof DeadlineExceededError && limitedByAttempt) throw new RetryLaterError(`${endpointName}: ${error.message}`);
    throw error;
  }
}

function entry(deps: RolloutDeps, e: Omit<HistoryEntry, 'at'>): HistoryEntry {
  return { at: deps.now().toISOString(), ...e };
}

/**
 * Rolls the canary back: candidate 0 %, production 100 %, and the rollout stays rolled back until a
 * person acts. The state is written first, so a promotion in flight loses; the weights follow; the
 * announcement last. A duplicate or late event changes nothing: one describe, no update.
 */
export async function rollBack(deps: RolloutDeps, endpointName: string, cause: RollbackCause, deadlines: Deadlines, knownSpec?: RegisteredRollout): Promise<RollbackOutcome> {
  const { spec, state: read } = await loadCanary(deps, endpointName, knownSpec);
  if (spec.kind !== 'canary') {
    throw new RolloutError(`endpoint "${endpointName}" has a shadow candidate, which never serves traffic: nothing to roll back`, 'not-allowed');
  }
  const endpoint = await describeEndpoint(deps.sagemaker, endpointName);
  const livePercent = candidatePercentOf(liveWeights(endpoint), spec);

  if (read.value.status === 'rolled-back' && livePercent === 0 && !read.value.pending) {
    deps.log('already rolled back: nothing to change', { endpointName });
    await shrinkRolledBackCandidate(deps, spec, endpointName);
    if (read.value.rollback && !read.value.rollback.announced) await announceRollback(deps, spec, endpointName, read.value, read.version);
    return 'already-rolled-back';
  }

  const now = deps.now().toISOString();
  const { state: rolledBack, version } = await writeWinning(deps, endpointName, read, (current) => ({
    ...current,
    status: 'rolled-back',
    // A rollback that is already standing keeps its first reason; this one only re-applies it.
    rollback: current.status === 'rolled-back' && current.rollback ? current.rollback : {
      at: now, reason: cause.reason, by: cause.by, alarmName: cause.alarmName, percentBefore: livePercent, announced: false,
      instanceCountBefore: candidateInstanceCount(endpoint, spec),
    },
    pending: { targetPercent: 0, targetStepIndex: current.stepIndex, reason: cause.reason, since: now },
    updatedAt: now,
  }));

  try {
    await setCandidatePercent(deps, spec, endpointName, 0, deadlines);
  } catch (error) {
    if (!(error instanceof RetryLaterError)) {
      const failure = new RollbackFailedError(`rolling back the canary of ${endpointName} failed: ${(error as Error).message}. The candidate still serves ${livePercent}% of traffic. `
        + `The rollback is recorded: the controller applies it as soon as the endpoint is back in service. To act now, run "npx cdk-sagemaker-rollout rollback ${endpointName}" or set the candidate's weight to 0 by hand.`, error);
      await deps.store.appendHistory(endpointName, entry(deps, { action: 'rollback-failed', by: cause.actor, reason: failure.message, percentBefore: livePercent }));
      await announce(deps, {
        type: 'Canary Rollback Failed', endpointName, topicArn: spec.topicArn,
        summary: `rollback FAILED, the candidate still serves ${livePercent}%`,
        message: failure.message,
        detail: { variants: variantsDetail(spec), alarmName: cause.alarmName, reason: cause.reason, error: (error as Error).message, time: deps.now().toISOString() },
      }).catch((e) => deps.log('announcing the failure failed too', { error: (e as Error).message }));
      throw failure;
    }
    throw error;
  }

  const finalVersion = await writeWinning(deps, endpointName, { value: rolledBack, version }, (current) => ({ ...current, pending: undefined, updatedAt: deps.now().toISOString() }));
  await deps.store.appendHistory(endpointName, entry(deps, {
    action: 'rollback', by: cause.actor, reason: cause.reason, stepIndex: rolledBack.stepIndex, percentBefore: livePercent, percentAfter: 0,
  }));
  // The traffic has moved; now the fleet that serves none of it shrinks (a scaled candidate only).
  await shrinkRolledBackCandidate(deps, spec, endpointName);
  await announceRollback(deps, spec, endpointName, finalVersion.state, finalVersion.version);
  return 'rolled-back';
}

function variantsDetail(spec: RolloutSpec) {
  return { production: spec.productionVariant, candidate: spec.candidateVariant, candidateModel: spec.candidateModelName };
}

async function announceRollback(deps: RolloutDeps, spec: RolloutSpec, endpointName: string, state: RolloutState, version: number): Promise<void> {
  const r = state.rollback!;
  await announce(deps, {
    type: 'Canary Rolled Back', endpointName, topicArn: spec.topicArn,
    summary: `canary rolled back from ${r.percentBefore}% to 0% (${r.alarmName ?? r.by})`,
    message: [
      `The canary of endpoint ${endpointName} was rolled back: variant ${spec.candidateVariant} (model ${spec.candidateModelName}) now gets 0% of traffic and ${spec.productionVariant} 100%.`,
      `Why: ${r.reason}.`,
      'It stays rolled back, also through later deployments, until a person acts:',
      `  npx cdk-sagemaker-rollout status ${endpointName}     (what happened, alarm states, history)`,
      `  npx cdk-sagemaker-rollout resume ${endpointName}     (try the same candidate again from its first step, once its alarms are OK)`,
      '  or deploy a different candidate model, or remove the candidate from the code.',
    ].join('\n'),
    detail: {
      variants: variantsDetail(spec),
      alarmName: r.alarmName ?? null,
      reason: r.reason,
      by: r.by,
      weightsBefore: { [spec.productionVariant]: 100 - r.percentBefore, [spec.candidateVariant]: r.percentBefore },
      weightsAfter: { [spec.productionVariant]: 100, [spec.candidateVariant]: 0 },
      time: r.at,
    },
  });
  await writeWinning(deps, endpointName, { value: state, version }, (current) => ({
    ...current, rollback: current.rollback ? { ...current.rollback, announced: true } : current.rollback,
  }));
}

/**
 * Moves the candidate to a new share: the change is written as pending first, then made, then
 * completed; so a crash anywhere leaves a record that the next run finishes instead of repeating
 * or skipping a step. A rollback that lands meanwhile wins: its weights are put back.
 */
async function changePercent(deps: RolloutDeps, spec: RegisteredRollout, read: Versioned<RolloutState>,
  change: { toPercent: number; toStepIndex: number; reason: string; action: string; by: Actor; alarmStates?: Record<string, string>; invocations?: number },
  deadlines: Deadlines): Promise<RolloutState> {
  const endpointName = read.value.endpointName;
  const now = deps.now().toISOString();
  const percentBefore = read.value.percent;
  let version: number;
  if (read.value.pending?.targetPercent === change.toPercent) {
    version = read.version; // finishing a change recorded earlier
  } else {
    version = await deps.store.putState({
      ...read.value,
      pending: { targetPercent: change.toPercent, targetStepIndex: change.toStepIndex, reason: change.reason, since: now },
      updatedAt: now,
    }, read.version);
  }

  await setCandidatePercent(deps, spec, endpointName, change.toPercent, deadlines);

  const current = await deps.store.getState(endpointName);
  if (!current || current.version !== version) {
    // Someone else wrote meanwhile. If it was a rollback, it wins: put its weights back.
    if (current?.value.status === 'rolled-back') {
      deps.log('a rollback landed during a promotion: restoring 0%', { endpointName });
      await setCandidatePercent(deps, spec, endpointName, 0, deadlines);
      return current.value;
    }
    throw new VersionConflictError(`the rollout state of ${endpointName}`);
  }
  const promoted = change.toPercent >= 100;
  const next: RolloutState = {
    ...current.value,
    status: promoted ? 'promoted' : (current.value.status === 'awaiting-approval' ? 'active' : current.value.status),
    percent: change.toPercent,
    stepIndex: change.toStepIndex,
    stepStartedAt: deps.now().toISOString(),
    pending: undefined,
    updatedAt: deps.now().toISOString(),
  };
  const finalVersion = await deps.store.putState(next, version);
  await deps.store.appendHistory(endpointName, entry(deps, {
    action: change.action, by: change.by, reason: change.reason, stepIndex: change.toStepIndex,
    percentBefore, percentAfter: change.toPercent, alarmStates: change.alarmStates, invocations: change.invocations,
  }));
  if (promoted) {
    await announce(deps, {
      type: 'Canary Promoted', endpointName, topicArn: spec.topicArn,
      summary: 'canary promoted to 100%',
      message: [
        `The canary of endpoint ${endpointName} serves 100% of traffic: variant ${spec.candidateVariant} (model ${spec.candidateModelName}).`,
        `To make it the production model, change the code: set production.model to the candidate's model (${spec.candidateModelPath}), remove "candidate", and deploy.`,
        'Until then the controller keeps the candidate at 100% through later deployments.',
      ].join('\n'),
      detail: { variants: variantsDetail(spec), weightsBefore: weightsRecord(spec, percentBefore), weightsAfter: weightsRecord(spec, 100), candidateModelPath: spec.candidateModelPath, time: next.updatedAt },
    });
    await deps.store.putState({ ...next, promotedAnnounced: true }, finalVersion);
  } else {
    await announce(deps, {
      type: 'Canary Step', endpointName, topicArn: spec.topicArn,
      summary: `canary moved from ${percentBefore}% to ${change.toPercent}%`,
      message: change.reason,
      detail: { variants: variantsDetail(spec), weightsBefore: weightsRecord(spec, percentBefore), weightsAfter: weightsRecord(spec, change.toPercent), reason: change.reason, by: change.by, time: next.updatedAt },
    });
  }
  return next;
}

function weightsRecord(spec: RolloutSpec, percent: number): Record<string, number> {
  return { [spec.productionVariant]: 100 - percent, [spec.candidateVariant]: percent };
}

/** What one scheduled visit of an endpoint decided. */
export interface StepResult {
  readonly endpointName: string;
  readonly decision: StepDecision['kind'] | 'recovered' | 'in-flight' | 'busy' | 'skipped';
  readonly reason: string;
}

/**
 * One scheduled visit of a canary: finish a change a crash left behind, roll back on an alarm, or
 * take the next step when it is due.
 */
export async function step(deps: RolloutDeps, endpointName: string, deadlines: Deadlines): Promise<StepResult> {
  const spec = await deps.store.getSpec(endpointName);
  const read = await deps.store.getState(endpointName);
  if (!spec || spec.kind !== 'canary' || !read) return { endpointName, decision: 'skipped', reason: 'no canary registered' };
  const state = read.value;

  const states = await alarmStates(deps.cloudwatch, spec.alarmNames);
  if (state.pending && state.status !== 'rolled-back') {
    return recoverPending(deps, spec, read, states, deadlines);
  }

  let decision = decideStep(spec, state, { now: deps.now(), alarmStates: states });
  let invocations: number | undefined;
  if (decision.kind === 'wait' && decision.needsInvocations) {
    invocations = await invocationsBetween(deps.cloudwatch, endpointName, spec.candidateVariant, new Date(state.stepStartedAt), deps.now());
    decision = decideStep(spec, state, { now: deps.now(), alarmStates: states, invocationsInStep: invocations });
  }

  switch (decision.kind) {
    case 'rollback':
      await rollBack(deps, endpointName, { by: 'alarm', actor: 'controller', alarmName: decision.alarmName, reason: decision.reason }, deadlines);
      return { endpointName, decision: 'rollback', reason: decision.reason };
    case 'await-approval': {
      const now = deps.now().toISOString();
      await deps.store.putState({ ...state, status: 'awaiting-approval', updatedAt: now }, read.version);
      await deps.store.appendHistory(endpointName, entry(deps, { action: 'await-approval', by: 'controller', reason: decision.reason, stepIndex: state.stepIndex, percentBefore: state.percent, percentAfter: state.percent, alarmStates: states, invocations }));
      await announce(deps, {
        type: 'Canary Awaiting Approval', endpointName, topicArn: spec.topicArn,
        summary: `canary waits at ${state.percent}% for a person`,
        message: `${decision.reason}.\n  npx cdk-sagemaker-rollout promote ${endpointName}`,
        detail: { variants: variantsDetail(spec), percent: state.percent, time: now },
      });
      return { endpointName, decision: 'await-approval', reason: decision.reason };
    }
    case 'advance': {
      const endpoint = await describeEndpoint(deps.sagemaker, endpointName);
      if (endpoint.status !== 'InService') {
        return { endpointName, decision: 'busy', reason: `endpoint is ${endpoint.status}; the step waits` };
      }
      await changePercent(deps, spec, read, {
        toPercent: decision.toPercent, toStepIndex: decision.toStepIndex, reason: decision.reason, action: 'step', by: 'controller', alarmStates: states, invocations,
      }, deadlines);
      return { endpointName, decision: 'advance', reason: decision.reason };
    }
    case 'wait':
      return { endpointName, decision: 'wait', reason: decision.reason };
  }
}

/**
 * A pending change is finished, never repeated: if the endpoint already shows it, it is completed;
 * if it is old (its writer is gone) and the alarms are OK, the same change is made again and
 * completed; an alarm rolls back instead.
 */
async function recoverPending(deps: RolloutDeps, spec: RegisteredRollout, read: Versioned<RolloutState>, states: Record<string, string>, deadlines: Deadlines): Promise<StepResult> {
  const endpointName = read.value.endpointName;
  const pending = read.value.pending!;
  const firing = alarmsFiring(states);
  if (firing.length > 0) {
    await rollBack(deps, endpointName, { by: 'alarm', actor: 'controller', alarmName: firing[0], reason: `alarm ${firing.join(', ')} in ALARM` }, deadlines);
    return { endpointName, decision: 'rollback', reason: `alarm ${firing.join(', ')} in ALARM during a pending change` };
  }
  const endpoint = await describeEndpoint(deps.sagemaker, endpointName);
  const live = candidatePercentOf(liveWeights(endpoint), spec);
  const age = deps.now().getTime() - Date.parse(pending.since);
  if (live !== pending.targetPercent && age < PENDING_IN_FLIGHT_MS) {
    return { endpointName, decision: 'in-flight', reason: `a change to ${pending.targetPercent}% is in flight since ${pending.since}` };
  }
  if (endpoint.status !== 'InService' && live !== pending.targetPercent) {
    return { endpointName, decision: 'busy', reason: `endpoint is ${endpoint.status}; the pending change to ${pending.targetPercent}% waits` };
  }
  await changePercent(deps, spec, read, {
    toPercent: pending.targetPercent, toStepIndex: pending.targetStepIndex, reason: `${pending.reason} (completed after an interruption)`, action: 'step', by: 'controller', alarmStates: states,
  }, deadlines);
  return { endpointName, decision: 'recovered', reason: `finished the change to ${pending.targetPercent}% recorded at ${pending.since}` };
}

/**
 * Makes the live weights match the rollout's state after something else set them: a deployment
 * that replaced the endpoint config resets weights to the template's, so a standing rollback (or
 * a later step) is applied again, and announced. Only for the same candidate model: a different
 * one is a fresh rollout, registered by its deployment.
 */
export async function reconcile(deps: RolloutDeps, endpointName: string, trigger: string, deadlines: Deadlines): Promise<'in-sync' | 'reapplied' | 'skipped'> {
  const spec = await deps.store.getSpec(endpointName);
  const read = await deps.store.getState(endpointName);
  if (!spec || spec.kind !== 'canary' || !read) return 'skipped';
  const endpoint = await describeEndpoint(deps.sagemaker, endpointName);
  if (endpoint.status !== 'InService') return 'skipped';
  if (!(await runsCandidateOf(deps, endpoint, spec, read.value))) {
    deps.log('the live config runs another candidate: waiting for its deployment to register it', { endpointName, config: endpoint.configName });
    return 'skipped';
  }
  // A deployment may have registered the candidate's template range again: a rollback keeps it narrowed.
  await syncCandidateScaling(deps, spec, endpointName, read.value.status === 'rolled-back');
  const live = candidatePercentOf(liveWeights(endpoint), spec);
  const desired = desiredPercent(read.value);
  if (live === desired) return 'in-sync';

  await setCandidatePercent(deps, spec, endpointName, desired, deadlines);
  const rolledBack = read.value.status === 'rolled-back';
  await deps.store.appendHistory(endpointName, entry(deps, {
    action: rolledBack ? 'rollback-reapplied' : 'weights-reapplied', by: 'controller',
    reason: `${trigger}: the endpoint showed ${live}% for the candidate, the rollout holds ${desired}%`,
    stepIndex: read.value.stepIndex, percentBefore: live, percentAfter: desired,
  }));
  if (rolledBack) {
    await announce(deps, {
      type: 'Canary Rollback Reapplied', endpointName, topicArn: spec.topicArn,
      summary: `standing rollback re-applied (${live}% -> 0%)`,
      message: `${trigger} set the canary of ${endpointName} back to ${live}%, but it was rolled back at ${read.value.rollback?.at} (${read.value.rollback?.reason}). The controller set it to 0% again. Run "npx cdk-sagemaker-rollout resume ${endpointName}" to try the candidate again.`,
      detail: { variants: variantsDetail(spec), weightsBefore: weightsRecord(spec, live), weightsAfter: weightsRecord(spec, 0), reason: read.value.rollback?.reason, trigger, time: deps.now().toISOString() },
    });
  }
  return 'reapplied';
}

async function runsCandidateOf(deps: RolloutDeps, endpoint: EndpointView, spec: RegisteredRollout, state: RolloutState): Promise<boolean> {
  if (endpoint.configName === spec.endpointConfigName) return spec.candidateModelName === state.candidateModelName;
  const model = await modelOfVariant(deps.sagemaker, endpoint.configName, spec.candidateVariant);
  return model === state.candidateModelName;
}

/**
 * Registers the rollout a deployment put in place. The same candidate model keeps its state (a
 * rollback stays a rollback); a different one starts fresh at its first step. Then the live
 * weights are made to match.
 */
export async function register(deps: RolloutDeps, endpointName: string, spec: RolloutSpec, endpointConfigName: string, deadlines: Deadlines): Promise<RolloutState> {
  const registered: RegisteredRollout = { ...spec, endpointConfigName, registeredAt: deps.now().toISOString() };
  const previous = await deps.store.getSpec(endpointName);
  await deps.store.putSpec(endpointName, registered);
  for (const alarm of spec.alarmNames) await deps.store.putAlarmIndex(alarm, endpointName);
  for (const alarm of previous?.alarmNames ?? []) {
    if (!spec.alarmNames.includes(alarm)) await deps.store.deleteAlarmIndex(alarm);
  }

  const read = await deps.store.getState(endpointName);
  const same = read && read.value.candidateModelName === spec.candidateModelName && read.value.kind === spec.kind;
  const state = same ? carriedOverState(read.value, spec, deps.now()) : freshState(endpointName, spec, deps.now());
  await deps.store.putState(state, read?.version);
  await deps.store.appendHistory(endpointName, entry(deps, same
    ? { action: 'redeployed', by: 'deployment', reason: `config ${endpointConfigName} deployed; the rollout carries on (${state.status} at ${desiredPercent(state)}%)`, stepIndex: state.stepIndex, percentAfter: desiredPercent(state) }
    : { action: 'started', by: 'deployment', reason: `new ${spec.kind} candidate ${spec.candidateModelName} at ${state.percent}% (config ${endpointConfigName})`, stepIndex: 0, percentAfter: state.percent }));
  if (spec.kind === 'canary') await reconcile(deps, endpointName, 'deployment', deadlines);
  return state;
}

/** Forgets a rollout whose candidate was removed from the endpoint. The history stays. */
export async function unregister(deps: RolloutDeps, endpointName: string, reason: string): Promise<void> {
  const previous = await deps.store.getSpec(endpointName);
  if (!previous) return;
  for (const alarm of previous.alarmNames) await deps.store.deleteAlarmIndex(alarm);
  await deps.store.deleteSpec(endpointName);
  await deps.store.appendHistory(endpointName, entry(deps, { action: 'ended', by: 'deployment', reason }));
}

/** An alarm of a guarded candidate went to ALARM. */
export async function onAlarm(deps: RolloutDeps, alarmName: string, reason: string, deadlines: Deadlines): Promise<string> {
  const endpointName = await deps.store.endpointOfAlarm(alarmName);
  if (!endpointName) return `alarm ${alarmName} guards no registered candidate of this stack: ignored`;
  const spec = await deps.store.getSpec(endpointName);
  if (!spec) return `alarm ${alarmName} belongs to ${endpointName}, whose candidate was removed: ignored`;
  if (spec.kind === 'shadow') {
    await deps.store.appendHistory(endpointName, entry(deps, { action: 'shadow-alarm', by: 'controller', reason: `${alarmName}: ${reason}` }));
    await announce(deps, {
      type: 'Shadow Alarm', endpointName, topicArn: spec.topicArn,
      summary: `shadow alarm ${alarmName}`,
      message: `Alarm ${alarmName} on the shadow variant ${spec.candidateVariant} (model ${spec.candidateModelName}) of ${endpointName} is in ALARM: ${reason}.\nUsers are not affected: production answers every request. Compare the two models with "npx cdk-sagemaker-rollout compare ${endpointName}" before moving to a canary.`,
      detail: { variants: variantsDetail(spec), alarmName, reason, time: deps.now().toISOString() },
    });
    return `shadow alarm ${alarmName} of ${endpointName} announced`;
  }
  const outcome = await rollBack(deps, endpointName, { by: 'alarm', actor: 'controller', alarmName, reason: `alarm ${alarmName} in ALARM: ${reason}` }, deadlines, spec);
  return `${endpointName}: ${outcome}`;
}

/** Operator: move the candidate up (to the next step, or to `toPercent`). Alarms must be OK. */
export async function promote(deps: RolloutDeps, endpointName: string, actor: Actor, toPercent: number | undefined, deadlines: Deadlines): Promise<RolloutState> {
  const { spec, state: read } = await loadCanary(deps, endpointName);
  const state = read.value;
  if (spec.kind !== 'canary') throw new RolloutError(`endpoint "${endpointName}" has a shadow candidate: a shadow is promoted by deploying it as a canary`, 'not-allowed');
  if (state.status === 'rolled-back') throw new RolloutError(`the canary of "${endpointName}" is rolled back (${state.rollback?.reason}): run "resume" first, once its alarms are OK`, 'not-allowed');
  if (state.status === 'promoted') throw new RolloutError(`the canary of "${endpointName}" is already at 100%`, 'not-allowed');
  if (state.pending) throw new RolloutError(`a change of "${endpointName}" to ${state.pending.targetPercent}% is in flight since ${state.pending.since}: try again when it is done`, 'busy');
  const target = toPercent ?? nextPromotionTarget(spec, state);
  if (!Number.isInteger(target) || target <= state.percent || target > 100) {
    throw new RolloutError(`--to must be a whole percent above the current ${state.percent}% and at most 100, got ${target}`, 'not-allowed');
  }
  const states = await alarmStates(deps.cloudwatch, spec.alarmNames);
  const firing = alarmsFiring(states);
  if (firing.length > 0) throw new RolloutError(`alarm ${firing.join(', ')} is in ALARM: an alarm always wins over a promotion`, 'alarm');
  const endpoint = await describeEndpoint(deps.sagemaker, endpointName);
  if (endpoint.status !== 'InService') throw new RolloutError(`endpoint "${endpointName}" is ${endpoint.status}: try again when it is InService`, 'busy');
  return changePercent(deps, spec, read, {
    toPercent: target, toStepIndex: stepIndexFor(spec, target), reason: `promoted by ${actor} to ${target}%`, action: 'promote', by: actor, alarmStates: states,
  }, deadlines);
}

/** Operator: stop taking steps. Alarms still roll back. */
export async function pause(deps: RolloutDeps, endpointName: string, actor: Actor): Promise<RolloutState> {
  const { spec, state: read } = await loadCanary(deps, endpointName);
  if (spec.kind !== 'canary') throw new RolloutError(`endpoint "${endpointName}" has a shadow candidate: nothing to pause`, 'not-allowed');
  if (read.value.status !== 'active' && read.value.status !== 'awaiting-approval') {
    throw new RolloutError(`the canary of "${endpointName}" is ${read.value.status}: only an active rollout can be paused`, 'not-allowed');
  }
  const next: RolloutState = { ...read.value, status: 'paused', pausedBy: actor, updatedAt: deps.now().toISOString() };
  await deps.store.putState(next, read.version);
  await deps.store.appendHistory(endpointName, entry(deps, { action: 'pause', by: actor, reason: `paused by ${actor}`, stepIndex: next.stepIndex, percentBefore: next.percent, percentAfter: next.percent }));
  await announce(deps, { type: 'Canary Paused', endpointName, summary: `paused at ${next.percent}% by ${actor}`, message: `paused by ${actor}`, detail: { variants: variantsDetail(spec), percent: next.percent, by: actor } });
  return next;
}

/**
 * Operator: carry on. A paused rollout continues where it stood; a rolled-back one starts again
 * from its first step (never from where it failed), once all its alarms are OK.
 */
export async function resume(deps: RolloutDeps, endpointName: string, actor: Actor, deadlines: Deadlines): Promise<RolloutState> {
  const { spec, state: read } = await loadCanary(deps, endpointName);
  const state = read.value;
  if (spec.kind !== 'canary') throw new RolloutError(`endpoint "${endpointName}" has a shadow candidate: nothing to resume`, 'not-allowed');
  if (state.status === 'paused') {
    const next: RolloutState = { ...state, status: 'active', pausedBy: undefined, updatedAt: deps.now().toISOString() };
    await deps.store.putState(next, read.version);
    await deps.store.appendHistory(endpointName, entry(deps, { action: 'resume', by: actor, reason: `resumed by ${actor}`, stepIndex: next.stepIndex, percentBefore: next.percent, percentAfter: next.percent }));
    await announce(deps, { type: 'Canary Resumed', endpointName, summary: `resumed at ${next.percent}% by ${actor}`, message: `resumed by ${actor}`, detail: { variants: variantsDetail(spec), percent: next.percent, by: actor } });
    return next;
  }
  if (state.status !== 'rolled-back') throw new RolloutError(`the canary of "${endpointName}" is ${state.status}: only a paused or rolled-back rollout can be resumed`, 'not-allowed');
  const states = await alarmStates(deps.cloudwatch, spec.alarmNames);
  const firing = alarmsFiring(states);
  if (firing.length > 0) throw new RolloutError(`alarm ${firing.join(', ')} is still in ALARM: fix the cause first`, 'alarm');
  const endpoint = await describeEndpoint(deps.sagemaker, endpointName);
  if (endpoint.status !== 'InService') throw new RolloutError(`endpoint "${endpointName}" is ${endpoint.status}: try again when it is InService`, 'busy');
  const first = spec.promotion?.steps[0] ?? spec.initialPercent;
  // A scaled candidate gets its range and its capacity back before any traffic returns.
  await regrowCandidate(deps, spec, endpointName, state.rollback?.instanceCountBefore, retryOptions(deps, deadlines));
  const now = deps.now().toISOString();
  // The restart and its first change are written together, so no scheduled step can slip in between.
  const restart: RolloutState = {
    ...state, status: 'active', rollback: undefined, stepIndex: 0, percent: 0, stepStartedAt: now, updatedAt: now,
    pending: { targetPercent: first, targetStepIndex: 0, reason: `resumed by ${actor} after a rollback: starting again at ${first}%`, since: now },
  };
  const version = await deps.store.putState(restart, read.version);
  const next = await changePercent(deps, spec, { value: restart, version }, {
    toPercent: first, toStepIndex: 0, reason: restart.pending!.reason, action: 'resume', by: actor, alarmStates: states,
  }, deadlines);
  await announce(deps, { type: 'Canary Resumed', endpointName, summary: `resumed at ${first}% by ${actor} after a rollback`, message: `resumed by ${actor}`, detail: { variants: variantsDetail(spec), percent: first, by: actor } });
  return next;
}

/** Operator: roll back now. */
export async function manualRollback(deps: RolloutDeps, endpointName: string, actor: Actor, reason: string, deadlines: Deadlines): Promise<RollbackOutcome> {
  return rollBack(deps, endpointName, { by: 'operator', actor, reason: `rolled back by ${actor}: ${reason}` }, deadlines);
}
