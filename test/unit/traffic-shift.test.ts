import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { InstanceType, ModelEndpoint, RollbackAlarms, TrafficShift } from '../../lib';
import { modelV1, modelV2, newStack, only } from './util';

function deploymentConfigOf(shift: TrafficShift | undefined, instanceCount = 10, extra: Record<string, unknown> = {}): any {
  const stack = newStack();
  new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack), instanceCount }, trafficShift: shift, ...extra });
  return only(Template.fromStack(stack), 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig;
}

describe('TrafficShift renders DeploymentConfig', () => {
  test('the default is all at once with a 10-minute bake in TerminationWaitInSeconds, WaitIntervalInSeconds 0', () => {
    expect(deploymentConfigOf(undefined).BlueGreenUpdatePolicy).toEqual({
      TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
      TerminationWaitInSeconds: 600,
      MaximumExecutionTimeoutInSeconds: 600 + 1800,
    });
  });

  test.each<[string, TrafficShift, object]>([
    ['ALL_AT_ONCE', TrafficShift.ALL_AT_ONCE, { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, TerminationWaitInSeconds: 600, MaximumExecutionTimeoutInSeconds: 2400 }],
    ['CANARY_10PERCENT_5MINUTES', TrafficShift.CANARY_10PERCENT_5MINUTES,
      { TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 300 }, TerminationWaitInSeconds: 300, MaximumExecutionTimeoutInSeconds: 2400 }],
    ['CANARY_10PERCENT_10MINUTES', TrafficShift.CANARY_10PERCENT_10MINUTES,
      { TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 600 }, TerminationWaitInSeconds: 600, MaximumExecutionTimeoutInSeconds: 3000 }],
    ['CANARY_ONE_INSTANCE_10MINUTES', TrafficShift.CANARY_ONE_INSTANCE_10MINUTES,
      { TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 }, WaitIntervalInSeconds: 600 }, TerminationWaitInSeconds: 600, MaximumExecutionTimeoutInSeconds: 3000 }],
    // 5 steps of 2 instances (20 % of 10) x 300 s + 300 s bake + 1800 s
    ['LINEAR_20PERCENT_EVERY_5MINUTES', TrafficShift.LINEAR_20PERCENT_EVERY_5MINUTES,
      { TrafficRoutingConfiguration: { Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 20 }, WaitIntervalInSeconds: 300 }, TerminationWaitInSeconds: 300, MaximumExecutionTimeoutInSeconds: 5 * 300 + 300 + 1800 }],
    ['LINEAR_10PERCENT_EVERY_10MINUTES', TrafficShift.LINEAR_10PERCENT_EVERY_10MINUTES,
      { TrafficRoutingConfiguration: { Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 600 }, TerminationWaitInSeconds: 600, MaximumExecutionTimeoutInSeconds: 10 * 600 + 600 + 1800 }],
  ])('preset %s', (_name, shift, expected) => {
    expect(deploymentConfigOf(shift).BlueGreenUpdatePolicy).toEqual(expected);
  });

  test('preset ROLLING_25PERCENT_EVERY_5MINUTES: 4 batches of (300 s + 600 s provisioning) + 1800 s', () => {
    const config = deploymentConfigOf(TrafficShift.ROLLING_25PERCENT_EVERY_5MINUTES, 8);
    expect(config.BlueGreenUpdatePolicy).toBeUndefined();
    expect(config.RollingUpdatePolicy).toEqual({
      MaximumBatchSize: { Type: 'CAPACITY_PERCENT', Value: 25 }, WaitIntervalInSeconds: 300, MaximumExecutionTimeoutInSeconds: 4 * 900 + 1800,
    });
  });

  test('rolling with a rollback batch in instances', () => {
    const config = deploymentConfigOf(TrafficShift.rolling({ batchInstances: 2, wait: Duration.minutes(5), rollbackBatchInstances: 4 }), 8);
    expect(config.RollingUpdatePolicy).toEqual(expect.objectContaining({
      MaximumBatchSize: { Type: 'INSTANCE_COUNT', Value: 2 }, RollbackMaximumBatchSize: { Type: 'INSTANCE_COUNT', Value: 4 },
    }));
  });

  test('canary and linear by instance count', () => {
    expect(deploymentConfigOf(TrafficShift.canary({ instances: 2, wait: Duration.minutes(5), bake: Duration.minutes(15) })).BlueGreenUpdatePolicy)
      .toEqual(expect.objectContaining({ TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 2 }, WaitIntervalInSeconds: 300 }, TerminationWaitInSeconds: 900 }));
    expect(deploymentConfigOf(TrafficShift.linear({ stepInstances: 3, wait: Duration.minutes(5) })).BlueGreenUpdatePolicy.TrafficRoutingConfiguration)
      .toEqual({ Type: 'LINEAR', LinearStepSize: { Type: 'INSTANCE_COUNT', Value: 3 }, WaitIntervalInSeconds: 300 });
  });

  test('a given maximum execution time is used when it covers the waits', () => {
    expect(deploymentConfigOf(TrafficShift.allAtOnce({ bake: Duration.minutes(10), maxExecutionTime: Duration.hours(2) })).BlueGreenUpdatePolicy.MaximumExecutionTimeoutInSeconds).toBe(7200);
  });

  test('the rollback alarms are named in AutoRollbackConfiguration, and the endpoint depends on them', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) } });
    const { resource } = only(Template.fromStack(stack), 'AWS::SageMaker::Endpoint');
    expect(resource.Properties.DeploymentConfig.AutoRollbackConfiguration).toEqual({
      Alarms: [
        { AlarmName: expect.stringMatching(/^TestStack-rollout-teststack-e-[0-9a-f]{8}-production-5xx-error-rate$/) },
        { AlarmName: expect.stringMatching(/^TestStack-rollout-teststack-e-[0-9a-f]{8}-production-model-error-rate$/) },
      ],
    });
    expect(resource.DependsOn).toEqual([
      expect.stringMatching(/^ERollbackAlarmsError5xxRateAlarm/), expect.stringMatching(/^ERollbackAlarmsModelErrorRateAlarm/),
      // The stack's revert guard runs before the endpoint is updated (README, "Back to the previous model").
      expect.stringMatching(/^SageMakerRolloutControllerRevertGuard/),
    ]);
  });
});

describe('TrafficShift checks', () => {
  type Case = [string, () => unknown, string];
  const endpoint = (shift: TrafficShift, instanceCount = 10, extra: Record<string, unknown> = {}) => () => deploymentConfigOf(shift, instanceCount, extra);
  const cases: Case[] = [
    ['canary above 50 %', () => TrafficShift.canary({ percent: 60, wait: Duration.minutes(5) }), 'trafficShift.percent must be a whole number between 1 and 50, got 60'],
    ['canary with percent and instances', () => TrafficShift.canary({ percent: 10, instances: 1, wait: Duration.minutes(5) }), 'give exactly one of trafficShift.percent and trafficShift.instances, got both'],
    ['canary with neither', () => TrafficShift.canary({ wait: Duration.minutes(5) }), 'give exactly one of trafficShift.percent and trafficShift.instances, got neither'],
    ['linear below 10 %', () => TrafficShift.linear({ stepPercent: 5, wait: Duration.minutes(5) }), 'trafficShift.stepPercent must be a whole number between 10 and 50, got 5'],
    ['rolling above 50 %', () => TrafficShift.rolling({ batchPercent: 60, wait: Duration.minutes(5) }), 'trafficShift.batchPercent must be a whole number between 5 and 50, got 60'],
    ['rolling with both rollback sizes', () => TrafficShift.rolling({ batchPercent: 25, wait: Duration.minutes(5), rollbackBatchPercent: 50, rollbackBatchInstances: 2 }),
      'give at most one of trafficShift.rollbackBatchPercent and trafficShift.rollbackBatchInstances, got both'],
    ['a wait over an hour', () => TrafficShift.canary({ percent: 10, wait: Duration.minutes(61) }), 'trafficShift.wait must be a whole number of seconds between 0 and 3600, got 3660 seconds'],
    ['a bake over an hour', () => TrafficShift.allAtOnce({ bake: Duration.hours(2) }), 'trafficShift.bake must be a whole number of seconds between 0 and 3600, got 7200 seconds'],
    ['a timeout under 600 s', () => TrafficShift.allAtOnce({ maxExecutionTime: Duration.minutes(5) }), 'trafficShift.maxExecutionTime must be a whole number of seconds between 600 and 28800, got 300 seconds'],
    ['a timeout over 8 hours', () => TrafficShift.allAtOnce({ maxExecutionTime: Duration.hours(9) }), 'trafficShift.maxExecutionTime must be a whole number of seconds between 600 and 28800, got 32400 seconds'],
    ['a timeout that does not cover the waits', endpoint(TrafficShift.canary({ percent: 10, wait: Duration.minutes(30), bake: Duration.minutes(30), maxExecutionTime: Duration.minutes(50) })),
      'trafficShift.maxExecutionTime of 3000 seconds does not cover the waits and bake of 3600 seconds: make it longer'],
    ['waits that do not fit in 8 hours', endpoint(TrafficShift.linear({ stepPercent: 10, wait: Duration.minutes(50) })),
      'the traffic shift needs 34800 seconds with room for provisioning, more than SageMaker\'s maximum of 28800: shorten the waits or use fewer steps'],
    ['a percent below one instance', endpoint(TrafficShift.canary({ percent: 10, wait: Duration.minutes(5) }), 2),
      'trafficShift.percent of 10% of variant production\'s 2 instance(s) is 0.2 instances: it must come to at least one whole instance; give more instances or a larger percent'],
    ['one canary instance of one', endpoint(TrafficShift.canary({ instances: 1, wait: Duration.minutes(5) }), 1),
      'trafficShift.instances of 1 instance(s) is the whole of variant production\'s 1 instance(s): use TrafficShift.allAtOnce, or give the variant more instances'],
    ['a canary of 3 instances of 4 (over half)', endpoint(TrafficShift.canary({ instances: 3, wait: Duration.minutes(5) }), 4),
      'trafficShift.instances of 3 instance(s) is 75% of variant production\'s 4 instances: it must be between 1% and 50% of them'],
    ['a linear step of 1 instance of 20 (below 10 %)', endpoint(TrafficShift.linear({ stepInstances: 1, wait: Duration.minutes(5) }), 20),
      'trafficShift.stepInstances of 1 instance(s) is 5% of variant production\'s 20 instances: it must be between 10% and 50% of them'],
    ['a bake shorter than the alarms need to fire', endpoint(TrafficShift.allAtOnce({ bake: Duration.minutes(2) })),
      'trafficShift.bake of 120 seconds is shorter than the 240 seconds the slowest rollback alarm needs to fire (its time to detect): make it at least 240 seconds, or make the alarms faster'],
    ['a canary wait shorter than slow alarms need', endpoint(TrafficShift.canary({ percent: 10, wait: Duration.minutes(10) }), 10, {
      rollbackAlarms: RollbackAlarms.recommended({ period: Duration.minutes(5), evaluationPeriods: 3 }),
    }), 'trafficShift.wait of 600 seconds is shorter than the 960 seconds the slowest rollback alarm needs to fire (its time to detect): make it at least 960 seconds, or make the alarms faster'],
    ['rolling with a canary candidate', () => {
      const stack = newStack();
      const { Candidate } = require('../../lib');
      return new ModelEndpoint(stack, 'E', {
        production: { model: modelV1(stack), instanceCount: 4 },
        candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10 }),
        trafficShift: TrafficShift.ROLLING_25PERCENT_EVERY_5MINUTES,
      });
    }, 'trafficShift rolling needs exactly one production variant, got 2: SageMaker refuses rolling updates of multi-variant endpoints; use a blue/green shift (allAtOnce, canary or linear)'],
    ['rolling on serverless', () => {
      const stack = newStack();
      return new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack), serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } }, trafficShift: TrafficShift.ROLLING_25PERCENT_EVERY_5MINUTES });
    }, 'trafficShift rolling is not available for serverless variants: use TrafficShift.allAtOnce'],
  ];
  test.each(cases)('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('TrafficShift warnings', () => {
  function warningsOf(build: (stack: Stack) => void): string[] {
    const stack = newStack();
    build(stack);
    return Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
  }

  test('Inf1 instances: SageMaker silently updates all at once without a bake', () => {
    const warnings = warningsOf((stack) => new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack), instanceType: InstanceType.ML_INF1_XLARGE } }));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining('Inf1 instances, which deployment guardrails do not support: SageMaker silently updates all at once, without a bake')]));
  });

  test('an AWS Marketplace container: SageMaker silently updates all at once without a bake', () => {
    const { ContainerImage, Model } = require('../../lib');
    const warnings = warningsOf((stack) => new ModelEndpoint(stack, 'E', {
      production: { model: new Model(stack, 'M', { image: ContainerImage.fromImageUri('repo/image:1'), awsMarketplace: true }) },
    }));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining('AWS Marketplace container, which deployment guardrails do not support')]));
  });

  test('a canary or linear shift on serverless is ignored by SageMaker, and says so', () => {
    const warnings = warningsOf((stack) => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } },
      trafficShift: TrafficShift.canary({ instances: 1, wait: Duration.minutes(5) }),
    }));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining('Serverless endpoints only support all-at-once updates: SageMaker ignores the canary traffic shift and moves all traffic at once.')]));
  });

  test('no warning for a plain endpoint', () => {
    expect(warningsOf((stack) => new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) } }))).toEqual([]);
  });
});
