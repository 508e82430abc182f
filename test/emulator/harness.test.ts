/**
 * The test harness itself: the environment globalSetup hands to workers, the Python tools, the
 * SageMaker and CloudWatch fixtures against moto, and the fault proxy.
 */
import { execFile } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListModelsCommand,
  ProductionVariantSummary,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import {
  cloudWatchClient,
  createAlarm,
  createCanaryEndpoint,
  CanaryEndpoint,
  putInvocations,
  resetEmulator,
  sagemakerClient,
  setAlarmState,
  snsClient,
  uniqueName,
} from '../support/emulator';
import { FaultProxy } from '../support/fault-proxy';
import { startMotoServer } from '../support/moto-server';
import { PROJECT_ROOT, VENVS_DIR, VENV_NAMES, venvExecutable } from '../support/python-tools';

const run = promisify(execFile);
const sagemaker = sagemakerClient();
const cloudwatch = cloudWatchClient();

/** Weights and instance counts of an endpoint's variants, as moto reports them. */
async function variantsOf(endpointName: string): Promise<ProductionVariantSummary[]> {
  const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  return endpoint.ProductionVariants ?? [];
}

function weightUpdate(canary: CanaryEndpoint, productionWeight: number, candidateWeight: number): UpdateEndpointWeightsAndCapacitiesCommand {
  // Counts are always sent: moto drops a variant's counts when an update leaves them out.
  return new UpdateEndpointWeightsAndCapacitiesCommand({
    EndpointName: canary.endpointName,
    DesiredWeightsAndCapacities: [
      { VariantName: canary.production.variantName, DesiredWeight: productionWeight, DesiredInstanceCount: 1 },
      { VariantName: canary.candidate.variantName, DesiredWeight: candidateWeight, DesiredInstanceCount: 1 },
    ],
  });
}

describe('global setup', () => {
  test('hands the emulator environment to the test worker', async () => {
    expect(process.env.JEST_WORKER_ID).toBeDefined();
    expect(process.env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      ROLLOUT_VENVS_DIR: VENVS_DIR,
    });
    const response = await fetch(`${process.env.AWS_ENDPOINT_URL}/moto-api/`);
    await response.arrayBuffer();
    expect(response.status).toBe(200);
  });

  test.each(VENV_NAMES)('installs %s at the version pinned in requirements/', async (name) => {
    const requirements = await fs.readFile(path.join(PROJECT_ROOT, 'requirements', `${name}.txt`), 'utf8');
    const pin = /^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)$/m.exec(requirements);
    expect(pin).not.toBeNull();
    const [, distribution, version] = pin!;

    // The version from the package metadata: asking the tools themselves takes seconds (checkov).
    const { stdout } = await run(venvExecutable(name, 'python'), [
      '-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(distribution)}))`,
    ]);
    expect(stdout.trim()).toBe(version);
    const executable = name === 'moto' ? 'moto_server' : name;
    await expect(fs.access(venvExecutable(name, executable), fsConstants.X_OK)).resolves.toBeUndefined();
  });
});

describe('SageMaker fixtures', () => {
  test('a canary endpoint with two variants reads back through DescribeEndpoint', async () => {
    const canary = await createCanaryEndpoint({
      production: { weight: 0.9, instanceCount: 2, instanceType: 'ml.m5.xlarge' },
      candidate: { weight: 0.1 },
    });

    const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName }));
    expect(endpoint.EndpointStatus).toBe('InService');
    expect(endpoint.EndpointConfigName).toBe(canary.endpointConfigName);
    expect(endpoint.ProductionVariants).toEqual([
      expect.objectContaining({ VariantName: 'production', CurrentWeight: 0.9, DesiredWeight: 0.9, CurrentInstanceCount: 2, DesiredInstanceCount: 2 }),
      expect.objectContaining({ VariantName: 'candidate', CurrentWeight: 0.1, DesiredWeight: 0.1, CurrentInstanceCount: 1, DesiredInstanceCount: 1 }),
    ]);
    const config = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: canary.endpointConfigName }));
    expect(config.ProductionVariants).toEqual([
      expect.objectContaining({ VariantName: 'production', ModelName: canary.production.modelName, InstanceType: 'ml.m5.xlarge' }),
      expect.objectContaining({ VariantName: 'candidate', ModelName: canary.candidate.modelName, InstanceType: 'ml.m5.large' }),
    ]);
  });

  test('a weight update round-trips through moto', async () => {
    const canary = await createCanaryEndpoint();

    await sagemaker.send(weightUpdate(canary, 0.25, 0.75));

    expect(await variantsOf(canary.endpointName)).toEqual([
      expect.objectContaining({ VariantName: 'production', CurrentWeight: 0.25, DesiredWeight: 0.25, DesiredInstanceCount: 1 }),
      expect.objectContaining({ VariantName: 'candidate', CurrentWeight: 0.75, DesiredWeight: 0.75, DesiredInstanceCount: 1 }),
    ]);
  });
});

describe('CloudWatch fixtures', () => {
  test('an alarm forced to ALARM reads back as ALARM, by name and by prefix', async () => {
    const prefix = uniqueName('alarm');
    await createAlarm({ name: `${prefix}-errors`, endpointName: 'ep', variantName: 'candidate' });
    await createAlarm({ name: `${prefix}-latency`, metricName: 'ModelLatency', statistic: 'Average', threshold: 500_000 });

    await setAlarmState(`${prefix}-errors`, 'ALARM', 'forced by the test');

    const byName = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [`${prefix}-errors`] }));
    expect(byName.MetricAlarms).toEqual([
      expect.objectContaining({
        AlarmName: `${prefix}-errors`,
        StateValue: 'ALARM',
        StateReason: 'forced by the test',
        Dimensions: [{ Name: 'EndpointName', Value: 'ep' }, { Name: 'VariantName', Value: 'candidate' }],
      }),
    ]);
    const byPrefix = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix }));
    expect(byPrefix.MetricAlarms?.map((alarm) => [alarm.AlarmName, alarm.StateValue])).toEqual([
      [`${prefix}-errors`, 'ALARM'],
      [`${prefix}-latency`, 'OK'],
    ]);
  });

  test('GetMetricData sums the invocations put with PutMetricData, per minute and per variant', async () => {
    const endpointName = uniqueName('metrics');
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000);
    const nextMinute = new Date(minute.getTime() + 60_000);
    await putInvocations({ endpointName, variantName: 'candidate', count: 10, timestamp: minute });
    await putInvocations({ endpointName, variantName: 'candidate', count: 5, timestamp: new Date(minute.getTime() + 20_000) });
    await putInvocations({ endpointName, variantName: 'candidate', count: 7, timestamp: nextMinute });
    await putInvocations({ endpointName, variantName: 'production', count: 100, timestamp: minute });

    const output = await cloudwatch.send(new GetMetricDataCommand({
      StartTime: new Date(minute.getTime() - 5 * 60_000),
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: [{
        Id: 'invocations',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SageMaker',
            MetricName: 'Invocations',
            Dimensions: [{ Name: 'EndpointName', Value: endpointName }, { Name: 'VariantName', Value: 'candidate' }],
          },
          Period: 60,
          Stat: 'Sum',
        },
      }],
    }));

    const [result] = output.MetricDataResults ?? [];
    const sums = Object.fromEntries((result?.Timestamps ?? []).map((timestamp, i) => [timestamp.toISOString(), result?.Values?.[i]]));
    expect(sums).toEqual({ [minute.toISOString()]: 15, [nextMinute.toISOString()]: 7 });
  });
});

describe('FaultProxy', () => {
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await FaultProxy.start();
  });
  afterEach(async () => {
    await proxy.stop();
  });

  test('injects exactly N throttling faults into the matched operation, then forwards to moto', async () => {
    const canary = await createCanaryEndpoint();
    const viaProxy = sagemakerClient({ endpoint: proxy.url, maxAttempts: 1 });
    proxy.failNext(2, { fault: 'throttling', operation: 'UpdateEndpointWeightsAndCapacities' });

    await expect(viaProxy.send(weightUpdate(canary, 0.8, 0.2))).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    // Another operation, while a fault is still pending, goes through.
    await expect(viaProxy.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName })))
      .resolves.toMatchObject({ EndpointName: canary.endpointName });
    await expect(viaProxy.send(weightUpdate(canary, 0.7, 0.3))).rejects.toMatchObject({ name: 'ThrottlingException' });
    await viaProxy.send(weightUpdate(canary, 0.6, 0.4));

    // Read directly from moto: only the third update reached it.
    expect((await variantsOf(canary.endpointName)).map((variant) => variant.CurrentWeight)).toEqual([0.6, 0.4]);
    const update = { service: 'sagemaker', operation: 'UpdateEndpointWeightsAndCapacities' };
    expect(proxy.calls).toEqual([
      { ...update, outcome: 'throttling', statusCode: 400 },
      { service: 'sagemaker', operation: 'DescribeEndpoint', outcome: 'forwarded', statusCode: 200 },
      { ...update, outcome: 'throttling', statusCode: 400 },
      { ...update, outcome: 'forwarded', statusCode: 200 },
    ]);
  });

  test('answers busy-endpoint with the ValidationException SageMaker sends, which the SDK does not retry', async () => {
    const canary = await createCanaryEndpoint();
    const viaProxy = sagemakerClient({ endpoint: proxy.url }); // default retries
    proxy.failNext(1, { fault: 'busy-endpoint', operation: 'UpdateEndpointWeightsAndCapacities' });

    await expect(viaProxy.send(weightUpdate(canary, 0.5, 0.5))).rejects.toMatchObject({
      name: 'ValidationException',
      message: `Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/${canary.endpointName}".`,
      $metadata: { httpStatusCode: 400 },
    });

    expect((await variantsOf(canary.endpointName)).map((variant) => variant.CurrentWeight)).toEqual([0.9, 0.1]);
    expect(proxy.calls.map((call) => call.outcome)).toEqual(['busy-endpoint']);
  });

  test('the SDK retries throttling by itself: two faults are absorbed by one call with default retries', async () => {
    const canary = await createCanaryEndpoint();
    const viaProxy = sagemakerClient({ endpoint: proxy.url });
    proxy.failNext(2, { fault: 'throttling', operation: 'UpdateEndpointWeightsAndCapacities' });

    await viaProxy.send(weightUpdate(canary, 0.3, 0.7));

    expect(proxy.calls.map((call) => call.outcome)).toEqual(['throttling', 'throttling', 'forwarded']);
    expect((await variantsOf(canary.endpointName)).map((variant) => variant.CurrentWeight)).toEqual([0.3, 0.7]);
  });

  test('without an operation, faults the next matching call of any service', async () => {
    const canary = await createCanaryEndpoint();
    const sagemakerViaProxy = sagemakerClient({ endpoint: proxy.url, maxAttempts: 1 });
    const cloudwatchViaProxy = cloudWatchClient({ endpoint: proxy.url, maxAttempts: 1 });
    const snsViaProxy = snsClient({ endpoint: proxy.url, maxAttempts: 1 });
    proxy.failNext(1, { fault: 'throttling' });
    proxy.failNext(1, { fault: 'busy-endpoint' });

    // SNS speaks the query protocol (XML errors): never faulted, the faults stay pending.
    await expect(snsViaProxy.send(new CreateTopicCommand({ Name: uniqueName('topic') }))).resolves.toHaveProperty('TopicArn');
    // CloudWatch takes the throttling; a busy-endpoint fault only fits a call that names an endpoint.
    await expect(cloudwatchViaProxy.send(new DescribeAlarmsCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(cloudwatchViaProxy.send(new DescribeAlarmsCommand({}))).resolves.toBeDefined();
    await expect(sagemakerViaProxy.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName })))
      .rejects.toMatchObject({ name: 'ValidationException' });
    await expect(sagemakerViaProxy.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName })))
      .resolves.toMatchObject({ EndpointName: canary.endpointName });

    expect(proxy.calls.map((call) => `${call.service} ${call.operation} ${call.outcome}`)).toEqual([
      'sns CreateTopic forwarded',
      'monitoring DescribeAlarms throttling',
      'monitoring DescribeAlarms forwarded',
      'sagemaker DescribeEndpoint busy-endpoint',
      'sagemaker DescribeEndpoint forwarded',
    ]);
  });

  test("returns moto's answers unchanged, errors included", async () => {
    const canary = await createCanaryEndpoint();
    const viaProxy = sagemakerClient({ endpoint: proxy.url, maxAttempts: 1 });

    await expect(viaProxy.send(new DescribeEndpointCommand({ EndpointName: `${canary.endpointName}-missing` })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Could not find endpoint') });

    const describe = async (base: string): Promise<[number, string | null, string]> => {
      const response = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.DescribeEndpoint' },
        body: JSON.stringify({ EndpointName: canary.endpointName }),
      });
      return [response.status, response.headers.get('content-type'), await response.text()];
    };
    expect(await describe(proxy.url)).toEqual(await describe(process.env.AWS_ENDPOINT_URL!));
    expect(proxy.calls.map((call) => [call.operation, call.outcome, call.statusCode])).toEqual([
      ['DescribeEndpoint', 'forwarded', 400],
      ['DescribeEndpoint', 'forwarded', 200],
    ]);
  });
});

describe('moto server lifecycle', () => {
  test('a private moto starts on a free port, resetEmulator wipes it, and stop ends it (twice is fine)', async () => {
    const moto = await startMotoServer({ binDir: path.join(VENVS_DIR, 'moto', 'bin') });
    try {
      expect(moto.endpoint).not.toBe(process.env.AWS_ENDPOINT_URL);
      const privateSagemaker = sagemakerClient({ endpoint: moto.endpoint });
      await privateSagemaker.send(new CreateModelCommand({
        ModelName: 'to-be-reset',
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/test',
        PrimaryContainer: { Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/test:latest' },
      }));
      expect((await privateSagemaker.send(new ListModelsCommand({}))).Models).toHaveLength(1);

      await resetEmulator(moto.endpoint);

      expect((await privateSagemaker.send(new ListModelsCommand({}))).Models).toEqual([]);
    } finally {
      await moto.stop();
    }
    await moto.stop();
    expect(() => process.kill(moto.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});
