import { candidatePercentOf, carriedOverState, decideStep, freshState, nextPromotionTarget, stepIndexFor } from '../../lib/runtime/decide';
import { DeadlineExceededError, isBusyEndpoint, isRetryable, isThrottling, withRetry } from '../../lib/runtime/retry';
import { RolloutSpec } from '../../lib/runtime/spec';
import { RolloutState } from '../../lib/runtime/state';

const T0 = new Date('2026-11-28T10:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const spec: RolloutSpec = {
  kind: 'canary', productionVariant: 'production', candidateVariant: 'candidate', candidateModelName: 'm2', candidateModelPath: 'S/M2',
  initialPercent: 10, alarmNames: ['a1', 'a2'], promotion: { steps: [10, 25, 50, 100], intervalSeconds: 1800, minInvocations: 100, approvalAt: 50 },
};
const state: RolloutState = freshState('ep', spec, T0);
const ok = { a1: 'OK', a2: 'OK' };

describe('decideStep: the order of the rules is the policy', () => {
  test('an alarm wins over a due step', () => {
    expect(decideStep(spec, state, { now: minutes(45), alarmStates: { a1: 'OK', a2: 'ALARM' }, invocationsInStep: 1000 }))
      .toEqual({ kind: 'rollback', alarmName: 'a2', reason: 'alarm a2 in ALARM' });
  });

  test('an alarm wins over a pause and a manual gate', () => {
    for (const status of ['paused', 'awaiting-approval'] as const) {
      expect(decideStep(spec, { ...state, status }, { now: minutes(1), alarmStates: { a1: 'ALARM' } }).kind).toBe('rollback');
    }
  });

  test('a rolled-back or promoted rollout waits for a person, even with an alarm', () => {
    expect(decideStep(spec, { ...state, status: 'rolled-back' }, { now: minutes(99), alarmStates: { a1: 'ALARM' } }).kind).toBe('wait');
    expect(decideStep(spec, { ...state, status: 'promoted', percent: 100 }, { now: minutes(99), alarmStates: ok }).kind).toBe('wait');
  });

  test('missing and insufficient-data alarms do not block a step', () => {
    expect(decideStep(spec, state, { now: minutes(31), alarmStates: { a1: 'INSUFFICIENT_DATA', a2: 'MISSING' }, invocationsInStep: 100 }).kind).toBe('advance');
  });

  test('not due: wait, saying until when', () => {
    expect(decideStep(spec, state, { now: minutes(29), alarmStates: ok })).toEqual({ kind: 'wait', reason: 'step 1 of 4 at 10% until 2026-11-28T10:30:00.000Z' });
  });

  test('due: first the requests are read, then they decide', () => {
    expect(decideStep(spec, state, { now: minutes(30), alarmStates: ok })).toEqual(expect.objectContaining({ kind: 'wait', needsInvocations: true }));
    expect(decideStep(spec, state, { now: minutes(30), alarmStates: ok, invocationsInStep: 99 }).kind).toBe('wait');
    expect(decideStep(spec, state, { now: minutes(30), alarmStates: ok, invocationsInStep: 100 }))
      .toEqual({ kind: 'advance', toStepIndex: 1, toPercent: 25, reason: 'step due, all alarms OK, 100 requests served (at least 100)' });
  });

  test('the manual gate stops at its step', () => {
    const at50 = { ...state, stepIndex: 2, percent: 50 };
    expect(decideStep(spec, at50, { now: minutes(31), alarmStates: ok, invocationsInStep: 500 }).kind).toBe('await-approval');
  });

  test('without a schedule the canary holds', () => {
    expect(decideStep({ ...spec, promotion: undefined }, state, { now: minutes(999), alarmStates: ok })).toEqual({ kind: 'wait', reason: 'holding at 10% (no promotion schedule)' });
  });
});

describe('state transitions', () => {
  test('a fresh state starts at the initial percent', () => {
    expect(state).toEqual(expect.objectContaining({ status: 'active', stepIndex: 0, percent: 10, candidateModelName: 'm2' }));
  });

  test('a re-registration keeps the status and re-reads the step against a new schedule', () => {
    const rolled: RolloutState = { ...state, status: 'rolled-back', percent: 25, stepIndex: 1 };
    const carried = carriedOverState(rolled, { ...spec, promotion: { ...spec.promotion!, steps: [10, 20, 40, 100] } }, minutes(5));
    expect(carried).toEqual(expect.objectContaining({ status: 'rolled-back', percent: 25, stepIndex: 1 }));
  });

  test('promote --to picks the step at or below the target; the next target is the next step', () => {
    expect(stepIndexFor(spec, 30)).toBe(1);
    expect(stepIndexFor(spec, 100)).toBe(3);
    expect(nextPromotionTarget(spec, { ...state, percent: 25 })).toBe(50);
    expect(nextPromotionTarget({ ...spec, promotion: undefined }, state)).toBe(100);
  });

  test('the live candidate share is read from the weights; missing weights count as 0', () => {
    expect(candidatePercentOf({ production: 90, candidate: 10 }, spec)).toBe(10);
    expect(candidatePercentOf({ production: 0.75, candidate: 0.25 }, spec)).toBe(25);
    expect(candidatePercentOf({ production: 100 }, spec)).toBe(0);
    expect(candidatePercentOf({}, spec)).toBe(0);
  });
});

describe('retrying', () => {
  const err = (name: string, message: string, status?: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  test('busy endpoints, throttling and server errors are retried; validation errors are not', () => {
    expect(isBusyEndpoint(err('ValidationException', 'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:1:endpoint/e".'))).toBe(true);
    expect(isThrottling(err('ThrottlingException', 'Rate exceeded'))).toBe(true);
    expect(isThrottling(err('Throttling', 'Rate exceeded'))).toBe(true);
    expect(isRetryable(err('InternalFailure', 'oops', 500))).toBe(true);
    expect(isRetryable(err('ValidationException', 'Could not find endpoint "e".', 400))).toBe(false);
  });

  test('backoff doubles up to the cap and stops at the deadline', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const busy = err('ValidationException', 'Cannot update in-progress endpoint "x".');
    await expect(withRetry(async () => { throw busy; }, {
      deadline: new Date(100_000), now: () => new Date(now), sleep: async (ms) => { sleeps.push(ms); now += ms; }, random: () => 1, baseDelayMs: 1000, maxDelayMs: 30_000,
    })).rejects.toThrow(DeadlineExceededError);
    expect(sleeps.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 16000, 30000]);
    expect(now).toBeLessThanOrEqual(100_000);
  });
});

describe('RolloutEvents', () => {
  test('names every detail-type the controller and the CLI put, with the source they use', () => {
    const { RolloutEvents } = require('../../lib');
    const { ROLLOUT_EVENT_SOURCE } = require('../../lib/runtime/spec');
    expect(RolloutEvents.SOURCE).toBe(ROLLOUT_EVENT_SOURCE);
    const announced = new Set<string>();
    const fs = require('fs');
    for (const file of ['runtime/rollout.ts', 'runtime/handler.ts', 'runtime/revert-guard.ts', 'cli/revert-command.ts', 'cli/main.ts']) {
      const source = fs.readFileSync(require('path').join(__dirname, '..', '..', 'lib', file), 'utf-8');
      for (const match of source.matchAll(/type: '([A-Z][^']+)'/g)) announced.add(match[1]); // detail-types are Title Case; parseArgs' 'boolean' is not
    }
    const constants = Object.entries(RolloutEvents).filter(([key]) => key !== 'SOURCE').map(([, value]) => value);
    expect([...announced].sort()).toEqual([...constants].sort());
  });
});
