import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { Duration } from 'aws-cdk-lib';
import { CanaryPromotion, Candidate, ModelEndpoint, RollbackAlarms } from '../../lib';
import { makeHandler } from '../../lib/runtime/handler';
import { promote, register, RolloutError } from '../../lib/runtime/rollout';
import { RolloutSpec } from '../../lib/runtime/spec';
import { createAlarm, createCanaryEndpoint, putInvocations, sagemakerClient, setAlarmState } from '../support/emulator';
import { modelV1, modelV2, newStack } from '../unit/util';
import { alarmEvent, AnnouncementInbox, createStateTable, FakeClock, runtimeDeps, scheduledEvent } from './fixture';

/**
 * Relative and quality gates at run time, against the emulator: their alarms are the ones the
 * construct makes (names taken from a synthesized endpoint of the same name), registered as a
 * deployment registers them. moto never evaluates alarms, so ALARM is forced with SetAlarmState.
 */
const context = { getRemainingTimeInMillis: () => 10 * 60 * 1000 };
const MINUTE = 60_000;
let tableName: string;

beforeAll(async () => {
  tableName = await createStateTable();
});

async function candidatePercent(endpointName: string): Promise<number> {
  const out = await sagemakerClient().send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  const w = Object.fromEntries((out.ProductionVariants ?? []).map((v) => [v.VariantName!, v.DesiredWeight ?? v.CurrentWeight ?? 0]));
  return (100 * w.candidate) / (w.candidate + w.production);
}

/** A canary with the recommended alarms, a relative set and a quality gate, registered with a 30-minute promotion schedule. */
async function deployGatedCanary() {
  const clock = new FakeClock(new Date(Date.now() - 3 * 3600_000));
  const deps = runtimeDeps({ tableName, clock });
  const live = await createCanaryEndpoint({ prefix: 'gated', production: { weight: 90 }, candidate: { weight: 10 } });

  const stack = newStack();
  const endpoint = new ModelEndpoint(stack, 'Recommender', {
    endpointName: live.endpointName,
    production: { model: modelV1(stack), instanceCount: 2 },
    candidate: Candidate.canary({
      model: modelV2(stack), trafficPercent: 10,
      promotion: CanaryPromotion.steps([10, 25, 50, 100], { interval: Duration.minutes(30) }),
    }),
    rollbackAlarms: RollbackAlarms.combine(
      RollbackAlarms.recommended(),
      RollbackAlarms.relative({ maxErrorRateIncreasePoints: 1, maxLatencyIncreasePercent: 25, minInvocations: 100 }),
      RollbackAlarms.quality({ metricNamespace: 'Recommender', metricName: 'ClickThrough', higherIsBetter: true, maxDropPercent: 10, minSamples: 200 }),
    ),
  });
  const names = endpoint.rollbackAlarmNames;
  const relative = names.find((n) => n.endsWith('-relative-InvocationModelErrors-rate'))!;
  const quality = names.find((n) => n.endsWith('-quality-Recommender-ClickThrough-Average'))!;
  for (const name of names) await createAlarm({ name, endpointName: live.endpointName, variantName: 'candidate' });

  const inbox = await AnnouncementInbox.create(live.endpointName);
  const spec: RolloutSpec = {
    kind: 'canary',
    productionVariant: endpoint.productionVariantName,
    candidateVariant: endpoint.candidateVariantName!,
    candidateModelName: live.candidate.modelName,
    candidateModelPath: 'TestStack/RecommenderV2',
    initialPercent: 10,
    promotion: { steps: [10, 25, 50, 100], intervalSeconds: 30 * 60, minInvocations: 100 },
    // Exactly what the construct registers: every rollback alarm, the gates among them.
    alarmNames: names,
    topicArn: inbox.topicArn,
  };
  await register(deps, live.endpointName, spec, live.endpointConfigName, { final: new Date(clock.now().getTime() + 60_000) });
  const handler = makeHandler(() => deps);
  /** Lets a whole promotion interval pass with enough candidate requests, then ticks. */
  const stepIsDue = async () => {
    clock.advance(15 * MINUTE);
    await putInvocations({ endpointName: live.endpointName, variantName: 'candidate', count: 500, timestamp: clock.now() });
    clock.advance(16 * MINUTE);
  };
  const tick = async () => {
    const results = await handler(scheduledEvent(clock.now()), context) as { endpointName: string; decision: string; reason: string }[];
    return results.find((r) => r.endpointName === live.endpointName)!;
  };
  return { clock, deps, handler, endpointName: live.endpointName, names, relative, quality, inbox, stepIsDue, tick };
}

test('the gates are among the alarms the construct registers', async () => {
  const { names, relative, quality } = await deployGatedCanary();
  expect(names).toHaveLength(5);
  expect(names).toEqual(expect.arrayContaining([relative, quality]));
});

test('a quality gate in ALARM rolls the canary back and says which gate', async () => {
  const { clock, handler, endpointName, quality, inbox } = await deployGatedCanary();
  expect(await candidatePercent(endpointName)).toBe(10);
  await setAlarmState(quality, 'ALARM');

  const result = await handler(alarmEvent(quality, clock.now()), context);

  expect(result).toBe(`${endpointName}: rolled-back`);
  expect(await candidatePercent(endpointName)).toBe(0);
  const rolledBack = (await inbox.events()).filter((e) => e['detail-type'] === 'Canary Rolled Back');
  expect(rolledBack).toHaveLength(1);
  expect(rolledBack[0].detail.alarmName).toBe(quality);
});

test('a relative alarm in ALARM holds promotion: an operator\'s promote is refused and the due step rolls back instead', async () => {
  const { deps, clock, endpointName, relative, stepIsDue, tick } = await deployGatedCanary();
  await stepIsDue();
  await setAlarmState(relative, 'ALARM');

  await expect(promote(deps, endpointName, 'alice', undefined, { final: new Date(clock.now().getTime() + 60_000) }))
    .rejects.toEqual(new RolloutError(`alarm ${relative} is in ALARM: an alarm always wins over a promotion`, 'alarm'));
  expect(await candidatePercent(endpointName)).toBe(10);

  const result = await tick();
  expect(result).toEqual(expect.objectContaining({ decision: 'rollback', reason: `alarm ${relative} in ALARM` }));
  expect(await candidatePercent(endpointName)).toBe(0);
  expect((await deps.store.getState(endpointName))!.value.status).toBe('rolled-back');
});

test('with every gate OK, the same due step is taken', async () => {
  const { endpointName, stepIsDue, tick } = await deployGatedCanary();
  await stepIsDue();
  expect((await tick()).decision).toBe('advance');
  expect(await candidatePercent(endpointName)).toBe(25);
});
