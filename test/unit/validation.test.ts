import { Duration, Size } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  CanaryPromotion, Candidate, ContainerImage, InstanceType, Model, ModelData, ModelEndpoint, RollbackAlarms, TrafficShift,
} from '../../lib';
import { withConstructPath } from '../../lib/private/validation';
import { modelV1, modelV2, newStack } from './util';

/**
 * Bad input is refused at synth time with a message that names the property, the value and the
 * allowed range (DESIGN.md, "Bad input"). Each row builds one invalid configuration.
 */
type Case = [description: string, build: () => unknown, message: string];

const endpointWith = (production: Record<string, unknown>, extra: Record<string, unknown> = {}) => () => {
  const stack = newStack();
  return new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack), ...production } as any, ...extra });
};
const endpointWithCandidate = (candidate: (stack: any) => Candidate, production: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => () => {
  const stack = newStack();
  return new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack), ...production } as any, candidate: candidate(stack), ...extra });
};

const cases: Case[] = [
  ['endpoint name too long', endpointWith({}, { endpointName: 'a'.repeat(64) }),
    `TestStack/E: endpointName must be at most 63 characters, got 64 ("${'a'.repeat(64)}")`],
  ['endpoint name with an underscore', endpointWith({}, { endpointName: 'my_endpoint' }),
    'TestStack/E: endpointName must contain only letters, digits and hyphens, and start and end with a letter or digit, got "my_endpoint"'],
  ['endpoint name ending in a hyphen', endpointWith({}, { endpointName: 'recommender-' }),
    'TestStack/E: endpointName must contain only letters, digits and hyphens, and start and end with a letter or digit, got "recommender-"'],
  ['variant name with a dot', endpointWith({ variantName: 'prod.v1' }),
    'TestStack/E: production.variantName must contain only letters, digits and hyphens, and start and end with a letter or digit, got "prod.v1"'],
  ['zero instances', endpointWith({ instanceCount: 0 }), 'TestStack/E: production.instanceCount must be a whole number of at least 1, got 0'],
  ['half an instance', endpointWith({ instanceCount: 1.5 }), 'TestStack/E: production.instanceCount must be a whole number of at least 1, got 1.5'],
  ['an instance type without ml.', () => InstanceType.of('m5.xlarge'),
    'instanceType must be a SageMaker instance type starting with "ml." (for example ml.m5.xlarge), got "m5.xlarge"'],
  ['serverless memory off the 1 GB steps', endpointWith({ serverless: { memorySizeInMB: 1500, maxConcurrency: 5 } }),
    'TestStack/E: production.serverless.memorySizeInMB must be one of 1024, 2048, 3072, 4096, 5120 or 6144, got 1500'],
  ['serverless concurrency above 200', endpointWith({ serverless: { memorySizeInMB: 2048, maxConcurrency: 201 } }),
    'TestStack/E: production.serverless.maxConcurrency must be a whole number between 1 and 200, got 201'],
  ['provisioned concurrency above the maximum', endpointWith({ serverless: { memorySizeInMB: 2048, maxConcurrency: 5, provisionedConcurrency: 6 } }),
    'TestStack/E: production.serverless.provisionedConcurrency must be at most maxConcurrency (5), got 6'],
  ['serverless and instances together', endpointWith({ serverless: { memorySizeInMB: 2048, maxConcurrency: 5 }, instanceCount: 2 }),
    'TestStack/E: production takes either serverless or instanceType/instanceCount, got both'],
  ['a volume of 600 GiB', endpointWith({ volumeSize: Size.gibibytes(600) }), 'TestStack/E: production.volumeSize (GiB) must be a whole number between 1 and 512, got 600'],
  ['a download timeout of 30 seconds', endpointWith({ modelDataDownloadTimeout: Duration.seconds(30) }),
    'TestStack/E: production.modelDataDownloadTimeout must be a whole number of seconds between 60 and 3600, got 30 seconds'],
  ['a health-check timeout of two hours', endpointWith({ containerStartupHealthCheckTimeout: Duration.hours(2) }),
    'TestStack/E: production.containerStartupHealthCheckTimeout must be a whole number of seconds between 60 and 3600, got 7200 seconds'],
  ['a candidate with the production variant\'s name', endpointWithCandidate((s) => Candidate.canary({ model: modelV2(s), trafficPercent: 10, variantName: 'Production' })),
    'TestStack/E: variant names must differ, got "Production" twice: give the candidate another variantName'],
  ['a canary at 100 percent', endpointWithCandidate((s) => Candidate.canary({ model: modelV2(s), trafficPercent: 100 })),
    'candidate.trafficPercent must be a whole number between 1 and 99, got 100'],
  ['a shadow sampling 0 percent', endpointWithCandidate((s) => Candidate.shadow({ model: modelV2(s), samplingPercent: 0 })),
    'candidate.samplingPercent must be between 1 and 100, got 0'],
  ['a canary on a serverless endpoint', endpointWithCandidate((s) => Candidate.canary({ model: modelV2(s), trafficPercent: 10 }), { serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } }),
    'TestStack/E: a canary candidate needs an instance-based production variant: serverless endpoints support neither multiple production variants nor shadow variants'],
  ['data capture on a serverless endpoint', endpointWith({ serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } }, { dataCapture: {} }),
    'TestStack/E: dataCapture is not available for serverless variants: remove dataCapture or use instances'],
  ['model data that is not a tarball', () => ModelData.fromAsset('test/fixtures/model.zip'),
    'ModelData.fromAsset takes a gzipped tarball (SageMaker\'s model format): the path must end in .tar.gz, got "test/fixtures/model.zip"'],
  ['model data that is not an S3 URL', () => ModelData.fromS3Url('https://example.com/model.tar.gz'),
    'modelData must be an S3 URL of the form s3://bucket/key, got "https://example.com/model.tar.gz"'],
  ['model data whose bucket name is too short', () => ModelData.fromS3Url('s3://b/key'),
    'modelData\'s bucket name "b" (in "s3://b/key") is not a valid S3 bucket name: a bucket name is 3 to 63 characters long, got 1'],
  ['model data whose bucket name has capitals', () => ModelData.fromS3Url('s3://My_Models/recommender/model.tar.gz'),
    'modelData\'s bucket name "My_Models" (in "s3://My_Models/recommender/model.tar.gz") is not a valid S3 bucket name: a bucket name has only lower-case letters, digits, dots and hyphens'],
  ['model data whose bucket name ends with a hyphen', () => ModelData.fromS3Url('s3://models-/m.tar.gz'),
    'modelData\'s bucket name "models-" (in "s3://models-/m.tar.gz") is not a valid S3 bucket name: a bucket name begins and ends with a letter or digit'],
  ['model data whose bucket name has two dots in a row', () => ModelData.fromS3Url('s3://my..models/m.tar.gz'),
    'modelData\'s bucket name "my..models" (in "s3://my..models/m.tar.gz") is not a valid S3 bucket name: a bucket name has no two adjacent dots'],
  ['model data whose bucket name is an IP address', () => ModelData.fromS3Url('s3://192.168.5.4/m.tar.gz'),
    'modelData\'s bucket name "192.168.5.4" (in "s3://192.168.5.4/m.tar.gz") is not a valid S3 bucket name: a bucket name is not formatted as an IP address'],
  ['model data without a key', () => ModelData.fromS3Url('s3://my-models/'),
    'modelData must be an S3 URL of the form s3://bucket/key, got "s3://my-models/"'],
  ['an image URI with a space', () => ContainerImage.fromImageUri('my image'), 'image URI must be a non-empty URI without spaces, got "my image"'],
  ['an environment variable name with a hyphen', () => {
    const stack = newStack();
    return new Model(stack, 'M', { image: ContainerImage.fromImageUri('repo/image:1'), environment: { 'MY-VAR': '1' } });
  }, 'TestStack/M: environment variable names must be 1-1024 letters, digits or \'_\' and not start with a digit, got "MY-VAR"'],
  ['a readable prefix that does not contain the key', () => {
    const stack = newStack();
    return new Model(stack, 'M', { image: ContainerImage.fromImageUri('repo/image:1'), modelData: ModelData.fromS3Url('s3://my-bucket/recommender/1/model.tar.gz', { readablePrefix: 'ranker/' }) });
  }, 'TestStack/M: readablePrefix must be a prefix of the model artifact\'s key "recommender/1/model.tar.gz", got "ranker/"'],
  ['eleven rollback alarms', () => {
    const stack = newStack();
    const ep0 = new ModelEndpoint(stack, 'Other', { production: { model: modelV1(stack, 'M0') }, rollbackAlarms: RollbackAlarms.recommended({ maxLatency: Duration.millis(100) }) });
    const alarms = [...ep0.rollbackAlarms, ...ep0.rollbackAlarms.map((_a, i) => ep0.metricInvocations('production').createAlarm(stack, `A${i}`, { threshold: 1, evaluationPeriods: 1 }))];
    const more = [0, 1, 2, 3, 4].map((i) => ep0.metricInvocations('production').createAlarm(stack, `B${i}`, { threshold: 1, evaluationPeriods: 1 }));
    return new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, rollbackAlarms: RollbackAlarms.fromAlarms([...alarms, ...more]) });
  }, 'TestStack/E: rollbackAlarms must be at most 10 alarms (SageMaker\'s AutoRollbackConfiguration limit), got 11 (11 your own): drop 1, for example some of your own alarms (watch several metrics with one metric-math alarm)'],
  ['a candidate that is the production model', () => {
    const stack = newStack();
    const v1 = modelV1(stack);
    return new ModelEndpoint(stack, 'E', { production: { model: v1 }, candidate: Candidate.canary({ model: v1, trafficPercent: 10 }) });
  }, 'TestStack/E: candidate.model must be a new model, got the production model (TestStack/RecommenderV1)'],
  ['a candidate with the production model\'s image and data', endpointWithCandidate((s) => Candidate.shadow({ model: modelV1(s, 'Copy') })),
    'TestStack/E: candidate.model must differ from production.model, got TestStack/Copy with the same image, model data and environment as TestStack/RecommenderV1'],
  ['a shadow whose captures sample 0 percent', endpointWithCandidate((s) => Candidate.shadow({ model: modelV2(s) }), {}, { dataCapture: { samplingPercent: 0 } }),
    'TestStack/E: dataCapture.samplingPercent must be between 1 and 100 with a shadow candidate (its answers are only seen in the captures), got 0'],
  ['a metric of a variant the endpoint does not have', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'E', { endpointName: 'recommender', production: { model: modelV1(stack) }, candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10 }) });
    return endpoint.metricModelLatency('prod');
  }, 'TestStack/E: metricModelLatency: variantName must be one of "production", "candidate" (the variants of endpoint recommender), got "prod"'],
  ['a metric of a variant an imported endpoint does not have', () => {
    const stack = newStack();
    return ModelEndpoint.fromEndpointAttributes(stack, 'Imported', { endpointName: 'ranker', variantNames: ['blue'] }).metricInvocations('green');
  }, 'TestStack/Imported: metricInvocations: variantName must be one of "blue" (the variants of endpoint ranker), got "green"'],
  ['an imported endpoint with an invalid name', () => ModelEndpoint.fromEndpointName(newStack(), 'Imported', 'bad_name'),
    'TestStack/Imported: endpointName must contain only letters, digits and hyphens, and start and end with a letter or digit, got "bad_name"'],
];

describe('invalid input is refused at synth time with an exact message', () => {
  test.each(cases)('%s', (_description, build, message) => {
    expect(build).toThrow(message);
    try {
      build();
    } catch (error) {
      expect((error as Error).message).toBe(message);
    }
  });

  test('there are at least 15 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  test('values that are tokens are left to CloudFormation', () => {
    const stack = newStack();
    const { Token } = require('aws-cdk-lib');
    expect(() => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), instanceCount: Token.asNumber({ Ref: 'Count' }) },
      endpointName: Token.asString({ Ref: 'Name' }),
    })).not.toThrow();
  });
});

describe('errors name the construct (DESIGN.md, "Errors name the construct")', () => {
  test('an error raised while a construct is built starts with its full path', () => {
    const stack = newStack('Acme');
    const team = new Construct(stack, 'Search');
    expect(() => new ModelEndpoint(team, 'Recommender', { production: { model: modelV1(stack), instanceCount: 0 } }))
      .toThrow(/^Acme\/Search\/Recommender: production.instanceCount must be a whole number of at least 1, got 0$/);
  });

  test('factories that run before any construct exists keep the bare message', () => {
    expect(() => Candidate.canary({ model: modelV1(newStack()), trafficPercent: 0 })).toThrow(/^candidate.trafficPercent must be a whole number between 1 and 99, got 0$/);
    expect(() => TrafficShift.linear({ stepPercent: 60, wait: Duration.minutes(5) })).toThrow(/^trafficShift\./);
  });

  test('an error is named once, by the construct that raised it', () => {
    const error = new Error('x must be y');
    const stack = newStack();
    withConstructPath(new Construct(stack, 'Inner'), error);
    withConstructPath(stack, error);
    expect(error.message).toBe('TestStack/Inner: x must be y');
  });
});

// Traffic shifts, alarms and promotions have their own tables in their own test files; these
// two keep the import list honest about what the endpoint checks.
test('TrafficShift and CanaryPromotion are validated where they are made', () => {
  expect(() => TrafficShift.canary({ percent: 60, wait: Duration.minutes(5) })).toThrow('trafficShift.percent must be a whole number between 1 and 50, got 60');
  expect(() => CanaryPromotion.steps([10, 50, 25, 100], { interval: Duration.minutes(30) })).toThrow('promotion steps must rise, got 25 after 50 in [10, 50, 25, 100]');
});
