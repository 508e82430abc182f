import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CanaryPromotion, Candidate, InstanceType, ModelEndpoint, RollbackAlarms } from '../../lib';
import { modelV1, modelV2, newStack, only, statementsOfRole } from './util';

function canaryStack(options: { percent?: number; promotion?: CanaryPromotion; topic?: boolean; extraAlarm?: boolean } = {}) {
  const stack = newStack();
  const topic = options.topic ? new sns.Topic(stack, 'Topic') : undefined;
  const business = options.extraAlarm
    ? new cloudwatch.Alarm(stack, 'Business', { alarmName: 'checkout-conversion-drop', metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Conversion' }), threshold: 1, evaluationPeriods: 1 })
    : undefined;
  const endpoint = new ModelEndpoint(stack, 'Recommender', {
    production: { model: modelV1(stack), instanceType: InstanceType.ML_M5_XLARGE, instanceCount: 2 },
    candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: options.percent ?? 10, promotion: options.promotion }),
    rollbackAlarms: business ? RollbackAlarms.combine(RollbackAlarms.recommended(), RollbackAlarms.fromAlarms([business])) : undefined,
    notificationTopic: topic,
  });
  return { stack, endpoint, template: Template.fromStack(stack) };
}

describe('Candidate.canary', () => {
  test('a second production variant; weights give the candidate exactly trafficPercent of traffic', () => {
    const { template } = canaryStack({ percent: 10 });
    const variants = only(template, 'AWS::SageMaker::EndpointConfig').resource.Properties.ProductionVariants;
    expect(variants.map((v: any) => [v.VariantName, v.InitialVariantWeight, v.InstanceType, v.InitialInstanceCount])).toEqual([
      ['production', 90, 'ml.m5.xlarge', 2],
      ['candidate', 10, 'ml.m5.xlarge', 2],
    ]);
    const share = variants[1].InitialVariantWeight / (variants[0].InitialVariantWeight + variants[1].InitialVariantWeight);
    expect(share).toBeCloseTo(0.1, 10);
  });

  test('instance type, count and variant name of the candidate can differ from production', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), instanceCount: 4 },
      candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 25, instanceType: InstanceType.ML_C5_XLARGE, instanceCount: 1, variantName: 'challenger' }),
    });
    const variants = only(Template.fromStack(stack), 'AWS::SageMaker::EndpointConfig').resource.Properties.ProductionVariants;
    expect(variants[1]).toEqual(expect.objectContaining({ VariantName: 'challenger', InstanceType: 'ml.c5.xlarge', InitialInstanceCount: 1, InitialVariantWeight: 25 }));
  });

  test('a candidate makes no warning: the deployment check confirms the variants instead', () => {
    // A synth cannot know whether the last deployment had a candidate: a warning here would fire on
    // every synth while a candidate exists, and never when one is removed.
    const { stack, template } = canaryStack();
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    const spec = JSON.stringify(only(template, 'Custom::SageMakerRolloutDeployment').resource.Properties.Spec);
    expect(spec).toContain('\\"variantNames\\":[\\"production\\",\\"candidate\\"]');
  });

  test('the rollback alarms watch the candidate and are in AutoRollbackConfiguration too', () => {
    const { template, endpoint } = canaryStack();
    expect(endpoint.rollbackAlarmNames.every((n) => n.includes('-candidate-'))).toBe(true);
    const auto = only(template, 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms;
    expect(auto.map((a: any) => a.AlarmName)).toEqual(endpoint.rollbackAlarmNames);
  });

  test('the endpoint is tagged with the state table, for the CLI', () => {
    const { template } = canaryStack();
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      Tags: Match.arrayWith([{ Key: 'cdk-sagemaker-rollout:state-table', Value: { Ref: Match.stringLikeRegexp('SageMakerRolloutControllerState') } }]),
    });
  });
});

describe('the rollback controller (one per stack)', () => {
  test('a rule matches ALARM state changes of the stack\'s alarms by prefix, plus user alarms by name', () => {
    const { template } = canaryStack({ extraAlarm: true });
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.cloudwatch'] } } });
    const [rule] = Object.values(rules) as any[];
    expect(rule.Properties.EventPattern).toEqual({
      'source': ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      // The stack's own account and region only: another account's alarm with the same name prefix is not ours.
      'account': [{ Ref: 'AWS::AccountId' }],
      'region': [{ Ref: 'AWS::Region' }],
      'detail': { alarmName: [{ prefix: 'TestStack-rollout-' }, { Ref: expect.stringMatching(/^Business/) }], state: { value: ['ALARM'] } },
    });
    expect(JSON.stringify(rule.Properties.EventPattern).length).toBeLessThan(2048);
  });

  test('a rule reacts to endpoints coming back in service (to re-apply standing rollbacks)', () => {
    const { template } = canaryStack();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint State Change'], 'detail': { EndpointStatus: ['IN_SERVICE'] },
        'account': [{ Ref: 'AWS::AccountId' }], 'region': [{ Ref: 'AWS::Region' }],
      },
    });
  });

  test('events that fail after every retry land in a dead-letter queue with an alarm on it', () => {
    const { template } = canaryStack({ topic: true });
    const queue = only(template, 'AWS::SQS::Queue');
    template.hasResourceProperties('AWS::Lambda::Function', { DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [queue.id, 'Arn'] } } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a: any) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible') as any;
    expect(alarm.Properties).toEqual(expect.objectContaining({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [{ Ref: expect.stringMatching(/^Topic/) }] }));
    expect(alarm.Properties.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue.id, 'QueueName'] } }]);
  });

  test('state lives in one on-demand DynamoDB table with point-in-time recovery, kept on stack deletion', () => {
    const { template } = canaryStack();
    const table = only(template, 'AWS::DynamoDB::Table');
    expect(table.resource.Properties).toEqual(expect.objectContaining({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    }));
    expect(table.resource.DeletionPolicy).toBe('Retain');
  });

  test('least privilege: update only the guarded endpoints by ARN, publish only to its topic, put events only on the default bus', () => {
    const { template, endpoint } = canaryStack({ topic: true });
    const statements = statementsOfRole(template, 'SageMakerRolloutControllerRole');
    const update = statements.find((s) => [s.Action].flat().includes('sagemaker:UpdateEndpointWeightsAndCapacities'));
    expect(update.Action).toEqual(['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities']);
    expect(update.Resource).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:endpoint/${endpoint.endpointName}` });
    const publish = statements.find((s) => [s.Action].flat().includes('sns:Publish'));
    expect(publish.Resource).toEqual({ Ref: expect.stringMatching(/^Topic/) });
    const put = statements.find((s) => s.Action === 'events:PutEvents');
    expect(put.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' });
    for (const s of statements) {
      const actions = [s.Action].flat();
      if (actions.some((a: string) => a.startsWith('sagemaker:'))) expect(s.Resource).not.toBe('*');
    }
    template.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: Match.anyValue(), ManagedPolicyArns: Match.absent() });
  });

  test('one controller serves every endpoint of the stack', () => {
    const stack = newStack();
    for (const id of ['A', 'B', 'C']) {
      new ModelEndpoint(stack, id, {
        production: { model: modelV1(stack, `${id}V1`) },
        candidate: Candidate.canary({ model: modelV2(stack, `${id}V2`), trafficPercent: 5 }),
      });
    }
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Events::Rule', 2);
    template.resourceCountIs('Custom::SageMakerRolloutDeployment', 3);
    const update = statementsOfRole(template, 'SageMakerRolloutControllerRole').find((s) => [s.Action].flat().includes('sagemaker:UpdateEndpointWeightsAndCapacities'));
    expect(update.Resource).toHaveLength(3);
    // Guarded endpoints are described through the same statement: no second list of the same ARNs.
    expect(statementsOfRole(template, 'SageMakerRolloutControllerRole').filter((s) => s.Action === 'sagemaker:DescribeEndpoint')).toEqual([]);
  });

  test('a blue/green-only stack gets the function (and its dead-letter queue) for the post-deploy check, the table that records deployments, and no rules', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('Custom::SageMakerRolloutRevertGuard', 1);
    template.resourceCountIs('AWS::Events::Rule', 0);
    // The check announces a deployment SageMaker rolled back, and the guard the end of a revert.
    const announce = statementsOfRole(template, 'SageMakerRolloutControllerRole').filter((s) => s.Action === 'events:PutEvents');
    expect(announce).toHaveLength(1);
  });

  test('verifyDeployment: false on a blue/green endpoint leaves the custom resource out', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, verifyDeployment: false });
    Template.fromStack(stack).resourceCountIs('Custom::SageMakerRolloutDeployment', 0);
  });

  test('the deployment resource runs after the endpoint and carries the rollout spec', () => {
    const { template, endpoint } = canaryStack({ promotion: CanaryPromotion.steps([10, 25, 50, 100], { interval: Duration.minutes(30), minInvocations: 500, approvalAt: 50 }) });
    const deployment = only(template, 'Custom::SageMakerRolloutDeployment').resource;
    expect(deployment.DependsOn).toContain(only(template, 'AWS::SageMaker::Endpoint').id);
    const joined = JSON.stringify(deployment.Properties.Spec);
    expect(joined).toContain(`\\"endpointName\\":\\"${endpoint.endpointName}\\"`);
    expect(joined).toContain('\\"promotion\\":{\\"steps\\":[10,25,50,100],\\"intervalSeconds\\":1800,\\"minInvocations\\":500,\\"approvalAt\\":50}');
    expect(joined).toContain('\\"kind\\":\\"canary\\"');
  });

  test('a promotion schedule adds a one-minute schedule and GetMetricData', () => {
    const { template } = canaryStack({ promotion: CanaryPromotion.STEPS_10_25_50_100_EVERY_30_MINUTES });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    expect(statementsOfRole(template, 'SageMakerRolloutControllerRole').find((s) => s.Action === 'cloudwatch:GetMetricData')).toBeDefined();
    const without = canaryStack().template;
    expect(Object.keys(without.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 minute)' } }))).toHaveLength(0);
  });
});

describe('CanaryPromotion checks', () => {
  const endpointWith = (promotion: CanaryPromotion, percent = 10) => () => {
    const stack = newStack();
    return new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: percent, promotion }) });
  };
  test.each<[string, () => unknown, string]>([
    ['no steps', () => CanaryPromotion.steps([], { interval: Duration.minutes(30) }), 'promotion steps must not be empty: give the percentages to go through, ending at 100'],
    ['falling steps', () => CanaryPromotion.steps([10, 50, 25, 100], { interval: Duration.minutes(30) }), 'promotion steps must rise, got 25 after 50 in [10, 50, 25, 100]'],
    ['a repeated step', () => CanaryPromotion.steps([10, 10, 100], { interval: Duration.minutes(30) }), 'promotion steps must rise, got 10 after 10 in [10, 10, 100]'],
    ['not ending at 100', () => CanaryPromotion.steps([10, 25, 50], { interval: Duration.minutes(30) }), 'promotion steps must end at 100, got [10, 25, 50]'],
    ['a step above 100', () => CanaryPromotion.steps([10, 150], { interval: Duration.minutes(30) }), 'promotion step 2 must be a whole number between 1 and 100, got 150'],
    ['a 30-second interval', () => CanaryPromotion.steps([10, 100], { interval: Duration.seconds(30) }), 'promotion interval must be a whole number of seconds between 60 and 604800, got 30 seconds'],
    ['a gate that is not a step', () => CanaryPromotion.steps([10, 25, 100], { interval: Duration.minutes(30), approvalAt: 50 }), 'promotion approvalAt must be one of the steps below 100 (10, 25), got 50'],
    ['a gate at 100', () => CanaryPromotion.steps([10, 25, 100], { interval: Duration.minutes(30), approvalAt: 100 }), 'promotion approvalAt must be one of the steps below 100 (10, 25), got 100'],
    ['negative minimum requests', () => CanaryPromotion.steps([10, 100], { interval: Duration.minutes(30), minInvocations: -1 }), 'promotion minInvocations must be a whole number of at least 0, got -1'],
    ['a manual gate below the starting percent', endpointWith(CanaryPromotion.STEPS_5_10_25_50_100_HOURLY_WITH_APPROVAL_AT_50, 60),
      'promotion approvalAt of 50 is below the candidate\'s trafficPercent of 60: the rollout starts above its manual gate and would never wait there; '
      + 'start the canary at 50 or below, or choose a gate of 60 or more'],
    ['an interval shorter than the alarms need', endpointWith(CanaryPromotion.steps([10, 100], { interval: Duration.minutes(2) })),
      'promotion interval of 120 seconds is shorter than the 240 seconds the slowest rollback alarm needs to fire: make it at least 240 seconds'],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test('steps above the starting percent start from it', () => {
    const { template } = canaryStack({ percent: 5, promotion: CanaryPromotion.STEPS_10_25_50_100_EVERY_HOUR });
    expect(JSON.stringify(only(template, 'Custom::SageMakerRolloutDeployment').resource.Properties.Spec)).toContain('\\"steps\\":[5,10,25,50,100],\\"intervalSeconds\\":3600,\\"minInvocations\\":100');
  });

  test('steps at or below the starting percent are behind it: a preset fits any trafficPercent', () => {
    // The README's own canary (trafficPercent 10) with the preset that starts at 5.
    const { template } = canaryStack({ percent: 10, promotion: CanaryPromotion.STEPS_5_10_25_50_100_HOURLY_WITH_APPROVAL_AT_50 });
    expect(JSON.stringify(only(template, 'Custom::SageMakerRolloutDeployment').resource.Properties.Spec))
      .toContain('\\"promotion\\":{\\"steps\\":[10,25,50,100],\\"intervalSeconds\\":3600,\\"minInvocations\\":100,\\"approvalAt\\":50}');
    expect(CanaryPromotion.steps([10, 25, 100], { interval: Duration.minutes(30) })._schedule(20, 180).steps).toEqual([20, 25, 100]);
    expect(CanaryPromotion.steps([10, 25, 100], { interval: Duration.minutes(30), approvalAt: 25 })._schedule(25, 180)).toEqual(
      { steps: [25, 100], intervalSeconds: 1800, minInvocations: 100, approvalAt: 25 });
  });

  test('presets are valid schedules', () => {
    for (const preset of [CanaryPromotion.STEPS_10_25_50_100_EVERY_30_MINUTES, CanaryPromotion.STEPS_10_25_50_100_EVERY_HOUR, CanaryPromotion.STEPS_5_10_25_50_100_HOURLY_WITH_APPROVAL_AT_50]) {
      expect(preset._schedule(5, 180).steps[0]).toBe(5);
    }
  });
});
