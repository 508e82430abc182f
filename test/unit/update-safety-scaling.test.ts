import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ContainerImage, InstanceType, Model, ModelData, ModelEndpoint } from '../../lib';
import { DATA_V1, DATA_V2, IMAGE_V1, IMAGE_V2 } from './util';

/**
 * Two successive `cdk deploy`s of a scaled endpoint: a new model (blue/green), then a new instance
 * type. The endpoint and its scalable target keep their logical IDs (no replacement: a replaced
 * target would be deregistered by CloudFormation's cleanup after the new one registered the same
 * variant), and only what must change does.
 */
function synth(image: string, data: string, instanceType: InstanceType): Template {
  const stack = new Stack(new App(), 'Service');
  const model = new Model(stack, 'Production', { image: ContainerImage.fromImageUri(image), modelData: ModelData.fromS3Url(data) });
  new ModelEndpoint(stack, 'Recommender', {
    production: { model, instanceType, instanceCount: 2, autoScaling: { minInstanceCount: 2, maxInstanceCount: 10, targetInvocationsPerInstance: 1000 } },
  });
  return Template.fromStack(stack);
}

function ids(template: Template, type: string): string[] {
  return Object.keys(template.findResources(type)).sort();
}

const v1 = synth(IMAGE_V1, DATA_V1, InstanceType.ML_M5_XLARGE);
const v2 = synth(IMAGE_V2, DATA_V2, InstanceType.ML_M5_XLARGE);
const v2OnC5 = synth(IMAGE_V2, DATA_V2, InstanceType.ML_C5_XLARGE);

test.each([
  ['a new model', v2],
  ['a new instance type', v2OnC5],
])('%s keeps the endpoint, the scalable target, its policy and the guard', (_name, next) => {
  for (const type of ['AWS::SageMaker::Endpoint', 'AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::ApplicationAutoScaling::ScalingPolicy', 'Custom::SageMakerRolloutScalingGuard']) {
    expect(ids(next, type)).toEqual(ids(v1, type));
  }
});

test('a new model leaves the scaling resources byte for byte as they were', () => {
  for (const type of ['AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::ApplicationAutoScaling::ScalingPolicy']) {
    expect(v2.findResources(type)).toEqual(v1.findResources(type));
  }
});

test('a new instance type changes what the guard is told, and nothing about the scaling resources', () => {
  const guard = (t: Template) => JSON.parse(Object.values(t.findResources('Custom::SageMakerRolloutScalingGuard'))[0].Properties.Spec);
  expect(guard(v1).configVariants).toEqual({ production: 'ml.m5.xlarge' });
  expect(guard(v2OnC5).configVariants).toEqual({ production: 'ml.c5.xlarge' });
  expect(v2OnC5.findResources('AWS::ApplicationAutoScaling::ScalableTarget')).toEqual(v1.findResources('AWS::ApplicationAutoScaling::ScalableTarget'));
});
