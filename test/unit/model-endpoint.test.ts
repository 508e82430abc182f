import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { InstanceType, ModelEndpoint } from '../../lib';
import { modelV1, newStack, only, statementsOfRole } from './util';

function endpoint(stack: Stack, props: Partial<ConstructorParameters<typeof ModelEndpoint>[2]> = {}): ModelEndpoint {
  return new ModelEndpoint(stack, 'Recommender', { production: { model: modelV1(stack) }, ...props });
}

describe('ModelEndpoint with a production variant', () => {
  test('defaults: variant "production", one ml.m5.large instance, weight 1, no fixed config name', () => {
    const stack = newStack();
    endpoint(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      EndpointConfigName: Match.absent(),
      ProductionVariants: [{
        VariantName: 'production',
        InstanceType: 'ml.m5.large',
        InitialInstanceCount: 1,
        InitialVariantWeight: 1,
        ModelName: { 'Fn::GetAtt': [Match.stringLikeRegexp('RecommenderV1'), 'ModelName'] },
      }],
      ShadowProductionVariants: Match.absent(),
      DataCaptureConfig: Match.absent(),
    });
  });

  test('the endpoint is the construct\'s "Resource", named from the construct path in lower case', () => {
    const stack = newStack('MyStack');
    const ep = endpoint(stack);
    const template = Template.fromStack(stack);
    const { id, resource } = only(template, 'AWS::SageMaker::Endpoint');
    expect(id).toMatch(/^Recommender[0-9A-F]{8}$/);
    expect(ep.resource.node.id).toBe('Resource');
    expect(resource.Properties.EndpointName).toMatch(/^mystack-recommender-[0-9a-f]{8}$/);
    expect(ep.endpointName).toBe(resource.Properties.EndpointName);
    expect(resource.Properties.EndpointConfigName).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RecommenderConfig/), 'EndpointConfigName'] });
  });

  test('a generated name fits SageMaker\'s 63 characters even under a long path', () => {
    const stack = newStack('AVeryLongStackNameThatGoesOnAndOnForAWhileToTestTheLimit');
    const ep = new ModelEndpoint(stack, 'AnEndpointWithAnEquallyLongConstructIdToPushTheLimit', { production: { model: modelV1(stack) } });
    expect(ep.endpointName.length).toBeLessThanOrEqual(63);
    expect(ep.endpointName).toMatch(/^[a-z0-9](-*[a-z0-9])*$/);
  });

  test('a given endpointName is used as is; the ARN uses SageMaker\'s lower-case form', () => {
    const stack = newStack();
    const ep = endpoint(stack, { endpointName: 'Recommender-Prod' });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'Recommender-Prod' });
    expect(JSON.stringify(stack.resolve(ep.endpointArn))).toContain(':endpoint/recommender-prod');
  });

  test('instance type, count and variant name are taken from the props', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), instanceType: InstanceType.of('ml.c5.2xlarge'), instanceCount: 3, variantName: 'blue' },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VariantName: 'blue', InstanceType: 'ml.c5.2xlarge', InitialInstanceCount: 3 })],
    });
  });

  test('volume size and timeouts are rendered in SageMaker\'s units', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', {
      production: {
        model: modelV1(stack), volumeSize: Size.gibibytes(64),
        modelDataDownloadTimeout: Duration.minutes(20), containerStartupHealthCheckTimeout: Duration.minutes(10),
      },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VolumeSizeInGB: 64, ModelDataDownloadTimeoutInSeconds: 1200, ContainerStartupHealthCheckTimeoutInSeconds: 600 })],
    });
  });

  test('a serverless variant has memory and concurrency instead of instances', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack), serverless: { memorySizeInMB: 2048, maxConcurrency: 20, provisionedConcurrency: 2 } } });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [{
        VariantName: 'production', ModelName: Match.anyValue(), InitialVariantWeight: 1,
        ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 20, ProvisionedConcurrency: 2 },
      }],
    });
  });

  test('a KMS key encrypts the volumes, and the model role may use it', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    endpoint(stack, { encryptionKey: key });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
    // What encrypting volumes takes, through SageMaker or EC2 only; never kms:Encrypt or kms:ReEncrypt*.
    const viaService = { 'kms:ViaService': ['sagemaker', 'ec2'].map((s) => ({ 'Fn::Join': ['', [`${s}.`, { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] })) };
    const statements = statementsOfRole(template, 'SageMakerModelExecutionRole').filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext'], Resource: expect.anything(), Condition: { StringEquals: viaService } },
      { Effect: 'Allow', Action: 'kms:CreateGrant', Resource: expect.anything(), Condition: { 'StringEquals': viaService, 'Bool': { 'kms:GrantIsForAWSResource': 'true' } } },
    ]);
    for (const s of statements) expect(s.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
  });

  test('replaced endpoint configs are kept; the config of a deleted endpoint goes with it', () => {
    const stack = newStack();
    endpoint(stack);
    Template.fromStack(stack).hasResource('AWS::SageMaker::EndpointConfig', { UpdateReplacePolicy: 'Retain', DeletionPolicy: 'Delete' });
  });

  test('retainReplacedConfigs: false lets CloudFormation delete replaced configs', () => {
    const stack = newStack();
    endpoint(stack, { retainReplacedConfigs: false });
    const { resource } = only(Template.fromStack(stack), 'AWS::SageMaker::EndpointConfig');
    expect(resource.UpdateReplacePolicy).toBeUndefined();
  });

  test('models, config and endpoint carry the managed-by tag the cleanup command looks for', () => {
    const stack = newStack();
    endpoint(stack);
    const template = Template.fromStack(stack);
    const tag = { Key: 'cdk-sagemaker-rollout:managed-by', Value: 'cdk-sagemaker-rollout' };
    for (const type of ['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Endpoint']) {
      template.hasResourceProperties(type, { Tags: Match.arrayWith([tag]) });
    }
  });

  test('the config waits for its models, which wait for their role and the library\'s policies on it', () => {
    const stack = newStack();
    endpoint(stack);
    const template = Template.fromStack(stack);
    const config = only(template, 'AWS::SageMaker::EndpointConfig').resource;
    expect(config.DependsOn).toEqual([expect.stringMatching(/^RecommenderV1/)]);
    const model = only(template, 'AWS::SageMaker::Model').resource;
    expect(model.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^SageMakerModelExecutionRoleSageMakerRolloutGrantsPolicy1/), expect.stringMatching(/^SageMakerModelExecutionRole[0-9A-F]{8}$/)]));
  });

  test('fromEndpointName imports an endpoint for its ARN and metrics', () => {
    const stack = newStack();
    const imported = ModelEndpoint.fromEndpointName(stack, 'Imported', 'Fraud-Detector');
    expect(JSON.stringify(stack.resolve(imported.endpointArn))).toContain(':endpoint/fraud-detector');
    const metric = imported.metricInvocations('production');
    expect(metric.dimensions).toEqual({ EndpointName: 'Fraud-Detector', VariantName: 'production' });
  });

  test('a variant name set by hand is warned about: renaming it later defeats the guardrails', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack), variantName: 'blue' } });
    Annotations.fromStack(stack).hasWarning('/TestStack/E', Match.stringLikeRegexp('Keep production.variantName "blue" the same'));
  });
});
