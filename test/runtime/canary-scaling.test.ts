import { RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { makeHandler } from '../../lib/runtime/handler';
import { describeTarget } from '../../lib/runtime/scaling';
import { promote, resume } from '../../lib/runtime/rollout';
import { FaultProxy } from '../support/fault-proxy';
import { autoScalingClient, sagemakerClient, setAlarmState } from '../support/emulator';
import { alarmEvent, createStateTable, deployCanary, endpointStateEvent, FakeClock, runtimeDeps } from './fixture';

/**
 * A canary whose candidate scales, against moto's SageMaker and Application Auto Scaling through
 * the real SDK: a rollback narrows the candidate to its minimum, `resume` gives its range and its
 * capacity back before traffic returns, a deployment never widens a rolled-back candidate, and
 * promotion leaves scaling alone. moto does not scale anything itself: the tests read the range
 * Application Auto Scaling was given (which, on AWS, moves the capacity into it).
 */
const context = { getRemainingTimeInMillis: () => 10 * 60 * 1000 };
const MINUTE = 60_000;
let tableName: string;
let proxy: FaultProxy;

beforeAll(async () => {
  tableName = await createStateTable();
  proxy = await FaultProxy.start();
});
afterAll(async () => proxy.stop());

async function candidateTarget(endpointName: string) {
  const t = await describeTarget(autoScalingClient(), `endpoint/${endpointName}/variant/candidate`, 'sagemaker:variant:DesiredInstanceCount');
  return { range: [t?.MinCapacity, t?.MaxCapacity], outSuspended: t?.SuspendedState?.DynamicScalingOutSuspended === true, scheduledSuspended: t?.SuspendedState?.ScheduledScalingSuspended === true };
}

async function variants(endpointName: string) {
  const out = await sagemakerClient().send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  return Object.fromEntries((out.ProductionVariants ?? []).map((v) => [v.VariantName!, { weight: v.DesiredWeight ?? v.CurrentWeight ?? 0, count: v.DesiredInstanceCount ?? v.CurrentInstanceCount }]));
}

async function setup() {
  const clock = new FakeClock();
  const deps = runtimeDeps({ tableName, clock, autoscaling: autoScalingClient({ endpoint: proxy.url }) });
  const canary = await deployCanary(runtimeDeps({ tableName, clock }), { candidateScaling: { minCapacity: 1, maxCapacity: 4, instanceCount: 3 } });
  return { clock, deps, canary, handler: makeHandler(() => deps) };
}

test('a rollback moves the traffic, then narrows the candidate to its minimum and stops it growing', async () => {
  const { clock, canary, handler } = await setup();
  expect(await candidateTarget(canary.endpointName)).toEqual({ range: [1, 4], outSuspended: false, scheduledSuspended: false });
  await setAlarmState(canary.alarms[0], 'ALARM');
  await handler(alarmEvent(canary.alarms[0], clock.now()), context);

  expect((await variants(canary.endpointName)).candidate.weight).toBe(0);
  expect(await candidateTarget(canary.endpointName)).toEqual({ range: [1, 1], outSuspended: true, scheduledSuspended: true });
});

test('resume gives the candidate its range and its capacity back before its traffic returns', async () => {
  const { clock, deps, canary, handler } = await setup();
  await setAlarmState(canary.alarms[0], 'ALARM');
  await handler(alarmEvent(canary.alarms[0], clock.now()), context);
  await setAlarmState(canary.alarms[0], 'OK');

  const start = proxy.calls.length;
  const state = await resume({ ...deps, sagemaker: sagemakerClient({ endpoint: proxy.url }) }, canary.endpointName, 'carol', { final: new Date(clock.now().getTime() + MINUTE) });

  expect(state.percent).toBe(10);
  expect(await candidateTarget(canary.endpointName)).toEqual({ range: [1, 4], outSuspended: false, scheduledSuspended: false });
  // The candidate had 3 instances before the rollback: its range comes back, then its capacity,
  // and only then its traffic. (moto drops instance counts on the weight update that follows,
  // docs/TESTING.md, so the order of the calls is what can be read here.)
  const order = proxy.calls.slice(start).map((c) => c.operation)
    .filter((op) => op === 'RegisterScalableTarget' || op === 'UpdateEndpointWeightsAndCapacities');
  expect(order).toEqual(['RegisterScalableTarget', 'UpdateEndpointWeightsAndCapacities', 'UpdateEndpointWeightsAndCapacities']);
  expect((await variants(canary.endpointName)).candidate.weight).toBe(10);
});

test('a deployment that registers the template range again does not widen a rolled-back candidate', async () => {
  const { clock, canary, handler } = await setup();
  await setAlarmState(canary.alarms[0], 'ALARM');
  await handler(alarmEvent(canary.alarms[0], clock.now()), context);
  // CloudFormation updates the scalable target from the template (say its max changed).
  await autoScalingClient().send(new RegisterScalableTargetCommand({
    ServiceNamespace: 'sagemaker', ResourceId: `endpoint/${canary.endpointName}/variant/candidate`, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    MinCapacity: 1, MaxCapacity: 6, SuspendedState: { DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false, DynamicScalingInSuspended: false },
  }));
  await handler(endpointStateEvent(canary.endpointName, canary.endpointConfigName, clock.now()), context);
  expect(await candidateTarget(canary.endpointName)).toEqual({ range: [1, 1], outSuspended: true, scheduledSuspended: true });
});

test('promotion to 100 % leaves the scaling of both variants as it was', async () => {
  const { clock, deps, canary } = await setup();
  const calls = proxy.calls.length;
  await promote(deps, canary.endpointName, 'erin', 100, { final: new Date(clock.now().getTime() + MINUTE) });
  expect((await variants(canary.endpointName)).candidate.weight).toBe(100);
  expect(await candidateTarget(canary.endpointName)).toEqual({ range: [1, 4], outSuspended: false, scheduledSuspended: false });
  expect(proxy.calls.slice(calls).map((c) => c.operation)).not.toContain('RegisterScalableTarget');
});
