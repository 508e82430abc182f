import * as path from 'path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ContainerImage, Model, ModelData } from '../../lib';
import { ecrRepositoryArnOf } from '../../lib/container-image';
import { defaultReadablePrefix } from '../../lib/model-data';
import { DATA_V1, IMAGE_V1, modelV1, modelV2, newStack, statementsOfRole } from './util';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

describe('Model', () => {
  test('wraps AWS::SageMaker::Model without a fixed name, with image, data and environment', () => {
    const stack = newStack();
    new Model(stack, 'M', {
      image: ContainerImage.fromImageUri(IMAGE_V1),
      modelData: ModelData.fromS3Url(DATA_V1),
      environment: { SAGEMAKER_PROGRAM: 'inference.py' },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      ModelName: Match.absent(),
      PrimaryContainer: { Image: IMAGE_V1, ModelDataUrl: DATA_V1, Environment: { SAGEMAKER_PROGRAM: 'inference.py' } },
      ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SageMakerModelExecutionRole'), 'Arn'] },
    });
  });

  test('is kept when replaced or removed, because a rolled-back fleet may still run it', () => {
    const stack = newStack();
    modelV1(stack);
    Template.fromStack(stack).hasResource('AWS::SageMaker::Model', { UpdateReplacePolicy: 'Retain', DeletionPolicy: 'Retain' });
  });

  test('removalPolicy DESTROY deletes replaced models', () => {
    const stack = newStack();
    new Model(stack, 'M', { image: ContainerImage.fromImageUri(IMAGE_V1), removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource('AWS::SageMaker::Model', { UpdateReplacePolicy: 'Delete', DeletionPolicy: 'Delete' });
  });

  test('models of one stack share one role that holds exactly their grants', () => {
    const stack = newStack();
    modelV1(stack);
    new Model(stack, 'Other', {
      image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:3'),
      modelData: ModelData.fromS3Url('s3://other-bucket/ranker/3/model.tar.gz'),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
    });
    const statements = statementsOfRole(template, 'SageMakerModelExecutionRole');
    const resources = statements.flatMap((s) => [s.Resource].flat());
    expect(JSON.stringify(resources)).toContain(':ecr:us-east-1:123456789012:repository/recommender');
    expect(JSON.stringify(resources)).toContain(':ecr:us-east-1:123456789012:repository/ranker');
    expect(JSON.stringify(resources)).toContain(':s3:::my-model-artifacts/recommender/*');
    expect(JSON.stringify(resources)).toContain(':s3:::other-bucket/ranker/*');
  });

  test('the default role has least privilege: no managed policies, no SageMaker or S3 wildcards', () => {
    const stack = newStack();
    modelV1(stack);
    const template = Template.fromStack(stack);
    const statements = statementsOfRole(template, 'SageMakerModelExecutionRole');
    const pull = statements.find((s) => [s.Action].flat().includes('ecr:BatchGetImage'));
    expect(pull.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:ecr:us-east-1:123456789012:repository/recommender' });
    const token = statements.find((s) => [s.Action].flat().includes('ecr:GetAuthorizationToken'));
    expect(token.Resource).toBe('*');
    const read = statements.find((s) => [s.Action].flat().includes('s3:GetObject'));
    expect(read.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::my-model-artifacts/recommender/*' });
    const metrics = statements.find((s) => [s.Action].flat().includes('cloudwatch:PutMetricData'));
    expect(metrics.Condition).toEqual({ StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } });
    // Container logs are granted by each endpoint on its own log group (security.test.ts), not by the model.
    expect(statements.find((s) => [s.Action].flat().includes('logs:PutLogEvents'))).toBeUndefined();
    for (const s of statements) {
      expect([s.Action].flat().some((a: string) => a.startsWith('sagemaker:') || a === '*' || a === 's3:*')).toBe(false);
    }
  });

  test('v1 and v2 in the same repository and folder family need no new grants: the older fleet keeps its access', () => {
    const stack = newStack();
    modelV1(stack);
    modelV2(stack);
    const statements = statementsOfRole(Template.fromStack(stack), 'SageMakerModelExecutionRole');
    const s3Resources = statements.filter((s) => [s.Action].flat().includes('s3:GetObject')).flatMap((s) => [s.Resource].flat());
    expect(new Set(s3Resources.map((r) => JSON.stringify(r))).size).toBe(1);
  });

  test('a given role receives the grants instead of the shared one', () => {
    const stack = newStack();
    const role = new iam.Role(stack, 'MyRole', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    new Model(stack, 'M', { image: ContainerImage.fromImageUri(IMAGE_V1), modelData: ModelData.fromS3Url(DATA_V1), role });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::SageMaker::Model', { ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('MyRole'), 'Arn'] } });
    expect(statementsOfRole(template, 'MyRole').length).toBeGreaterThan(0);
  });

  test('fromEcrRepository pulls by tag and grants pull on that repository', () => {
    const stack = newStack();
    const repo = new ecr.Repository(stack, 'Repo');
    new Model(stack, 'M', { image: ContainerImage.fromEcrRepository(repo, '2.0') });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Image: { 'Fn::Join': ['', Match.arrayWith([':2.0'])] } },
    });
    const pull = statementsOfRole(template, 'SageMakerModelExecutionRole').find((s) => [s.Action].flat().includes('ecr:BatchGetImage'));
    expect(pull.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Repo/), 'Arn'] });
  });

  test('fromAsset records a Docker image asset at synth time without building it', () => {
    const stack = newStack();
    new Model(stack, 'M', { image: ContainerImage.fromAsset(path.join(FIXTURES, 'image')) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Image: { 'Fn::Sub': Match.stringLikeRegexp('container-assets') } },
    });
  });

  test('ModelData.fromBucket reads the key and grants read on its prefix family', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Artifacts');
    new Model(stack, 'M', { image: ContainerImage.fromImageUri(IMAGE_V1), modelData: ModelData.fromBucket(bucket, 'recommender/1.0/model.tar.gz') });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { ModelDataUrl: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('Artifacts') }, '/recommender/1.0/model.tar.gz']] } },
    });
    const read = statementsOfRole(template, 'SageMakerModelExecutionRole').find((s) => [s.Action].flat().includes('s3:GetObject'));
    expect(read.Action).toBe('s3:GetObject');
    expect(JSON.stringify(read.Resource)).toContain('/recommender/*');
  });

  test('ModelData.fromAsset uploads a .tar.gz as an asset', () => {
    const stack = newStack();
    new Model(stack, 'M', { image: ContainerImage.fromImageUri(IMAGE_V1), modelData: ModelData.fromAsset(path.join(FIXTURES, 'model.tar.gz')) });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { ModelDataUrl: { 'Fn::Sub': Match.stringLikeRegexp('^s3://cdk-.*\\.gz$') } },
    });
  });

  test('readablePrefix narrows or widens the S3 grant', () => {
    const stack = newStack();
    new Model(stack, 'M', { image: ContainerImage.fromImageUri(IMAGE_V1), modelData: ModelData.fromS3Url(DATA_V1, { readablePrefix: 'recommender/1.0/' }) });
    const read = statementsOfRole(Template.fromStack(stack), 'SageMakerModelExecutionRole').find((s) => [s.Action].flat().includes('s3:GetObject'));
    expect(JSON.stringify(read.Resource)).toContain('my-model-artifacts/recommender/1.0/*');
  });

  test('a VPC places the container in private subnets with a security group and ENI permissions', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new Model(stack, 'M', { image: ContainerImage.fromImageUri(IMAGE_V1), vpc, networkIsolation: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      EnableNetworkIsolation: true,
      VpcConfig: { Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet') }]), SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('MSecurityGroup'), 'GroupId'] }] },
    });
    const eni = statementsOfRole(template, 'SageMakerModelExecutionRole').find((s) => [s.Action].flat().includes('ec2:CreateNetworkInterface'));
    expect(eni).toBeDefined();
  });

  test('fromModelName imports a model with a lower-case ARN and no role', () => {
    const stack = newStack();
    const model = Model.fromModelName(stack, 'Imported', 'Recommender-V1');
    expect(model.modelName).toBe('Recommender-V1');
    expect(model.role).toBeUndefined();
    expect(stack.resolve(model.modelArn)).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model/recommender-v1' });
  });
});

describe('ModelData and ContainerImage helpers', () => {
  test.each([
    ['recommender/1.0/model.tar.gz', 'recommender/'],
    ['models/recommender/1.0/model.tar.gz', 'models/recommender/'],
    ['v1/model.tar.gz', 'v1/'],
    ['model.tar.gz', 'model.tar.gz'],
  ])('the default readable prefix of %s is %s', (key, prefix) => {
    expect(defaultReadablePrefix(key)).toBe(prefix);
  });

  test.each([
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:1.0', ':ecr:us-east-1:123456789012:repository/recommender'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/recommender@sha256:' + 'a'.repeat(64), ':ecr:eu-west-1:123456789012:repository/team/recommender'],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/recommender', 'arn:aws-cn:ecr:cn-north-1:123456789012:repository/recommender'],
  ])('the repository of %s', (uri, expected) => {
    const resolved = newStack().resolve(ecrRepositoryArnOf(uri));
    expect(typeof resolved === 'string' ? resolved : resolved['Fn::Sub']).toMatch(new RegExp(`${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  test('a non-ECR image gets no ECR grant', () => {
    expect(ecrRepositoryArnOf('docker.io/library/nginx:latest')).toBeUndefined();
  });
});
