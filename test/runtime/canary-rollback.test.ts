import { DescribeEndpointCommand, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { makeHandler } from '../../lib/runtime/handler';
import { RollbackFailedError, RetryLaterError, rollBack } from '../../lib/runtime/rollout';
import { FaultProxy } from '../support/fault-proxy';
import { sagemakerClient, setAlarmState, uniqueName } from '../support/emulator';
import { alarmEvent, createStateTable, deployCanary, endpointStateEvent, FakeClock, runtimeDeps } from './fixture';

/**
 * The rollback controller against the emulator, through the real SDK, with events shaped exactly
 * as EventBridge delivers them. The fault proxy sits between the controller and the emulator: it
 * counts SageMaker calls and injects busy-endpoint and throttling errors.
 */
const context = { getRemainingTimeInMillis: () => 10 * 60 * 1000 };
let proxy: FaultProxy;
let tableName: string;

beforeAll(async () => {
  proxy = await FaultProxy.start();
  tableName = await createStateTable();
});
afterAll(async () => proxy.stop());

async function weightsOf(endpointName: string): Promise<Record<string, number>> {
  const out = await sagemakerClient().send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  // moto leaves the weight fields out of a variant at weight 0 (docs/TESTING.md): that is 0.
  return Object.fromEntries((out.ProductionVariants ?? []).map((v) => [v.VariantName!, v.DesiredWeight ?? v.CurrentWeight ?? 0]));
}

function sagemakerCallsSince(start: number): string[] {
  return proxy.calls.slice(start).filter((c) => c.service === 'sagemaker').map((c) => `${c.operation}:${c.outcome}`);
}

/** A setup where the controller's SageMaker calls go through the proxy. */
async function setup() {
  const clock = new FakeClock();
  const deps = runtimeDeps({ tableName, clock, sagemaker: sagemakerClient({ endpoint: proxy.url }) });
  const canary = await deployCanary(runtimeDeps({ tableName, clock }));
  const handler = makeHandler(() => deps);
  return { clock, deps, canary, handler };
}

test('an alarm sends the canary to 0 % and production to 100 %, with one describe and one update', async () => {
  const { clock, canary, handler } = await setup();
  expect(await weightsOf(canary.endpointName)).toEqual({ production: 90, candidate: 10 });
  await setAlarmState(canary.alarms[0], 'ALARM');

  const start = proxy.calls.length;
  const result = await handler(alarmEvent(canary.alarms[0], clock.now()), context);

  expect(result).toBe(`${canary.endpointName}: rolled-back`);
  expect(await weightsOf(canary.endpointName)).toEqual({ production: 100, candidate: 0 });
  expect(sagemakerCallsSince(start)).toEqual(['DescribeEndpoint:forwarded', 'UpdateEndpointWeightsAndCapacities:forwarded']);
});

test('the rollback is announced on the topic and as a "Canary Rolled Back" event with the details', async () => {
  const { clock, canary, handler } = await setup();
  await handler(alarmEvent(canary.alarms[1], clock.now()), context);

  const events = await canary.inbox.events();
  const rolledBack = events.filter((e) => e['detail-type'] === 'Canary Rolled Back');
  expect(rolledBack).toHaveLength(1);
  expect(rolledBack[0].source).toBe('cdk-sagemaker-rollout');
  expect(rolledBack[0].detail).toEqual(expect.objectContaining({
    endpointName: canary.endpointName,
    alarmName: canary.alarms[1],
    variants: { production: 'production', candidate: 'candidate', candidateModel: canary.spec.candidateModelName },
    weightsBefore: { production: 90, candidate: 10 },
    weightsAfter: { production: 100, candidate: 0 },
    reason: expect.stringContaining(`alarm ${canary.alarms[1]} in ALARM: Threshold Crossed`),
    time: clock.now().toISOString(),
  }));

  const notifications = await canary.inbox.notifications();
  expect(notifications).toHaveLength(1);
  expect(notifications[0].Subject).toBe(`[Canary Rolled Back] ${canary.endpointName}: canary rolled back from 10% to 0% (${canary.alarms[1]})`.slice(0, 100));
  expect(notifications[0].Message).toContain(`npx cdk-sagemaker-rollout status ${canary.endpointName}`);
});

test('a duplicate or late event makes no second update', async () => {
  const { clock, canary, handler } = await setup();
  await handler(alarmEvent(canary.alarms[0], clock.now()), context);
  await canary.inbox.events();

  const start = proxy.calls.length;
  clock.advance(60_000);
  const again = await handler(alarmEvent(canary.alarms[0], clock.now()), context);
  const other = await handler(alarmEvent(canary.alarms[1], clock.now()), context);

  expect(again).toBe(`${canary.endpointName}: already-rolled-back`);
  expect(other).toBe(`${canary.endpointName}: already-rolled-back`);
  expect(sagemakerCallsSince(start)).toEqual(['DescribeEndpoint:forwarded', 'DescribeEndpoint:forwarded']);
  expect(await canary.inbox.events()).toEqual([]);
});

test('an endpoint busy twice and then free is rolled back', async () => {
  const { clock, canary, handler } = await setup();
  proxy.failNext(2, { fault: 'busy-endpoint', operation: 'UpdateEndpointWeightsAndCapacities' });
  const start = proxy.calls.length;

  await handler(alarmEvent(canary.alarms[0], clock.now()), context);

  expect(await weightsOf(canary.endpointName)).toEqual({ production: 100, candidate: 0 });
  expect(sagemakerCallsSince(start)).toEqual([
    'DescribeEndpoint:forwarded',
    'UpdateEndpointWeightsAndCapacities:busy-endpoint',
    'UpdateEndpointWeightsAndCapacities:busy-endpoint',
    'UpdateEndpointWeightsAndCapacities:forwarded',
  ]);
  expect(clock.sleeps.length).toBe(2);
});

test('throttling is survived: the SDK retries, then the controller backs off and retries', async () => {
  const { clock, canary, handler } = await setup();
  proxy.failNext(5, { fault: 'throttling', operation: 'UpdateEndpointWeightsAndCapacities' });
  const start = proxy.calls.length;

  await handler(alarmEvent(canary.alarms[0], clock.now()), context);

  expect(await weightsOf(canary.endpointName)).toEqual({ production: 100, candidate: 0 });
  const updates = sagemakerCallsSince(start).filter((c) => c.startsWith('UpdateEndpointWeightsAndCapacities'));
  expect(updates.filter((c) => c.endsWith(':throttling'))).toHaveLength(5);
  expect(updates[updates.length - 1]).toBe('UpdateEndpointWeightsAndCapacities:forwarded');
}, 30_000);

test('an alarm of another endpoint or another stack is ignored, without a SageMaker call', async () => {
  const { clock, canary, handler } = await setup();
  const start = proxy.calls.length;
  const stranger = uniqueName('OtherStack-rollout-x');

  const result = await handler(alarmEvent(stranger, clock.now()), context);

  expect(result).toBe(`alarm ${stranger} guards no registered candidate of this stack: ignored`);
  expect(sagemakerCallsSince(start)).toEqual([]);
  expect(await weightsOf(canary.endpointName)).toEqual({ production: 90, candidate: 10 });
});

test('an alarm going back to OK changes nothing', async () => {
  const { clock, canary, handler } = await setup();
  const result = await handler(alarmEvent(canary.alarms[0], clock.now(), 'OK'), context);
  expect(result).toBe(`alarm ${canary.alarms[0]} is OK: nothing to do`);
  expect(await weightsOf(canary.endpointName)).toEqual({ production: 90, candidate: 10 });
});

test('an unknown endpoint gives a clear error and changes nothing', async () => {
  const { clock, deps, canary } = await setup();
  // The registration points at an endpoint that does not exist (deleted by hand, say).
  const ghost = uniqueName('ghost');
  await deps.store.putSpec(ghost, { ...canary.spec, endpointConfigName: 'gone', registeredAt: clock.now().toISOString() });
  await deps.store.putState({ ...(await deps.store.getState(canary.endpointName))!.value, endpointName: ghost }, undefined);
  await deps.store.putAlarmIndex('ghost-alarm', ghost);
  const start = proxy.calls.length;

  await expect(makeHandler(() => deps)(alarmEvent('ghost-alarm', clock.now()), context))
    .rejects.toThrow(`endpoint "${ghost}" does not exist in this account and region`);
  expect(sagemakerCallsSince(start)).toEqual(['DescribeEndpoint:forwarded']);
  expect((await deps.store.getState(ghost))!.value.status).toBe('active');
});

test('a rollback stays: a later deployment that resets the weights is undone when the endpoint is back in service', async () => {
  const { clock, canary, handler } = await setup();
  await handler(alarmEvent(canary.alarms[0], clock.now()), context);
  await canary.inbox.events();
  await canary.inbox.notifications();

  // A `cdk deploy` that replaced the config for another reason resets the weights to the template's.
  await sagemakerClient().send(new UpdateEndpointWeightsAndCapacitiesCommand({
    EndpointName: canary.endpointName,
    DesiredWeightsAndCapacities: [{ VariantName: 'production', DesiredWeight: 90 }, { VariantName: 'candidate', DesiredWeight: 10 }],
  }));
  clock.advance(15 * 60_000);
  const result = await handler(endpointStateEvent(canary.endpointName, canary.endpointConfigName, clock.now()), context);

  expect(result).toBe('reapplied');
  expect(await weightsOf(canary.endpointName)).toEqual({ production: 100, candidate: 0 });
  const events = await canary.inbox.events();
  expect(events.map((e) => e['detail-type'])).toEqual(['Canary Rollback Reapplied']);
  expect(events[0].detail.weightsBefore).toEqual({ production: 90, candidate: 10 });
  expect((await canary.inbox.notifications())[0].Message).toContain('The controller set it to 0% again');
});

test('an endpoint coming back in service with the weights it should have is left alone', async () => {
  const { clock, canary, handler } = await setup();
  const start = proxy.calls.length;
  const result = await handler(endpointStateEvent(canary.endpointName, canary.endpointConfigName, clock.now()), context);
  expect(result).toBe('in-sync');
  expect(sagemakerCallsSince(start)).toEqual(['DescribeEndpoint:forwarded']);
});

test('a state change of an endpoint this stack does not manage is ignored', async () => {
  const { clock, handler } = await setup();
  const start = proxy.calls.length;
  expect(await handler(endpointStateEvent(uniqueName('unmanaged'), 'cfg', clock.now()), context)).toBe('skipped');
  expect(sagemakerCallsSince(start)).toEqual([]);
});

test('a different candidate model starts a fresh rollout; the same one keeps its rollback', async () => {
  const { clock, deps, canary, handler } = await setup();
  await handler(alarmEvent(canary.alarms[0], clock.now()), context);
  const { register } = await import('../../lib/runtime/rollout');
  const deadline = { final: new Date(clock.now().getTime() + 60_000) };

  const same = await register(deps, canary.endpointName, canary.spec, canary.endpointConfigName, deadline);
  expect(same.status).toBe('rolled-back');

  const fresh = await register(deps, canary.endpointName, { ...canary.spec, candidateModelName: 'another-model' }, canary.endpointConfigName, deadline);
  expect(fresh.status).toBe('active');
  expect(fresh.percent).toBe(10);
});

test('an endpoint busy past the 30-minute deadline: the rollback fails loudly and lands in the dead-letter path', async () => {
  const { clock, deps, canary } = await setup();
  proxy.failNext(1000, { fault: 'busy-endpoint', operation: 'UpdateEndpointWeightsAndCapacities' });
  const deadlines = { final: new Date(clock.now().getTime() + 30 * 60_000) };
  try {
    await expect(rollBack(deps, canary.endpointName, { by: 'alarm', actor: 'controller', alarmName: canary.alarms[0], reason: 'test' }, deadlines))
      .rejects.toThrow(RollbackFailedError);
  } finally {
    proxy.clearFaults();
  }
  expect(clock.now().getTime()).toBeLessThanOrEqual(deadlines.final.getTime());
  const events = await canary.inbox.events();
  expect(events.map((e) => e['detail-type'])).toEqual(['Canary Rollback Failed']);
  expect((await canary.inbox.notifications())[0].Message).toContain(`npx cdk-sagemaker-rollout rollback ${canary.endpointName}`);
  // The state says rolled back, so the next time the endpoint is in service the rollback is applied.
  expect((await deps.store.getState(canary.endpointName))!.value.status).toBe('rolled-back');
}, 60_000);

test('when the invocation runs out before the deadline, the event is retried later (not dropped)', async () => {
  const { clock, deps, canary } = await setup();
  proxy.failNext(1000, { fault: 'busy-endpoint', operation: 'UpdateEndpointWeightsAndCapacities' });
  try {
    await expect(rollBack(deps, canary.endpointName, { by: 'alarm', actor: 'controller', reason: 'test' }, {
      final: new Date(clock.now().getTime() + 30 * 60_000), attempt: new Date(clock.now().getTime() + 60_000),
    })).rejects.toThrow(RetryLaterError);
  } finally {
    proxy.clearFaults();
  }
  expect(await canary.inbox.events()).toEqual([]);
});
