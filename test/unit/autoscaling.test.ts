import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import { Candidate, InstanceType, ModelEndpoint, VariantAutoScalingOptions } from '../../lib';
import { modelV1, modelV2, newStack, only, statementsOfRole } from './util';

/** The error, with or without the construct path in front (the path is added where the endpoint is built). */
function exactly(message: string): RegExp {
  return new RegExp(`^(\\S+: )?${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

function scaledEndpoint(stack: Stack, autoScaling: Partial<VariantAutoScalingOptions> = {}, extra: { instanceCount?: number; instanceType?: InstanceType } = {}) {
  return new ModelEndpoint(stack, 'Recommender', {
    endpointName: 'recommender',
    production: {
      model: modelV1(stack), instanceType: extra.instanceType ?? InstanceType.ML_M5_XLARGE, instanceCount: extra.instanceCount ?? 2,
      autoScaling: { minInstanceCount: 2, maxInstanceCount: 10, targetInvocationsPerInstance: 1000, ...autoScaling },
    },
  });
}

describe('production.autoScaling', () => {
  test('registers the variant with Application Auto Scaling, through its service-linked role, after the endpoint exists', () => {
    const stack = newStack();
    scaledEndpoint(stack, { scaleInCooldown: Duration.minutes(10), scaleOutCooldown: Duration.minutes(1) });
    const template = Template.fromStack(stack);
    const target = only(template, 'AWS::ApplicationAutoScaling::ScalableTarget');
    const endpoint = only(template, 'AWS::SageMaker::Endpoint');
    expect(target.resource.Properties).toEqual({
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/recommender/variant/production',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 2,
      MaxCapacity: 10,
    });
    // A literal ResourceId gives CloudFormation no dependency: it is explicit.
    expect(target.resource.DependsOn).toContain(endpoint.id);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      ScalingTargetId: { Ref: target.id },
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        TargetValue: 1000,
        ScaleInCooldown: 600,
        ScaleOutCooldown: 60,
      },
    });
  });

  test('creates no IAM role for scaling: the stack has the same roles as without it', () => {
    const withScaling = newStack();
    scaledEndpoint(withScaling);
    const without = newStack();
    new ModelEndpoint(without, 'Recommender', { endpointName: 'recommender', production: { model: modelV1(without), instanceCount: 2 } });
    expect(Object.keys(Template.fromStack(withScaling).findResources('AWS::IAM::Role')).length)
      .toBe(Object.keys(Template.fromStack(without).findResources('AWS::IAM::Role')).length);
  });

  test('keeps the scaled instance count across updates and takes the weights from the new config', () => {
    const stack = newStack();
    scaledEndpoint(stack);
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Endpoint', {
      RetainAllVariantProperties: true,
      ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredWeight' }],
    });
  });

  test('an endpoint without scaling is rendered exactly as before: no retention, no guard, no target', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'Recommender', { production: { model: modelV1(stack), instanceCount: 2 } });
    const template = Template.fromStack(stack);
    const endpoint = only(template, 'AWS::SageMaker::Endpoint').resource.Properties;
    expect(endpoint.RetainAllVariantProperties).toBeUndefined();
    expect(endpoint.ExcludeRetainedVariantProperties).toBeUndefined();
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    template.resourceCountIs('Custom::SageMakerRolloutScalingGuard', 0);
  });

  test('without targetInvocationsPerInstance, the variant gets its scalable target and no policy', () => {
    const stack = newStack();
    scaledEndpoint(stack, { targetInvocationsPerInstance: undefined });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 0);
  });

  test('the instance count defaults to the minimum', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'Recommender', {
      production: { model: modelV1(stack), instanceType: InstanceType.ML_M5_XLARGE, autoScaling: { minInstanceCount: 3, maxInstanceCount: 6 } },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InitialInstanceCount: 3 })],
    });
  });
});

describe('the instance-type change path (CloudFormation ordering)', () => {
  test('guard before the endpoint; targets and policies after it; the deployment resource last', () => {
    const stack = newStack();
    scaledEndpoint(stack);
    const template = Template.fromStack(stack);
    const guard = only(template, 'Custom::SageMakerRolloutScalingGuard');
    const endpoint = only(template, 'AWS::SageMaker::Endpoint');
    const target = only(template, 'AWS::ApplicationAutoScaling::ScalableTarget');
    const policy = only(template, 'AWS::ApplicationAutoScaling::ScalingPolicy');
    const deployment = only(template, 'Custom::SageMakerRolloutDeployment');
    expect(endpoint.resource.DependsOn).toContain(guard.id); // deregister before SageMaker's update
    expect(target.resource.DependsOn).toContain(endpoint.id);
    expect(deployment.resource.DependsOn).toEqual(expect.arrayContaining([endpoint.id, target.id, policy.id])); // register after
    // The guard knows every variant's wanted instance type and the policies it puts back.
    const spec = JSON.parse(guard.resource.Properties.Spec);
    expect(spec.configVariants).toEqual({ production: 'ml.m5.xlarge' });
    expect(spec.variants[0]).toMatchObject({
      variantName: 'production', resourceId: 'endpoint/recommender/variant/production', minCapacity: 2, maxCapacity: 10,
      policies: [expect.objectContaining({ PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: expect.objectContaining({ TargetValue: 1000 }) })],
    });
    // No reference from the guard to the scaling resources (they wait for the endpoint, which waits for the guard).
    expect(JSON.stringify(guard.resource)).not.toContain(target.id);
  });

  test('the controller may deregister and register scalable targets only, and read their policies', () => {
    const stack = newStack();
    scaledEndpoint(stack);
    const statements = statementsOfRole(Template.fromStack(stack), 'SageMakerRolloutControllerRole');
    const guard = statements.find((s) => s.Sid === 'GuardScaling');
    expect(guard.Action).toEqual(expect.arrayContaining(['application-autoscaling:RegisterScalableTarget', 'application-autoscaling:DeregisterScalableTarget']));
    expect(guard.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:scalable-target/*' });
    const read = statements.find((s) => s.Sid === 'ReadScaling');
    expect(read.Action.every((a: string) => a.startsWith('application-autoscaling:Describe'))).toBe(true);
    const alarms = statements.find((s) => s.Sid === 'RepointStepScalingAlarms');
    expect(alarms.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:TestStack-scaling-*' });
  });
});

describe('canary candidate autoScaling', () => {
  function canary(stack: Stack, candidateScaling: Partial<VariantAutoScalingOptions> = {}) {
    return new ModelEndpoint(stack, 'Recommender', {
      endpointName: 'recommender',
      production: { model: modelV1(stack), instanceType: InstanceType.ML_M5_XLARGE, instanceCount: 2, autoScaling: { minInstanceCount: 2, maxInstanceCount: 10, targetInvocationsPerInstance: 800 } },
      candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10, autoScaling: { minInstanceCount: 1, maxInstanceCount: 4, ...candidateScaling } }),
    });
  }

  test('the candidate scales on its own share, tracking production\'s target when it has none', () => {
    const stack = newStack();
    canary(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { ResourceId: 'endpoint/recommender/variant/candidate', MinCapacity: 1, MaxCapacity: 4 });
    const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')) as any[];
    expect(policies.map((p) => p.Properties.TargetTrackingScalingPolicyConfiguration.TargetValue)).toEqual([800, 800]);
    // The candidate starts at its minimum.
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VariantName: 'production', InitialInstanceCount: 2 }), Match.objectLike({ VariantName: 'candidate', InitialInstanceCount: 1 })],
    });
  });

  test('a target of its own wins; the controller learns the range a rollback narrows', () => {
    const stack = newStack();
    canary(stack, { targetInvocationsPerInstance: 300 });
    const template = Template.fromStack(stack);
    const values = (Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')) as any[])
      .map((p) => p.Properties.TargetTrackingScalingPolicyConfiguration.TargetValue).sort();
    expect(values).toEqual([300, 800]);
    const deployment = only(template, 'Custom::SageMakerRolloutDeployment').resource.Properties.Spec;
    expect(JSON.stringify(deployment)).toContain('\\"candidateScaling\\":{\\"resourceId\\":\\"endpoint/recommender/variant/candidate\\",\\"dimension\\":\\"sagemaker:variant:DesiredInstanceCount\\",\\"minCapacity\\":1,\\"maxCapacity\\":4}');
  });
});

describe('endpoint.scalableInstanceCount', () => {
  test('adds schedules and step scaling the way aws-cdk-lib does; step alarms get names the controller may update', () => {
    const stack = newStack();
    const endpoint = scaledEndpoint(stack);
    const scaling = endpoint.scalableInstanceCount('production');
    scaling.scaleOnSchedule('Night', { schedule: appscaling.Schedule.cron({ hour: '22', minute: '0' }), minCapacity: 2, maxCapacity: 4 });
    scaling.scaleOnMetric('Latency', { metric: endpoint.metricModelLatency('production'), scalingSteps: [{ upper: 100_000, change: -1 }, { lower: 500_000, change: +2 }] });
    scaling.scaleOnUtilization('Cpu', { targetUtilizationPercent: 250 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScheduledActions: [{ ScheduledActionName: 'Night', Schedule: 'cron(0 22 * * ? *)', ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 4 } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'TestStack-scaling-recommender-production-Latency-upper' });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 250,
        CustomizedMetricSpecification: Match.objectLike({ Namespace: '/aws/sagemaker/Endpoints', MetricName: 'CPUUtilization' }),
      },
    });
    // The guard puts back every policy and schedule added here.
    const spec = JSON.parse(only(template, 'Custom::SageMakerRolloutScalingGuard').resource.Properties.Spec);
    expect(spec.variants[0].policies).toHaveLength(4);
    expect(spec.variants[0].scheduledActions).toEqual([expect.objectContaining({ ScheduledActionName: 'Night' })]);
    expect(Object.values(spec.variants[0].stepAlarms)).toEqual(expect.arrayContaining([['TestStack-scaling-recommender-production-Latency-upper']]));
  });

  test('refuses a variant without autoScaling, naming the ones that scale', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'Recommender', { production: { model: modelV1(stack) } });
    expect(() => endpoint.scalableInstanceCount('production'))
      .toThrow('TestStack/Recommender: scalableInstanceCount("production"): it has no autoScaling (variants with autoScaling: none)');
  });
});

describe('serverless provisioned concurrency', () => {
  test('scales the provisioned concurrency of a serverless variant', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'Recommender', {
      endpointName: 'recommender',
      production: {
        model: modelV1(stack),
        serverless: { memorySizeInMB: 2048, maxConcurrency: 20, provisionedConcurrency: 2, autoScaling: { minProvisionedConcurrency: 1, maxProvisionedConcurrency: 10, targetUtilizationPercent: 70 } },
      },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'sagemaker:variant:DesiredProvisionedConcurrency', MinCapacity: 1, MaxCapacity: 10,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantProvisionedConcurrencyUtilization' }, TargetValue: 0.7 },
    });
    expect(() => endpoint.scalableInstanceCount('production'))
      .toThrow('TestStack/Recommender: scalableInstanceCount("production"): it is serverless: use scalableProvisionedConcurrency');
  });
});

describe('bad input', () => {
  const cases: [string, () => void, string][] = [
    ['min 0', () => scaledEndpoint(newStack(), { minInstanceCount: 0 }), 'production.autoScaling.minInstanceCount must be a whole number of at least 1, got 0'],
    ['max below min', () => scaledEndpoint(newStack(), { minInstanceCount: 3, maxInstanceCount: 2 }, { instanceCount: 3 }), 'production.autoScaling.maxInstanceCount must be at least minInstanceCount (3), got 2'],
    ['count below min', () => scaledEndpoint(newStack(), {}, { instanceCount: 1 }),
      'production.instanceCount must be between production.autoScaling.minInstanceCount (2) and production.autoScaling.maxInstanceCount (10), got 1'],
    ['count above max', () => scaledEndpoint(newStack(), {}, { instanceCount: 11 }),
      'production.instanceCount must be between production.autoScaling.minInstanceCount (2) and production.autoScaling.maxInstanceCount (10), got 11'],
    ['burstable', () => scaledEndpoint(newStack(), {}, { instanceType: InstanceType.ML_T2_MEDIUM }),
      'production.autoScaling is not available on burstable instance types, got ml.t2.medium: SageMaker does not scale ml.t* instances; choose another instanceType or remove autoScaling'],
    ['target 0', () => scaledEndpoint(newStack(), { targetInvocationsPerInstance: 0 }), 'production.autoScaling.targetInvocationsPerInstance must be greater than 0, got 0'],
    ['fractional cooldown', () => scaledEndpoint(newStack(), { scaleInCooldown: Duration.millis(1500) }),
      'production.autoScaling.scaleInCooldown must be a whole number of seconds between 0 and 31536000 (365 days), got 1.5 seconds'],
    ['cooldown past a year', () => scaledEndpoint(newStack(), { scaleOutCooldown: Duration.days(400) }),
      'production.autoScaling.scaleOutCooldown must be a whole number of seconds between 0 and 31536000 (365 days), got 34560000 seconds'],
    ['candidate count', () => {
      const stack = newStack();
      new ModelEndpoint(stack, 'Recommender', {
        production: { model: modelV1(stack), instanceCount: 2 },
        candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10, instanceCount: 5, autoScaling: { minInstanceCount: 1, maxInstanceCount: 4 } }),
      });
    }, 'candidate.instanceCount must be between candidate.autoScaling.minInstanceCount (1) and candidate.autoScaling.maxInstanceCount (4), got 5'],
    ['serverless without provisioned concurrency', () => {
      const stack = newStack();
      new ModelEndpoint(stack, 'Recommender', {
        production: { model: modelV1(stack), serverless: { memorySizeInMB: 2048, maxConcurrency: 20, autoScaling: { minProvisionedConcurrency: 1, maxProvisionedConcurrency: 5 } } },
      });
    }, 'production.serverless.autoScaling needs production.serverless.provisionedConcurrency: Application Auto Scaling scales only the provisioned concurrency of a serverless variant, and this one has none'],
    ['instance scaling on serverless', () => {
      const stack = newStack();
      new ModelEndpoint(stack, 'Recommender', {
        production: { model: modelV1(stack), serverless: { memorySizeInMB: 2048, maxConcurrency: 20 }, autoScaling: { minInstanceCount: 1, maxInstanceCount: 2 } },
      });
    }, 'production.autoScaling scales instances, and production is serverless: scale its provisioned concurrency with production.serverless.autoScaling'],
    ['provisioned above max concurrency', () => {
      const stack = newStack();
      new ModelEndpoint(stack, 'Recommender', {
        production: { model: modelV1(stack), serverless: { memorySizeInMB: 2048, maxConcurrency: 20, provisionedConcurrency: 2, autoScaling: { minProvisionedConcurrency: 1, maxProvisionedConcurrency: 30 } } },
      });
    }, 'production.serverless.autoScaling.maxProvisionedConcurrency must be at most production.serverless.maxConcurrency (20), got 30'],
  ];
  test.each(cases)('%s', (_name, build, message) => {
    expect(build).toThrow(exactly(message));
  });
});

test('an app with scaling synthesizes past the built-in validator', () => {
  const app = new App();
  const stack = new Stack(app, 'Scaled');
  scaledEndpoint(stack);
  expect(() => app.synth()).not.toThrow();
});
