import {
  ApplicationAutoScalingClient, DescribeScalingPoliciesCommand, DescribeScheduledActionsCommand, RegisterScalableTargetCommand,
  PutScalingPolicyCommand, PutScheduledActionCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateEndpointCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand } from '@aws-sdk/client-sagemaker';
import { makeHandler, SCALING_GUARD_TYPE } from '../../lib/runtime/handler';
import { describeTarget, guardScaling, variantResourceId } from '../../lib/runtime/scaling';
import { DeploymentSpec, ScalingGuardSpec, VariantScalingSpec } from '../../lib/runtime/spec';
import { FaultProxy } from '../support/fault-proxy';
import {
  autoScalingClient, cloudWatchClient, createEndpoint, createEndpointConfig, createModel, sagemakerClient, uniqueName,
} from '../support/emulator';
import { createStateTable, FakeClock, runtimeDeps } from './fixture';

/**
 * The instance-type change of a scaled variant, as one `cdk deploy` runs it: the scaling guard
 * (custom resource before the endpoint), SageMaker's update, the deployment resource (after it).
 * Application Auto Scaling and SageMaker are moto's, through the real SDK. moto neither refuses
 * an instance-type change of a registered variant nor implements UpdateEndpoint, so:
 *  - SageMaker's documented refusal (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html)
 *    is injected by the fault proxy, which checks moto's own state for each update;
 *  - the update itself is moto's CreateEndpoint on the existing name, which moto treats as a
 *    replacement of the endpoint's config (docs/TESTING.md).
 */
interface CfnAnswer { Status: string; Reason: string; PhysicalResourceId: string }
let answers: CfnAnswer[] = [];
/** CloudFormation's pre-signed S3 URL; the answers are captured by `send` instead of leaving the machine. */
const responseUrl = 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/Service/guid%7CResource%7Crequest?X-Amz-Signature=abc';
const send = async (_url: URL, body: string): Promise<void> => { answers.push(JSON.parse(body)); };
let proxy: FaultProxy;
let tableName: string;
const autoscaling = autoScalingClient();

beforeAll(async () => {
  proxy = await FaultProxy.start();
  tableName = await createStateTable();
  // SageMaker's refusal, checked against moto's state: the update changes the instance type of (or
  // removes) a variant that has a scalable target. (The exact wording of SageMaker's message is
  // not documented; the stand-in names what it refuses.)
  proxy.refuseWhen('CreateEndpoint', async (body) => {
    const sagemaker = sagemakerClient();
    const live = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: body.EndpointName })).catch(() => undefined);
    if (!live) return undefined; // a real create
    const types = async (config: string) => Object.fromEntries(((await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: config }))).ProductionVariants ?? [])
      .map((v) => [v.VariantName!, v.InstanceType!]));
    const before = await types(live.EndpointConfigName!);
    const after = await types(body.EndpointConfigName);
    for (const [variant, type] of Object.entries(before)) {
      if (after[variant] === type) continue;
      if (await describeTarget(autoscaling, variantResourceId(body.EndpointName, variant), 'sagemaker:variant:DesiredInstanceCount')) {
        return `Cannot change the instance type of variant ${variant}: it is registered with Application Auto Scaling; deregister it first (stand-in for SageMaker's refusal)`;
      }
    }
    return undefined;
  });
});
afterAll(async () => proxy.stop());
beforeEach(() => { answers = []; });

/** SageMaker's update, through the proxy that refuses what SageMaker refuses. */
async function sageMakerUpdate(endpointName: string, configName: string): Promise<void> {
  await sagemakerClient({ endpoint: proxy.url, maxAttempts: 1 }).send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: configName }));
}

async function config(type: 'ml.m5.xlarge' | 'ml.c5.xlarge', model: string): Promise<string> {
  const name = uniqueName('cfg');
  await createEndpointConfig({ name, variants: [{ variantName: 'production', modelName: model, weight: 1, instanceCount: 2, instanceType: type }] });
  return name;
}

async function newModel(): Promise<string> {
  const name = uniqueName('model');
  await createModel(name);
  return name;
}

/** What the template defines for the production variant: a range, a target-tracking policy, a schedule, and a step policy with its alarm. */
function scalingOf(endpointName: string, instanceType: string, alarmName: string): VariantScalingSpec {
  return {
    variantName: 'production',
    resourceId: variantResourceId(endpointName, 'production'),
    dimension: 'sagemaker:variant:DesiredInstanceCount',
    instanceType,
    minCapacity: 2,
    maxCapacity: 10,
    policies: [
      { PolicyName: 'Invocations', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: { TargetValue: 1000, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' } } },
      { PolicyName: 'LatencyUpper', PolicyType: 'StepScaling', StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 2 }] } },
    ],
    scheduledActions: [{ ScheduledActionName: 'Night', Schedule: 'cron(0 22 * * ? *)', ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 4 } }],
    stepAlarms: { LatencyUpper: [alarmName] },
  };
}

function guardSpec(endpointName: string, instanceType: string, alarmName: string): ScalingGuardSpec {
  return { endpointName, configVariants: { production: instanceType }, variants: [scalingOf(endpointName, instanceType, alarmName)] };
}

/** What CloudFormation created on the first deployment: the target, its policies, its schedule, the step policy's alarm. */
async function registerAsCloudFormationWould(v: VariantScalingSpec): Promise<void> {
  const identity = { ServiceNamespace: 'sagemaker', ResourceId: v.resourceId, ScalableDimension: v.dimension as 'sagemaker:variant:DesiredInstanceCount' } as const;
  await autoscaling.send(new RegisterScalableTargetCommand({ ...identity, MinCapacity: v.minCapacity, MaxCapacity: v.maxCapacity }));
  const arns: Record<string, string> = {};
  for (const p of v.policies) arns[String(p.PolicyName)] = (await autoscaling.send(new PutScalingPolicyCommand({ ...identity, ...p } as any))).PolicyARN!;
  for (const a of v.scheduledActions) await autoscaling.send(new PutScheduledActionCommand({ ...identity, ...a } as any));
  for (const [policy, alarms] of Object.entries(v.stepAlarms)) {
    for (const alarm of alarms) {
      await cloudWatchClient().send(new PutMetricAlarmCommand({
        AlarmName: alarm, Namespace: 'AWS/SageMaker', MetricName: 'ModelLatency', ExtendedStatistic: 'p99', Period: 60, EvaluationPeriods: 1,
        Threshold: 500000, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [arns[policy]],
        Dimensions: [{ Name: 'EndpointName', Value: v.resourceId.split('/')[1] }, { Name: 'VariantName', Value: 'production' }],
      }));
    }
  }
}

async function scalingState(endpointName: string, client: ApplicationAutoScalingClient = autoscaling) {
  const resourceId = variantResourceId(endpointName, 'production');
  const identity = { ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' } as const;
  const target = await describeTarget(client, resourceId, identity.ScalableDimension);
  const policies = (await client.send(new DescribeScalingPoliciesCommand(identity))).ScalingPolicies ?? [];
  const schedules = (await client.send(new DescribeScheduledActionsCommand(identity))).ScheduledActions ?? [];
  return {
    range: target ? [target.MinCapacity, target.MaxCapacity] : undefined,
    policies: policies.map((p) => p.PolicyName).sort(),
    policyArns: Object.fromEntries(policies.map((p) => [p.PolicyName, p.PolicyARN])),
    schedules: schedules.map((a) => a.ScheduledActionName),
  };
}

function cfnEvent(type: string, requestType: 'Create' | 'Update', spec: unknown, old?: unknown) {
  return {
    RequestType: requestType, ResponseURL: responseUrl, StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Service/guid',
    RequestId: uniqueName('request'), LogicalResourceId: 'Resource', PhysicalResourceId: requestType === 'Create' ? undefined : 'physical',
    ResourceType: type,
    ResourceProperties: { ServiceToken: 'arn', Spec: JSON.stringify(spec) },
    OldResourceProperties: old ? { ServiceToken: 'arn', Spec: JSON.stringify(old) } : undefined,
  };
}

function deploymentSpec(endpointName: string, endpointConfigName: string, scaling: ScalingGuardSpec): DeploymentSpec {
  return { endpointName, endpointConfigName, verify: true, rollbackAlarmNames: [], scaling };
}

/** An endpoint on ml.m5.xlarge whose production variant scales, as the first deployment leaves it. */
async function scaledEndpoint() {
  const model = await newModel();
  const endpointName = uniqueName('scaled');
  const m5 = await config('ml.m5.xlarge', model);
  await createEndpoint({ name: endpointName, configName: m5 });
  const alarm = uniqueName('Service-scaling-latency-upper');
  await registerAsCloudFormationWould(scalingOf(endpointName, 'ml.m5.xlarge', alarm));
  const c5 = await config('ml.c5.xlarge', model);
  return { endpointName, m5, c5, alarm, model };
}

describe('an instance-type change of a scaled variant', () => {
  test('is refused while the variant is registered (the trap the guard exists for)', async () => {
    const { endpointName, c5 } = await scaledEndpoint();
    await expect(sageMakerUpdate(endpointName, c5)).rejects.toThrow(/registered with Application Auto Scaling/);
  });

  test('goes through in one deployment: the guard takes scaling off, SageMaker updates, the deployment puts it back with the same policies', async () => {
    const { endpointName, m5, c5, alarm } = await scaledEndpoint();
    const handler = makeHandler(() => ({ ...runtimeDeps({ tableName, clock: new FakeClock() }), send }));
    const before = await scalingState(endpointName);
    const oldGuard = guardSpec(endpointName, 'ml.m5.xlarge', alarm);
    const newGuard = guardSpec(endpointName, 'ml.c5.xlarge', alarm);

    // 1. The guard, before the endpoint: the live type (m5) differs from the wanted one (c5).
    await handler(cfnEvent(SCALING_GUARD_TYPE, 'Update', newGuard, oldGuard));
    expect(answers.pop()?.Status).toBe('SUCCESS');
    expect((await scalingState(endpointName)).range).toBeUndefined();

    // 2. SageMaker's update is accepted now.
    await sageMakerUpdate(endpointName, c5);

    // 3. The deployment resource, after the endpoint and CloudFormation's scaling resources.
    await handler(cfnEvent('Custom::SageMakerRolloutDeployment', 'Update', deploymentSpec(endpointName, c5, newGuard), deploymentSpec(endpointName, m5, oldGuard)));
    expect(answers.pop()).toMatchObject({ Status: 'SUCCESS' });
    const after = await scalingState(endpointName);
    expect(after.range).toEqual([2, 10]);
    expect(after.policies).toEqual(before.policies);
    expect(after.schedules).toEqual(['Night']);
    // The step policy's alarm invokes the re-created policy (whatever ARN it has now).
    const described = await cloudWatchClient().send(new DescribeAlarmsCommand({ AlarmNames: [alarm] }));
    expect(described.MetricAlarms?.[0].AlarmActions).toEqual([after.policyArns.LatencyUpper]);
  });

  test('a model-only update leaves scaling registered and untouched', async () => {
    const { endpointName, alarm } = await scaledEndpoint();
    const deps = runtimeDeps({ tableName, clock: new FakeClock() });
    const spec = guardSpec(endpointName, 'ml.m5.xlarge', alarm);
    const calls = proxy.calls.length;
    expect(await guardScaling({ ...deps, autoscaling: autoScalingClient({ endpoint: proxy.url }) }, spec, spec)).toEqual([{ variantName: 'production', action: 'kept' }]);
    expect(proxy.calls.slice(calls).map((c) => c.operation)).not.toContain('DeregisterScalableTarget');
    expect((await scalingState(endpointName)).range).toEqual([2, 10]);
  });

  test('a crash between deregistering and registering again is finished when Lambda runs the event again', async () => {
    const { endpointName, m5, c5, alarm } = await scaledEndpoint();
    const oldGuard = guardSpec(endpointName, 'ml.m5.xlarge', alarm);
    const newGuard = guardSpec(endpointName, 'ml.c5.xlarge', alarm);
    const deps = runtimeDeps({ tableName, clock: new FakeClock() });
    await guardScaling(deps, newGuard, oldGuard);
    await sageMakerUpdate(endpointName, c5);

    // The first run dies after registering the target, before its first policy: a fault there
    // stands for the process ending (nothing after it runs, nothing is answered).
    const flaky = autoScalingClient({ endpoint: proxy.url, maxAttempts: 1 });
    proxy.failNext(1, { fault: 'throttling', operation: 'PutScalingPolicy' });
    await expect(guardScaling({ ...deps, autoscaling: flaky }, newGuard, oldGuard)).rejects.toThrow(/Rate exceeded/);
    const halfway = await scalingState(endpointName);
    expect(halfway.range).toEqual([2, 10]);
    expect(halfway.policies).toEqual([]);

    // Lambda's retry of the same event.
    const handler = makeHandler(() => ({ ...runtimeDeps({ tableName, clock: new FakeClock() }), send }));
    await handler(cfnEvent('Custom::SageMakerRolloutDeployment', 'Update', deploymentSpec(endpointName, c5, newGuard), deploymentSpec(endpointName, m5, oldGuard)));
    expect(answers.pop()?.Status).toBe('SUCCESS');
    const done = await scalingState(endpointName);
    expect(done.policies).toEqual(['Invocations', 'LatencyUpper']);
    expect(done.schedules).toEqual(['Night']);
  });

  test('when the update fails, the stack rollback puts scaling back: the guard is rolled back after the endpoint', async () => {
    const { endpointName, alarm } = await scaledEndpoint();
    const handler = makeHandler(() => ({ ...runtimeDeps({ tableName, clock: new FakeClock() }), send }));
    const oldGuard = guardSpec(endpointName, 'ml.m5.xlarge', alarm);
    const newGuard = guardSpec(endpointName, 'ml.c5.xlarge', alarm);
    await handler(cfnEvent(SCALING_GUARD_TYPE, 'Update', newGuard, oldGuard));
    expect((await scalingState(endpointName)).range).toBeUndefined();
    // SageMaker's update fails (the endpoint stays on m5); CloudFormation rolls the guard back
    // with the old properties as the new ones.
    await handler(cfnEvent(SCALING_GUARD_TYPE, 'Update', oldGuard, newGuard));
    expect(answers.pop()?.Status).toBe('SUCCESS');
    const restored = await scalingState(endpointName);
    expect(restored.range).toEqual([2, 10]);
    expect(restored.policies).toEqual(['Invocations', 'LatencyUpper']);
  });

  test('a rollback after the update succeeded takes scaling off before the endpoint goes back, and puts it back after', async () => {
    const { endpointName, m5, c5, alarm } = await scaledEndpoint();
    const handler = makeHandler(() => ({ ...runtimeDeps({ tableName, clock: new FakeClock() }), send }));
    const oldGuard = guardSpec(endpointName, 'ml.m5.xlarge', alarm);
    const newGuard = guardSpec(endpointName, 'ml.c5.xlarge', alarm);
    await handler(cfnEvent(SCALING_GUARD_TYPE, 'Update', newGuard, oldGuard));
    await sageMakerUpdate(endpointName, c5);
    await handler(cfnEvent('Custom::SageMakerRolloutDeployment', 'Update', deploymentSpec(endpointName, c5, newGuard), deploymentSpec(endpointName, m5, oldGuard)));
    expect((await scalingState(endpointName)).range).toEqual([2, 10]);

    // Something later in the stack fails: CloudFormation rolls back in reverse order. (The
    // deployment check is left out here: it compares the live config with the old one before the
    // endpoint is rolled back, which is the check's own matter, not scaling's.)
    const rollbackSpec = { ...deploymentSpec(endpointName, m5, oldGuard), verify: false };
    await handler(cfnEvent('Custom::SageMakerRolloutDeployment', 'Update', rollbackSpec, deploymentSpec(endpointName, c5, newGuard)));
    expect((await scalingState(endpointName)).range).toBeUndefined();
    await sageMakerUpdate(endpointName, m5); // the endpoint goes back to m5, unrefused
    await handler(cfnEvent(SCALING_GUARD_TYPE, 'Update', oldGuard, newGuard));
    const settled = await scalingState(endpointName);
    expect(settled.range).toEqual([2, 10]);
    expect(settled.policies).toEqual(['Invocations', 'LatencyUpper']);
  });

  test('an instance-type change together with a change of the same scaling is refused before anything changes', async () => {
    const { endpointName, alarm } = await scaledEndpoint();
    const handler = makeHandler(() => ({ ...runtimeDeps({ tableName, clock: new FakeClock() }), send }));
    const oldGuard = guardSpec(endpointName, 'ml.m5.xlarge', alarm);
    const bigger = guardSpec(endpointName, 'ml.c5.xlarge', alarm);
    const changed: ScalingGuardSpec = { ...bigger, variants: [{ ...bigger.variants[0], maxCapacity: 20 }] };
    await handler(cfnEvent(SCALING_GUARD_TYPE, 'Update', changed, oldGuard));
    const answer = answers.pop()!;
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toBe(`variant production of endpoint ${endpointName} changes its instance type (ml.m5.xlarge to ml.c5.xlarge) and its scaling `
      + '(range, policies or schedules) in the same deployment: scaling is taken off for the instance-type change and put back from the template, '
      + 'which CloudFormation cannot order safely with an update of the same scaling resources. Deploy the two changes one after the other.');
    expect((await scalingState(endpointName)).range).toEqual([2, 10]);
  });

  test('a new endpoint and a variant that starts scaling are left to CloudFormation', async () => {
    const model = await newModel();
    const endpointName = uniqueName('fresh');
    const deps = runtimeDeps({ tableName, clock: new FakeClock() });
    const spec = guardSpec(endpointName, 'ml.m5.xlarge', 'unused');
    expect(await guardScaling(deps, spec, undefined)).toEqual([]);
    await createEndpoint({ name: endpointName, configName: await config('ml.m5.xlarge', model) });
    expect(await guardScaling(deps, spec, { ...spec, variants: [] })).toEqual([{ variantName: 'production', action: 'left-to-cloudformation' }]);
    expect((await scalingState(endpointName)).range).toBeUndefined();
  });
});



