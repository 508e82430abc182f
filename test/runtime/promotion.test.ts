import { DescribeEndpointCommand, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { makeHandler } from '../../lib/runtime/handler';
import { pause, promote, resume, RolloutError } from '../../lib/runtime/rollout';
import { PromotionSpec } from '../../lib/runtime/spec';
import { putInvocations, sagemakerClient, setAlarmState } from '../support/emulator';
import { createStateTable, deployCanary, FakeClock, runtimeDeps, scheduledEvent } from './fixture';

/**
 * Progressive promotion against the emulator with an injected clock: a schedule of hours runs in
 * seconds. Invocations are put into the emulator's CloudWatch as SageMaker would publish them.
 */
const context = { getRemainingTimeInMillis: () => 10 * 60 * 1000 };
const MINUTE = 60_000;
const SCHEDULE: PromotionSpec = { steps: [10, 25, 50, 100], intervalSeconds: 30 * 60, minInvocations: 100 };
let tableName: string;

beforeAll(async () => {
  tableName = await createStateTable();
});

async function candidatePercent(endpointName: string): Promise<number> {
  const out = await sagemakerClient().send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  const w = Object.fromEntries((out.ProductionVariants ?? []).map((v) => [v.VariantName!, v.DesiredWeight ?? v.CurrentWeight ?? 0]));
  return (100 * w.candidate) / (w.candidate + w.production);
}

async function setup(promotion: PromotionSpec = SCHEDULE) {
  // Three hours in the past, so that every metric the test puts is in the past for the emulator too.
  const clock = new FakeClock(new Date(Date.now() - 3 * 3600_000));
  const deps = runtimeDeps({ tableName, clock });
  const canary = await deployCanary(deps, { promotion });
  const handler = makeHandler(() => deps);
  /** Lets `minutes` pass with `requests` served by the candidate in the middle of them, then ticks. */
  const passAndTick = async (minutes: number, requests: number) => {
    clock.advance((minutes * MINUTE) / 2);
    if (requests > 0) await putInvocations({ endpointName: canary.endpointName, variantName: 'candidate', count: requests, timestamp: clock.now() });
    clock.advance((minutes * MINUTE) / 2);
    // The tick visits every registered canary of the table; only this one's result matters here.
    const results = await handler(scheduledEvent(clock.now()), context) as { endpointName: string; decision: string; reason: string }[];
    return results.find((r) => r.endpointName === canary.endpointName)!;
  };
  return { clock, deps, canary, handler, passAndTick };
}

async function eventTypes(canary: { inbox: { events(): Promise<{ 'detail-type': string }[]> } }): Promise<string[]> {
  return (await canary.inbox.events()).map((e) => e['detail-type']);
}

test('a whole promotion: 10 -> 25 -> 50 -> 100 % in steps of 30 minutes, then "Canary Promoted"', async () => {
  const { deps, canary, passAndTick } = await setup();
  expect(await candidatePercent(canary.endpointName)).toBe(10);

  expect((await passAndTick(10, 500)).decision).toBe('wait'); // not due yet
  expect(await candidatePercent(canary.endpointName)).toBe(10);
  expect((await passAndTick(20, 0)).decision).toBe('advance');
  expect(await candidatePercent(canary.endpointName)).toBe(25);
  expect((await passAndTick(30, 500)).decision).toBe('advance');
  expect(await candidatePercent(canary.endpointName)).toBe(50);
  expect((await passAndTick(30, 500)).decision).toBe('advance');
  expect(await candidatePercent(canary.endpointName)).toBe(100);
  expect((await passAndTick(30, 500)).decision).toBe('wait');

  const state = (await deps.store.getState(canary.endpointName))!.value;
  expect(state).toEqual(expect.objectContaining({ status: 'promoted', percent: 100, stepIndex: 3 }));
  expect(await eventTypes(canary)).toEqual(['Canary Step', 'Canary Step', 'Canary Promoted']);
  const promoted = (await canary.inbox.notifications()).find((n) => n.Subject.startsWith('[Canary Promoted]'))!;
  expect(promoted.Message).toContain('set production.model to the candidate\'s model (TestStack/CandidateModel), remove "candidate", and deploy');

  const history = await deps.store.history(canary.endpointName, 10);
  const steps = history.filter((h) => h.action === 'step').reverse();
  expect(steps.map((h) => [h.percentBefore, h.percentAfter])).toEqual([[10, 25], [25, 50], [50, 100]]);
  expect(steps[0]).toEqual(expect.objectContaining({ by: 'controller', invocations: 500, alarmStates: { [canary.alarms[0]]: 'OK', [canary.alarms[1]]: 'OK' } }));
});

test('a step waits until the candidate has served enough requests', async () => {
  const { canary, passAndTick } = await setup();
  const result = await passAndTick(31, 40);
  expect(result).toEqual(expect.objectContaining({ decision: 'wait', reason: 'the candidate served 40 of the 100 requests a step needs' }));
  expect(await candidatePercent(canary.endpointName)).toBe(10);
  expect((await passAndTick(5, 60)).decision).toBe('advance');
});

test('an alarm in the middle rolls the canary back, and it stays back while time passes', async () => {
  const { deps, canary, passAndTick } = await setup();
  await passAndTick(31, 500);
  expect(await candidatePercent(canary.endpointName)).toBe(25);

  await setAlarmState(canary.alarms[1], 'ALARM');
  expect((await passAndTick(31, 500)).decision).toBe('rollback');
  expect(await candidatePercent(canary.endpointName)).toBe(0);

  await setAlarmState(canary.alarms[1], 'OK');
  for (let i = 0; i < 3; i++) {
    expect((await passAndTick(31, 500)).decision).toBe('wait');
  }
  expect(await candidatePercent(canary.endpointName)).toBe(0);
  expect((await deps.store.getState(canary.endpointName))!.value.status).toBe('rolled-back');
  expect(await eventTypes(canary)).toEqual(['Canary Step', 'Canary Rolled Back']);
});

test('a manual gate waits at its step until a person promotes', async () => {
  const { deps, clock, canary, passAndTick } = await setup({ ...SCHEDULE, approvalAt: 25 });
  await passAndTick(31, 500);
  expect(await candidatePercent(canary.endpointName)).toBe(25);

  expect((await passAndTick(31, 500)).decision).toBe('await-approval');
  expect((await passAndTick(120, 5000)).decision).toBe('wait');
  expect(await candidatePercent(canary.endpointName)).toBe(25);
  expect(await eventTypes(canary)).toEqual(['Canary Step', 'Canary Awaiting Approval']);

  const state = await promote(deps, canary.endpointName, 'alice', undefined, { final: new Date(clock.now().getTime() + MINUTE) });
  expect(state).toEqual(expect.objectContaining({ status: 'active', percent: 50, stepIndex: 2 }));
  expect(await candidatePercent(canary.endpointName)).toBe(50);
  expect((await deps.store.history(canary.endpointName, 1))[0]).toEqual(expect.objectContaining({ action: 'promote', by: 'alice', percentBefore: 25, percentAfter: 50 }));
});

test('pause stops the steps, resume lets them go on; alarms still roll back while paused', async () => {
  const { deps, clock, canary, passAndTick } = await setup();
  await pause(deps, canary.endpointName, 'bob');
  expect((await passAndTick(45, 500))).toEqual(expect.objectContaining({ decision: 'wait', reason: 'paused by bob' }));
  expect(await candidatePercent(canary.endpointName)).toBe(10);

  await resume(deps, canary.endpointName, 'bob', { final: new Date(clock.now().getTime() + MINUTE) });
  expect((await passAndTick(1, 500)).decision).toBe('advance');
  expect(await candidatePercent(canary.endpointName)).toBe(25);

  await pause(deps, canary.endpointName, 'bob');
  await setAlarmState(canary.alarms[0], 'ALARM');
  expect((await passAndTick(1, 0)).decision).toBe('rollback');
  expect(await candidatePercent(canary.endpointName)).toBe(0);
  await setAlarmState(canary.alarms[0], 'OK');
});

test('a crash after recording a step but before changing the weights: the step is finished once, not skipped or repeated', async () => {
  const { deps, clock, canary, passAndTick } = await setup();
  const read = (await deps.store.getState(canary.endpointName))!;
  // What a crashed run left: the change to 25 % written as pending, the weights untouched.
  await deps.store.putState({ ...read.value, pending: { targetPercent: 25, targetStepIndex: 1, reason: 'step due', since: clock.now().toISOString() } }, read.version);

  expect((await passAndTick(2, 0)).decision).toBe('in-flight'); // its writer might still be running
  expect(await candidatePercent(canary.endpointName)).toBe(10);
  expect((await passAndTick(12, 0)).decision).toBe('recovered');
  expect(await candidatePercent(canary.endpointName)).toBe(25);
  const state = (await deps.store.getState(canary.endpointName))!.value;
  expect(state).toEqual(expect.objectContaining({ percent: 25, stepIndex: 1 }));
  expect(state.pending).toBeUndefined();
  // The next step waits a whole interval from the recovered step.
  expect((await passAndTick(5, 500)).decision).toBe('wait');
});

test('a crash after changing the weights but before recording it: the step is completed without a second change', async () => {
  const { deps, clock, canary, passAndTick } = await setup();
  const read = (await deps.store.getState(canary.endpointName))!;
  await deps.store.putState({ ...read.value, pending: { targetPercent: 25, targetStepIndex: 1, reason: 'step due', since: clock.now().toISOString() } }, read.version);
  await sagemakerClient().send(new UpdateEndpointWeightsAndCapacitiesCommand({
    EndpointName: canary.endpointName,
    DesiredWeightsAndCapacities: [{ VariantName: 'production', DesiredWeight: 75 }, { VariantName: 'candidate', DesiredWeight: 25 }],
  }));

  expect((await passAndTick(1, 0)).decision).toBe('recovered');
  expect((await deps.store.getState(canary.endpointName))!.value).toEqual(expect.objectContaining({ percent: 25, stepIndex: 1 }));
  expect((await deps.store.history(canary.endpointName, 10)).filter((h) => h.action === 'step')).toHaveLength(1);
});

test('duplicate triggers in the same minute take one step, not two', async () => {
  const { clock, canary, handler, passAndTick } = await setup();
  expect((await passAndTick(31, 500)).decision).toBe('advance');
  const again = await handler(scheduledEvent(clock.now()), context) as { endpointName: string; decision: string }[];
  expect(again.find((r) => r.endpointName === canary.endpointName)!.decision).toBe('wait');
  expect(await candidatePercent(canary.endpointName)).toBe(25);
});

test('promote refuses while an alarm is in ALARM, and changes nothing', async () => {
  const { deps, clock, canary } = await setup();
  await setAlarmState(canary.alarms[0], 'ALARM');
  try {
    await expect(promote(deps, canary.endpointName, 'carol', 50, { final: new Date(clock.now().getTime() + MINUTE) }))
      .rejects.toThrow(new RolloutError(`alarm ${canary.alarms[0]} is in ALARM: an alarm always wins over a promotion`, 'alarm'));
  } finally {
    await setAlarmState(canary.alarms[0], 'OK');
  }
  expect(await candidatePercent(canary.endpointName)).toBe(10);
});

test('resume after a rollback starts again from the first step, never where it failed', async () => {
  const { deps, clock, canary, passAndTick } = await setup();
  await passAndTick(31, 500);
  await passAndTick(31, 500);
  expect(await candidatePercent(canary.endpointName)).toBe(50);
  await setAlarmState(canary.alarms[0], 'ALARM');
  await passAndTick(1, 0);
  await setAlarmState(canary.alarms[0], 'OK');
  expect(await candidatePercent(canary.endpointName)).toBe(0);

  const state = await resume(deps, canary.endpointName, 'dave', { final: new Date(clock.now().getTime() + MINUTE) });
  expect(state).toEqual(expect.objectContaining({ status: 'active', percent: 10, stepIndex: 0 }));
  expect(state.rollback).toBeUndefined();
  expect(await candidatePercent(canary.endpointName)).toBe(10);
});
