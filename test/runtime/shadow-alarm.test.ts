import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { makeHandler } from '../../lib/runtime/handler';
import { register } from '../../lib/runtime/rollout';
import { FaultProxy } from '../support/fault-proxy';
import { createAlarm, createCanaryEndpoint, sagemakerClient, uniqueName } from '../support/emulator';
import { alarmEvent, AnnouncementInbox, createStateTable, FakeClock, runtimeDeps } from './fixture';

/**
 * A shadow's alarms notify and never change traffic. (moto drops ShadowProductionVariants, so the
 * endpoint here has two production variants standing in for production and shadow; the controller
 * only reads the registration, which says "shadow".)
 */
test('a shadow alarm is announced as "Shadow Alarm" and no SageMaker call is made', async () => {
  const proxy = await FaultProxy.start();
  try {
    const clock = new FakeClock();
    const deps = runtimeDeps({ tableName: await createStateTable(), clock, sagemaker: sagemakerClient({ endpoint: proxy.url }) });
    const endpoint = await createCanaryEndpoint({ prefix: 'shadowed', production: { weight: 1 }, candidate: { variantName: 'shadow', weight: 1 } });
    const alarm = uniqueName('Stack-rollout-shadow-5xx');
    await createAlarm({ name: alarm, endpointName: endpoint.endpointName, variantName: 'shadow' });
    const inbox = await AnnouncementInbox.create(endpoint.endpointName);
    await register(deps, endpoint.endpointName, {
      kind: 'shadow', productionVariant: 'production', candidateVariant: 'shadow', candidateModelName: endpoint.candidate.modelName,
      candidateModelPath: 'Stack/V2', initialPercent: 100, alarmNames: [alarm], topicArn: inbox.topicArn,
    }, endpoint.endpointConfigName, { final: new Date(clock.now().getTime() + 60_000) });
    const start = proxy.calls.length;

    const result = await makeHandler(() => deps)(alarmEvent(alarm, clock.now()), { getRemainingTimeInMillis: () => 600_000 });

    expect(result).toBe(`shadow alarm ${alarm} of ${endpoint.endpointName} announced`);
    expect(proxy.calls.slice(start).filter((c) => c.service === 'sagemaker')).toEqual([]);
    const events = await inbox.events();
    expect(events.map((e) => e['detail-type'])).toEqual(['Shadow Alarm']);
    expect(events[0].detail).toEqual(expect.objectContaining({ alarmName: alarm, variants: expect.objectContaining({ candidate: 'shadow' }) }));
    expect((await inbox.notifications())[0].Message).toContain('Users are not affected: production answers every request.');
    const live = await sagemakerClient().send(new DescribeEndpointCommand({ EndpointName: endpoint.endpointName }));
    expect(live.ProductionVariants!.map((v) => v.CurrentWeight)).toEqual([1, 1]);
  } finally {
    await proxy.stop();
  }
});
