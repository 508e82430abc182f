import * as http from 'http';
import { AddressInfo } from 'net';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { checkDeployment } from '../../lib/runtime/deployment-check';
import { makeHandler } from '../../lib/runtime/handler';
import { DeploymentSpec } from '../../lib/runtime/spec';
import { FaultProxy } from '../support/fault-proxy';
import { cloudWatchClient, createAlarm, createCanaryEndpoint, createEndpointConfig, sagemakerClient, setAlarmState, uniqueName } from '../support/emulator';
import { AnnouncementInbox, createStateTable, FakeClock, runtimeDeps } from './fixture';

/**
 * The post-deploy check, as CloudFormation runs it: a custom resource event whose answer goes to
 * a pre-signed URL (here a loopback server that records it), against the emulator's endpoints.
 */
interface CfnAnswer { Status: string; Reason: string; PhysicalResourceId: string; Data: Record<string, string> }
let server: http.Server;
let answers: CfnAnswer[] = [];
/** Where CloudFormation's answers arrive here: the handler accepts the S3 URL, and `send` delivers to loopback. */
const responseUrl = 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/Service/guid%7CRecommenderDeployment71C652F6%7Crequest?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc';
let loopbackUrl: string;
const sentTo: string[] = [];
/** Delivers an answer to the loopback server, as the real sender would to S3. */
async function sendToLoopback(url: URL, body: string): Promise<void> {
  sentTo.push(url.toString());
  await fetch(`${loopbackUrl}${url.pathname}${url.search}`, { method: 'PUT', body });
}
let proxy: FaultProxy;
let tableName: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      answers.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  loopbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy = await FaultProxy.start();
  tableName = await createStateTable();
});
afterAll(async () => {
  await proxy.stop();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => { answers = []; });

function event(requestType: 'Create' | 'Update' | 'Delete', spec: DeploymentSpec, old?: DeploymentSpec) {
  return {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Service/guid',
    RequestId: uniqueName('request'),
    LogicalResourceId: 'RecommenderDeployment71C652F6',
    PhysicalResourceId: requestType === 'Create' ? undefined : spec.endpointName,
    ResourceType: 'Custom::SageMakerRolloutDeployment',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:controller', Spec: JSON.stringify(spec) },
    OldResourceProperties: old ? { ServiceToken: 'x', Spec: JSON.stringify(old) } : undefined,
  };
}

async function deployed() {
  const endpoint = await createCanaryEndpoint({ prefix: 'bluegreen' });
  const alarm = uniqueName('Service-rollout-5xx');
  await createAlarm({ name: alarm, endpointName: endpoint.endpointName, variantName: 'production' });
  const inbox = await AnnouncementInbox.create(endpoint.endpointName);
  const clock = new FakeClock();
  const deps = { ...runtimeDeps({ tableName, clock, sagemaker: sagemakerClient({ endpoint: proxy.url }) }), send: sendToLoopback };
  return { endpoint, alarm, inbox, deps, handler: makeHandler(() => deps) };
}

test('the endpoint runs the config just deployed: success, with one describe', async () => {
  const { endpoint, alarm, handler } = await deployed();
  const start = proxy.calls.length;
  await handler(event('Update', { endpointName: endpoint.endpointName, endpointConfigName: endpoint.endpointConfigName, verify: true, rollbackAlarmNames: [alarm] }));
  expect(answers).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: endpoint.endpointName, Data: { EndpointConfigName: endpoint.endpointConfigName } })]);
  expect(proxy.calls.slice(start).map((c) => c.operation)).toEqual(['DescribeEndpoint']);
});

test('SageMaker rolled the deployment back on its own: the deployment fails, naming the alarm, and it is announced', async () => {
  const { endpoint, alarm, inbox, handler } = await deployed();
  const newConfig = uniqueName('config-v2');
  await createEndpointConfig({ name: newConfig, variants: [{ variantName: 'production', modelName: endpoint.production.modelName, weight: 1 }] });
  await setAlarmState(alarm, 'ALARM', 'Threshold Crossed');

  await handler(event('Update', { endpointName: endpoint.endpointName, endpointConfigName: newConfig, verify: true, rollbackAlarmNames: [alarm], topicArn: inbox.topicArn }));

  expect(answers).toHaveLength(1);
  expect(answers[0].Status).toBe('FAILED');
  expect(answers[0].Reason).toBe(
    `SageMaker rolled the deployment of ${endpoint.endpointName} back: the endpoint runs endpoint config ${endpoint.endpointConfigName}, not ${newConfig} `
    + `(rollback alarm(s) in ALARM: ${alarm}; SageMaker gave no FailureReason). `
    + 'Failing the deployment so that CloudFormation rolls the stack back instead of deleting the config the endpoint still runs.');
  const events = await inbox.events();
  expect(events.map((e) => e['detail-type'])).toEqual(['Deployment Rolled Back By SageMaker']);
  expect(events[0].detail).toEqual(expect.objectContaining({ expectedConfig: newConfig, liveConfig: endpoint.endpointConfigName, firingAlarms: [alarm] }));
});

test('a rollback whose alarm has recovered still fails the deployment, and says that no alarm is firing now', async () => {
  const { endpoint, alarm, handler } = await deployed();
  await handler(event('Update', { endpointName: endpoint.endpointName, endpointConfigName: 'config-that-was-rolled-back', verify: true, rollbackAlarmNames: [alarm] }));
  expect(answers[0].Status).toBe('FAILED');
  expect(answers[0].Reason).toContain('no rollback alarm is in ALARM now (it may have fired during the bake and recovered since)');
});

test('a missing endpoint fails the deployment with a clear reason', async () => {
  const { handler } = await deployed();
  const ghost = uniqueName('ghost');
  await handler(event('Create', { endpointName: ghost, endpointConfigName: 'c', verify: true, rollbackAlarmNames: [] }));
  expect(answers[0]).toEqual(expect.objectContaining({ Status: 'FAILED', Reason: `endpoint "${ghost}" does not exist in this account and region` }));
});

test('with verification off, nothing is described', async () => {
  const { endpoint, handler } = await deployed();
  const start = proxy.calls.length;
  await handler(event('Update', { endpointName: endpoint.endpointName, endpointConfigName: 'anything', verify: false, rollbackAlarmNames: [] }));
  expect(answers[0].Status).toBe('SUCCESS');
  expect(proxy.calls.slice(start)).toEqual([]);
});

test('a delete always succeeds, even when nothing can be read', async () => {
  const { handler } = await deployed();
  await handler(event('Delete', { endpointName: uniqueName('gone'), endpointConfigName: 'c', verify: true, rollbackAlarmNames: [] }));
  expect(answers[0].Status).toBe('SUCCESS');
});

test('the deployment registers a canary, and removing the candidate unregisters it', async () => {
  const { endpoint, alarm, deps, handler } = await deployed();
  const rollout = {
    kind: 'canary' as const, productionVariant: 'production', candidateVariant: 'candidate', candidateModelName: endpoint.candidate.modelName,
    candidateModelPath: 'Service/V2', initialPercent: 10, alarmNames: [alarm],
  };
  const spec = { endpointName: endpoint.endpointName, endpointConfigName: endpoint.endpointConfigName, verify: true, rollbackAlarmNames: [alarm], rollout };
  await handler(event('Create', spec));
  expect(answers[0].Status).toBe('SUCCESS');
  expect(await deps.store.getSpec(endpoint.endpointName)).toEqual(expect.objectContaining({ candidateModelName: endpoint.candidate.modelName, endpointConfigName: endpoint.endpointConfigName }));
  expect(await deps.store.endpointOfAlarm(alarm)).toBe(endpoint.endpointName);

  await handler(event('Update', { ...spec, rollout: undefined }, spec));
  expect(answers[1].Status).toBe('SUCCESS');
  expect(await deps.store.getSpec(endpoint.endpointName)).toBeUndefined();
  expect(await deps.store.endpointOfAlarm(alarm)).toBeUndefined();
  expect((await deps.store.history(endpoint.endpointName, 1))[0].action).toBe('ended');
});

describe('a deployment that adds or removes a candidate (a change of variants SageMaker may not guard)', () => {
  test('the endpoint serves the new config\'s variants: success, and the change is logged', async () => {
    const endpoint = await createCanaryEndpoint({ prefix: 'variants' });
    const logs: string[] = [];
    const handler = makeHandler(() => ({ ...runtimeDeps({ tableName, clock: new FakeClock(), logs }), send: sendToLoopback }));
    const spec = { endpointName: endpoint.endpointName, endpointConfigName: endpoint.endpointConfigName, verify: true, rollbackAlarmNames: [] };
    await handler(event('Update', { ...spec, variantNames: ['production', 'candidate'] }, { ...spec, endpointConfigName: 'before', variantNames: ['production'] }));
    expect(answers[0].Status).toBe('SUCCESS');
    expect(logs).toContain(`deployment of ${endpoint.endpointConfigName} changes the variants of ${endpoint.endpointName} (production -> production, candidate); `
      + 'SageMaker\'s guardrails may not guard such an update');
  });

  test('the endpoint runs the new config but not with its variants: the deployment fails', async () => {
    // The emulator's endpoint serves production and candidate; the deployed config is said to have production alone.
    const endpoint = await createCanaryEndpoint({ prefix: 'variants' });
    const handler = makeHandler(() => ({ ...runtimeDeps({ tableName, clock: new FakeClock() }), send: sendToLoopback }));
    await handler(event('Update', { endpointName: endpoint.endpointName, endpointConfigName: endpoint.endpointConfigName, variantNames: ['production'], verify: true, rollbackAlarmNames: [] }));
    expect(answers[0]).toEqual(expect.objectContaining({
      Status: 'FAILED',
      Reason: `endpoint ${endpoint.endpointName} runs endpoint config ${endpoint.endpointConfigName} but serves the variants [production, candidate], not the config's [production]: `
        + 'the change of variants did not take effect as deployed. Failing the deployment so that CloudFormation rolls the stack back.',
    }));
  });

  test('an unchanged set of variants logs nothing about variants', async () => {
    const endpoint = await createCanaryEndpoint({ prefix: 'variants' });
    const logs: string[] = [];
    const handler = makeHandler(() => ({ ...runtimeDeps({ tableName, clock: new FakeClock(), logs }), send: sendToLoopback }));
    const spec = { endpointName: endpoint.endpointName, endpointConfigName: endpoint.endpointConfigName, variantNames: ['candidate', 'production'], verify: true, rollbackAlarmNames: [] };
    await handler(event('Update', spec, { ...spec, endpointConfigName: 'before', variantNames: ['production', 'candidate'] }));
    expect(answers[0].Status).toBe('SUCCESS');
    expect(logs.filter((l) => l.includes('changes the variants'))).toEqual([]);
  });
});

/**
 * moto's endpoints are InService at once, so an endpoint still Updating cannot be produced there;
 * this one case uses a scripted client that answers DescribeEndpoint the way SageMaker does.
 */
test('an endpoint still updating is polled until it settles, within the budget', async () => {
  const statuses = ['Updating', 'Updating', 'InService'];
  const scripted = { send: async () => ({ EndpointName: 'e', EndpointStatus: statuses.shift() ?? 'InService', EndpointConfigName: 'new', ProductionVariants: [] }) } as unknown as SageMakerClient;
  const clock = new FakeClock();
  const endpoint = await checkDeployment({ sagemaker: scripted, cloudwatch: cloudWatchClient(), now: clock.now, sleep: clock.sleep },
    { endpointName: 'e', endpointConfigName: 'new', verify: true, rollbackAlarmNames: [] }, 8 * 60_000);
  expect(endpoint.status).toBe('InService');
  expect(clock.sleeps).toEqual([15_000, 15_000]);

  const stuck = { send: async () => ({ EndpointName: 'e', EndpointStatus: 'Updating', EndpointConfigName: 'old', ProductionVariants: [] }) } as unknown as SageMakerClient;
  await expect(checkDeployment({ sagemaker: stuck, cloudwatch: cloudWatchClient(), now: clock.now, sleep: clock.sleep },
    { endpointName: 'e', endpointConfigName: 'new', verify: true, rollbackAlarmNames: [] }, 60_000))
    .rejects.toThrow('endpoint e is still Updating after the deployment: cannot confirm it runs new');
});
