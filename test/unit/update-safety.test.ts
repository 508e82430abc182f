import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Candidate, ContainerImage, Model, ModelData, ModelEndpoint, RollbackAlarms, TrafficShift } from '../../lib';
import { DATA_V1, DATA_V2, IMAGE_V1, IMAGE_V2 } from './util';

/**
 * The same app synthesized before and after a change, as two successive `cdk deploy`s would see
 * it: the endpoint must keep its logical ID and name (no replacement, no downtime), while the
 * config (and a changed model) is replaced in place.
 */
interface Version {
  readonly image: string;
  readonly data: string;
  readonly candidate?: boolean;
  readonly trafficShift?: TrafficShift;
  readonly instanceCount?: number;
  readonly maxLatency?: Duration;
}

function synth(version: Version): Template {
  const stack = new Stack(new App(), 'Service');
  const production = new Model(stack, 'Production', { image: ContainerImage.fromImageUri(version.image), modelData: ModelData.fromS3Url(version.data) });
  const candidateModel = version.candidate
    ? new Model(stack, 'Candidate', { image: ContainerImage.fromImageUri(IMAGE_V2), modelData: ModelData.fromS3Url(DATA_V2) })
    : undefined;
  new ModelEndpoint(stack, 'Recommender', {
    production: { model: production, instanceCount: version.instanceCount ?? 2 },
    candidate: candidateModel ? Candidate.canary({ model: candidateModel, trafficPercent: 10 }) : undefined,
    trafficShift: version.trafficShift,
    rollbackAlarms: RollbackAlarms.recommended({ maxLatency: version.maxLatency }),
  });
  return Template.fromStack(stack);
}

function endpointOf(template: Template): { id: string; name: string; configRef: unknown } {
  const endpoints = template.findResources('AWS::SageMaker::Endpoint');
  const [id] = Object.keys(endpoints);
  return { id, name: endpoints[id].Properties.EndpointName, configRef: endpoints[id].Properties.EndpointConfigName };
}

function configOf(template: Template): { id: string; properties: any } {
  const configs = template.findResources('AWS::SageMaker::EndpointConfig');
  const [id] = Object.keys(configs);
  return { id, properties: configs[id].Properties };
}

const v1: Version = { image: IMAGE_V1, data: DATA_V1 };

describe.each<[string, Version]>([
  ['a new production model (blue/green)', { image: IMAGE_V2, data: DATA_V2 }],
  ['a canary candidate added', { ...v1, candidate: true }],
  ['another traffic shift', { ...v1, trafficShift: TrafficShift.LINEAR_20PERCENT_EVERY_5MINUTES, instanceCount: 5 }],
  ['another instance count', { ...v1, instanceCount: 4 }],
  ['a latency alarm added', { ...v1, maxLatency: Duration.millis(300) }],
])('from v1 to %s', (_name, next) => {
  const before = synth(v1);
  const after = synth(next);

  test('the endpoint keeps its logical ID and its name', () => {
    expect(endpointOf(after).id).toBe(endpointOf(before).id);
    expect(endpointOf(after).name).toBe(endpointOf(before).name);
  });

  test('the endpoint points at the config through GetAtt, so a new config is an in-place UpdateEndpoint', () => {
    expect(endpointOf(after).configRef).toEqual({ 'Fn::GetAtt': [configOf(after).id, 'EndpointConfigName'] });
  });

  test('neither config nor models carry a fixed name, so CloudFormation can replace them', () => {
    expect(configOf(after).properties.EndpointConfigName).toBeUndefined();
    for (const model of Object.values(after.findResources('AWS::SageMaker::Model'))) {
      expect((model as any).Properties.ModelName).toBeUndefined();
    }
  });
});

test('a change of model changes the config (which CloudFormation then replaces) but not the endpoint', () => {
  const before = synth(v1);
  const after = synth({ image: IMAGE_V2, data: DATA_V2 });
  expect(configOf(after).id).toBe(configOf(before).id);
  const modelsBefore = Object.values(before.findResources('AWS::SageMaker::Model')).map((m: any) => m.Properties.PrimaryContainer.Image);
  const modelsAfter = Object.values(after.findResources('AWS::SageMaker::Model')).map((m: any) => m.Properties.PrimaryContainer.Image);
  expect(modelsBefore).toEqual([IMAGE_V1]);
  expect(modelsAfter).toEqual([IMAGE_V2]);
});

test('adding a candidate changes the variants of the config', () => {
  const before = configOf(synth(v1)).properties.ProductionVariants;
  const after = configOf(synth({ ...v1, candidate: true })).properties.ProductionVariants;
  expect(before.map((v: any) => v.VariantName)).toEqual(['production']);
  expect(after.map((v: any) => v.VariantName)).toEqual(['production', 'candidate']);
});
