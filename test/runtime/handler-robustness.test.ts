import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { refuseResponseUrl } from '../../lib/runtime/custom-resource';
import { makeHandler } from '../../lib/runtime/handler';
import { FaultProxy } from '../support/fault-proxy';
import { sagemakerClient, setAlarmState } from '../support/emulator';
import { alarmEvent, createStateTable, deployCanary, endpointStateEvent, FakeClock, runtimeDeps } from './fixture';

/**
 * Events the controller must refuse, with a clear message and without touching traffic: crafted or
 * broken events, events of another account or region, and custom-resource events whose answer
 * would go somewhere CloudFormation never points. The canary is live at 90/10 with its alarm in
 * ALARM, so any call that got through would roll it back: every test checks it did not.
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
  return Object.fromEntries((out.ProductionVariants ?? []).map((v) => [v.VariantName!, v.DesiredWeight ?? v.CurrentWeight ?? 0]));
}

async function setup() {
  const clock = new FakeClock();
  const sent: string[] = [];
  const deps = {
    ...runtimeDeps({ tableName, clock, sagemaker: sagemakerClient({ endpoint: proxy.url }) }),
    send: async (url: URL) => { sent.push(url.toString()); },
  };
  const canary = await deployCanary(runtimeDeps({ tableName, clock }));
  await setAlarmState(canary.alarms[0], 'ALARM');
  return { clock, canary, sent, handler: makeHandler(() => deps), start: proxy.calls.length };
}

function sagemakerCallsSince(start: number): string[] {
  return proxy.calls.slice(start).filter((c) => c.service === 'sagemaker').map((c) => c.operation);
}

describe('malformed events: a clear message, no AWS call, no change to traffic', () => {
  test('a null event', async () => {
    const { canary, handler, start } = await setup();
    await expect(handler(null, context)).rejects.toThrow('the controller takes EventBridge and CloudFormation events, got null: nothing was changed');
    expect(sagemakerCallsSince(start)).toEqual([]);
    expect(await weightsOf(canary.endpointName)).toEqual({ production: 90, candidate: 10 });
  });

  test('an alarm event whose time is not a date', async () => {
    const { clock, canary, handler, start } = await setup();
    const event = { ...alarmEvent(canary.alarms[0], clock.now()), time: 'yesterday-ish' };
    await expect(handler(event, context)).rejects.toThrow(
      `alarm event for ${canary.alarms[0]} has a time that is not a date (a string ("yesterday-ish")): nothing was changed`);
    expect(sagemakerCallsSince(start)).toEqual([]);
    expect(await weightsOf(canary.endpointName)).toEqual({ production: 90, candidate: 10 });
  });

  test('an alarm event whose alarmName is not a string', async () => {
    const { clock, canary, handler, start } = await setup();
    const event = alarmEvent(canary.alarms[0], clock.now());
    const detail = { ...(event.detail as Record<string, unknown>), alarmName: [canary.alarms[0]] };
    await expect(handler({ ...event, detail }, context)).rejects.toThrow('alarm event with detail.alarmName an array, not an alarm name: nothing was changed');
    await expect(handler({ ...event, detail: { ...detail, alarmName: 42 } }, context)).rejects.toThrow(
      'alarm event with detail.alarmName a number (42), not an alarm name: nothing was changed');
    expect(sagemakerCallsSince(start)).toEqual([]);
    expect(await weightsOf(canary.endpointName)).toEqual({ production: 90, candidate: 10 });
  });

  test('an endpoint event whose EndpointName is not a string', async () => {
    const { clock, canary, handler, start } = await setup();
    const event = endpointStateEvent(canary.endpointName, canary.endpointConfigName, clock.now());
    await expect(handler({ ...event, detail: { ...(event.detail as object), EndpointName: { name: canary.endpointName } } }, context)).rejects.toThrow(
      'endpoint event with detail.EndpointName an object, not an endpoint name: nothing was changed');
    expect(sagemakerCallsSince(start)).toEqual([]);
  });
});

describe('events of another account or region are ignored', () => {
  test('an alarm event from another account makes no SageMaker call', async () => {
    const { clock, canary, handler, start } = await setup();
    const result = await handler({ ...alarmEvent(canary.alarms[0], clock.now()), account: '210987654321' }, context);
    expect(result).toBe('ignored a CloudWatch Alarm State Change event from account 210987654321: this controller serves account 123456789012 only');
    expect(sagemakerCallsSince(start)).toEqual([]);
    expect(await weightsOf(canary.endpointName)).toEqual({ production: 90, candidate: 10 });
  });

  test('an alarm event from another region, or with no account, is ignored too', async () => {
    const { clock, canary, handler, start } = await setup();
    expect(await handler({ ...alarmEvent(canary.alarms[0], clock.now()), region: 'eu-west-1' }, context))
      .toBe('ignored a CloudWatch Alarm State Change event from region eu-west-1: this controller serves region us-east-1 only');
    const { account: _account, ...withoutAccount } = alarmEvent(canary.alarms[0], clock.now());
    expect(await handler(withoutAccount, context))
      .toBe('ignored a CloudWatch Alarm State Change event from account (none): this controller serves account 123456789012 only');
    expect(await handler({ ...endpointStateEvent(canary.endpointName, canary.endpointConfigName, clock.now()), account: '210987654321' }, context))
      .toBe('ignored a SageMaker Endpoint State Change event from account 210987654321: this controller serves account 123456789012 only');
    expect(sagemakerCallsSince(start)).toEqual([]);
    expect(await weightsOf(canary.endpointName)).toEqual({ production: 90, candidate: 10 });
  });

  test('the same alarm event from the stack\'s own account and region rolls the canary back', async () => {
    const { clock, canary, handler } = await setup();
    expect(await handler(alarmEvent(canary.alarms[0], clock.now()), context)).toBe(`${canary.endpointName}: rolled-back`);
    expect(await weightsOf(canary.endpointName)).toEqual({ production: 100, candidate: 0 });
  });
});

describe('the custom-resource ResponseURL', () => {
  function deploymentEvent(responseUrl: string, endpointName: string) {
    return {
      RequestType: 'Update', ResponseURL: responseUrl,
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Service/guid', RequestId: 'r1', LogicalResourceId: 'Deployment',
      PhysicalResourceId: endpointName, ResourceType: 'Custom::SageMakerRolloutDeployment',
      ResourceProperties: { ServiceToken: 'x', Spec: JSON.stringify({ endpointName, endpointConfigName: 'c', verify: true, rollbackAlarmNames: [] }) },
    };
  }

  test.each([
    ['plain HTTP', 'http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=a', 'its scheme is http, not https'],
    ['a host that is not S3', 'https://attacker.example.com/x?X-Amz-Signature=a', 'its host attacker.example.com is not an Amazon S3 endpoint'],
    ['an S3 look-alike', 'https://s3.amazonaws.com.attacker.example/x?X-Amz-Signature=a', 'its host s3.amazonaws.com.attacker.example is not an Amazon S3 endpoint'],
    ['the instance metadata service', 'http://169.254.169.254/latest/meta-data/', 'its scheme is http, not https'],
    ['an unsigned S3 URL', 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x', 'it is not pre-signed (no Signature or X-Amz-Signature)'],
    ['another port', 'https://bucket.s3.us-east-1.amazonaws.com:8443/x?X-Amz-Signature=a', 'its port is 8443, not 443'],
    ['not a URL', 'not a url', 'it is not a URL'],
  ])('refuses %s without any request', async (_what, url, why) => {
    const { canary, handler, sent, start } = await setup();
    await expect(handler(deploymentEvent(url, canary.endpointName), context)).rejects.toThrow(
      `custom resource event with a ResponseURL that CloudFormation cannot have sent (${why}): nothing was changed and no answer was sent`);
    expect(sent).toEqual([]);
    expect(sagemakerCallsSince(start)).toEqual([]);
  });

  test.each([
    'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation/x?AWSAccessKeyId=A&Expires=1&Signature=s',
    'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=s',
    'https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x?X-Amz-Signature=s',
    'https://cloudformation-custom-resource-response-usgovwest1.s3-us-gov-west-1.amazonaws.com/x?Signature=s',
    'https://s3.us-east-1.amazonaws.com/cloudformation-custom-resource-response-useast1/x?X-Amz-Signature=s',
  ])('accepts the pre-signed S3 URL %s', async (url) => {
    expect(refuseResponseUrl(url)).toBeUndefined();
    const { canary, handler, sent } = await setup();
    await handler(deploymentEvent(url, canary.endpointName), context);
    expect(sent).toEqual([url]);
  });
});
