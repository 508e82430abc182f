import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildExampleApp, PLACEHOLDER_INPUTS } from '../../bin/example-app';
import { Candidate, ContainerImage, InstanceType, Model, ModelData, ModelEndpoint } from '../../lib';
import { acknowledgeFindings } from '../../lib/private/acknowledge';
import { estimatedLength, MAX_POLICY_CHARS } from '../../lib/private/grants';
import { modelV1, modelV2, newStack, only, statementsOfRole } from './util';

/**
 * The findings of the security review (issue 12), each as the behaviour the templates must show.
 * The scanners' side (cdk-nag and checkov report a user's wildcard on Model.role) is in test/gates.
 */

function controllerStatements(template: Template): any[] {
  return statementsOfRole(template, 'SageMakerRolloutControllerRole');
}
const actionsOf = (statements: any[]) => statements.flatMap((s) => [s.Action].flat());

describe('the library\'s grants to a model role sit in policies of their own', () => {
  test('a statement a user adds to Model.role stays in the role\'s default policy, apart from the library\'s grants', () => {
    const stack = newStack();
    const model = modelV1(stack);
    model.role!.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    new ModelEndpoint(stack, 'E', { production: { model } });
    const template = Template.fromStack(stack);

    const inline = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('SageMakerModelExecutionRole'));
    expect(inline.map(([id]) => id)).toEqual([expect.stringMatching(/^SageMakerModelExecutionRoleDefaultPolicy/)]);
    expect((inline[0][1] as any).Properties.PolicyDocument.Statement).toEqual([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
    const library = template.findResources('AWS::IAM::ManagedPolicy');
    expect(Object.keys(library)).toEqual([expect.stringMatching(/^SageMakerModelExecutionRoleSageMakerRolloutGrantsPolicy1/)]);
    expect(actionsOf(Object.values(library).flatMap((p: any) => p.Properties.PolicyDocument.Statement)))
      .toEqual(expect.arrayContaining(['ecr:BatchGetImage', 's3:GetObject', 'cloudwatch:DescribeAlarms', 'logs:PutLogEvents']));
  });

  test('scanner acknowledgements of the library\'s grants are made on its policies, never on the role', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) } });
    Template.fromStack(stack);
    const acknowledgedAt = (scope: { node: { metadata: any[] } }) => scope.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    const role = stack.node.findChild('SageMakerModelExecutionRole').node.findChild('Role');
    expect(acknowledgedAt(role)).toEqual([]);
    const grants = role.node.findChild('SageMakerRolloutGrants');
    expect(acknowledgedAt(grants).length).toBeGreaterThan(0);
  });

  test('a role the user gives gets the library\'s policies as its child, and keeps its default policy for the user', () => {
    const stack = newStack();
    const role = new iam.Role(stack, 'MyRole', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    new Model(stack, 'M', { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/r:1'), role });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', { Roles: [{ Ref: Match.stringLikeRegexp('^MyRole') }] });
  });

  test('every reason given for one finding id on one construct is kept', () => {
    const stack = newStack();
    const scope = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    acknowledgeFindings(scope, { nag: ['AwsSolutions-IAM5[Resource::*]'] }, 'first reason, for the image pulls');
    acknowledgeFindings(scope, { nag: ['AwsSolutions-IAM5[Resource::*]'] }, 'second reason, for the metrics');
    acknowledgeFindings(scope, { nag: ['AwsSolutions-IAM5[Resource::*]'] }, 'first reason, for the image pulls');
    const reasons = scope.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.values(m.data as object));
    expect(reasons).toEqual(['first reason, for the image pulls Also: second reason, for the metrics']);
  });
});

describe('IAM size limits with 60 canary endpoints in one stack', () => {
  test('every policy fits (6,144 characters per managed policy, 10,240 of inline policy per role, 10 managed policies per role)', () => {
    const stack = new Stack(new App(), 'Sixty');
    for (let i = 0; i < 60; i++) {
      new ModelEndpoint(stack, `Endpoint${i}`, {
        production: {
          model: new Model(stack, `Model${i}V1`, {
            image: ContainerImage.fromImageUri(`123456789012.dkr.ecr.us-east-1.amazonaws.com/model-${i}:1`),
            modelData: ModelData.fromS3Url(`s3://bench-artifacts/model-${i}/1/model.tar.gz`),
          }),
          instanceType: InstanceType.ML_M5_XLARGE,
          instanceCount: 2,
        },
        candidate: Candidate.canary({
          model: new Model(stack, `Model${i}V2`, {
            image: ContainerImage.fromImageUri(`123456789012.dkr.ecr.us-east-1.amazonaws.com/model-${i}:2`),
            modelData: ModelData.fromS3Url(`s3://bench-artifacts/model-${i}/2/model.tar.gz`),
          }),
          trafficPercent: 10,
        }),
      });
    }
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
    // The library's policies replace the default policy and CDK's overflow policies of before: still within CloudFormation's 500 resources.
    expect(Object.keys(resources).length).toBeLessThanOrEqual(500);
    const perRole = new Map<string, { inline: number; managed: number[] }>();
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const size = estimatedLength(r.Properties.PolicyDocument);
      for (const role of r.Properties.Roles) {
        const entry = perRole.get(role.Ref) ?? { inline: 0, managed: [] };
        if (r.Type === 'AWS::IAM::Policy') entry.inline += size; else entry.managed.push(size);
        perRole.set(role.Ref, entry);
      }
    }
    console.log(`policy sizes with 60 canary endpoints (longest partition, region and account): ${JSON.stringify(Object.fromEntries(perRole))}`);
    for (const [, { inline, managed }] of perRole) {
      expect(inline).toBeLessThanOrEqual(10_240);
      for (const size of managed) expect(size).toBeLessThanOrEqual(MAX_POLICY_CHARS);
      expect(managed.length).toBeLessThanOrEqual(10);
    }
    const modelRole = [...perRole.entries()].find(([role]) => role.startsWith('SageMakerModelExecutionRole'))![1];
    expect(modelRole.managed.length).toBeGreaterThan(1); // the library's grants were split, not truncated
  });
});

describe('each strategy gets the controller permissions it uses', () => {
  test('a shadow-only stack may describe its endpoint but never change weights or read endpoint configs', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, candidate: Candidate.shadow({ model: modelV2(stack) }) });
    const actions = actionsOf(controllerStatements(Template.fromStack(stack)));
    expect(actions).toContain('sagemaker:DescribeEndpoint');
    expect(actions).not.toContain('sagemaker:UpdateEndpointWeightsAndCapacities');
    expect(actions).not.toContain('sagemaker:DescribeEndpointConfig');
  });

  test('a canary may change the weights of its own endpoint', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { endpointName: 'Recommender', production: { model: modelV1(stack) }, candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10 }) });
    const statements = controllerStatements(Template.fromStack(stack));
    const steer = statements.find((s) => [s.Action].flat().includes('sagemaker:UpdateEndpointWeightsAndCapacities'));
    expect(steer.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/recommender' });
    expect(actionsOf(statements)).toContain('sagemaker:DescribeEndpointConfig');
  });
});

test('container logs: the model role may write to its endpoints\' log groups only', () => {
  const stack = newStack();
  const model = modelV1(stack);
  new ModelEndpoint(stack, 'A', { endpointName: 'ranker', production: { model } });
  new ModelEndpoint(stack, 'B', { endpointName: 'Recommender', production: { model: modelV2(stack) } });
  const logs = statementsOfRole(Template.fromStack(stack), 'SageMakerModelExecutionRole').filter((s) => [s.Action].flat().includes('logs:PutLogEvents'));
  expect(logs).toHaveLength(1);
  expect(logs[0].Resource).toEqual([
    { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/Endpoints/ranker:*' },
    { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/Endpoints/Recommender:*' },
  ]);
});

describe('the capture bucket', () => {
  function shadowStack() {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, candidate: Candidate.shadow({ model: modelV2(stack) }) });
    return { stack, endpoint, template: Template.fromStack(stack) };
  }

  test('takes writes from the roles SageMaker uses and nobody else', () => {
    const { template } = shadowStack();
    const policy = only(template, 'AWS::S3::BucketPolicy').resource.Properties.PolicyDocument.Statement;
    expect(policy).toEqual(expect.arrayContaining([{
      Sid: 'OnlySageMakerWritesCaptures',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ECaptureBucket/), 'Arn'] }, '/*']] },
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [expect.stringMatching(/^SageMakerModelExecutionRole[0-9A-F]{8}$/), 'Arn'] }] } },
    }]));
  });

  test('lets captures leave by lifecycle only, and is still kept when the stack goes', () => {
    const { template } = shadowStack();
    const policy = only(template, 'AWS::S3::BucketPolicy').resource.Properties.PolicyDocument.Statement;
    expect(policy).toEqual(expect.arrayContaining([expect.objectContaining({
      Sid: 'CapturesLeaveByLifecycleOnly', Effect: 'Deny', Principal: { AWS: '*' }, Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
    })]));
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', Properties: { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Status: 'Enabled', ExpirationInDays: 30 })]) } } });
  });

  test('with an imported model (its role unknown), writes stay open to the account so that SageMaker can still write', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: Model.fromModelName(stack, 'Old', 'recommender-v1') }, candidate: Candidate.shadow({ model: modelV2(stack) }) });
    const policy = only(Template.fromStack(stack), 'AWS::S3::BucketPolicy').resource.Properties.PolicyDocument.Statement;
    expect(policy.map((s: any) => s.Sid)).not.toContain('OnlySageMakerWritesCaptures');
    expect(policy.map((s: any) => s.Sid)).toContain('CapturesLeaveByLifecycleOnly');
  });
});

test('ModelData.fromAsset lets the role read the asset\'s object, not the whole staging bucket', () => {
  const stack = newStack();
  new Model(stack, 'M', { image: ContainerImage.fromImageUri('repo/image:1'), modelData: ModelData.fromAsset(path.join(__dirname, '../fixtures/model.tar.gz')) });
  const read = statementsOfRole(Template.fromStack(stack), 'SageMakerModelExecutionRole').find((s) => [s.Action].flat().includes('s3:GetObject'));
  const resource = JSON.stringify(read.Resource);
  expect(resource).toMatch(/\/[0-9a-f]{64}\.gz"/);
  expect(resource).not.toContain('/*');
});

describe('grantInvoke and imported endpoints', () => {
  test('grantInvoke allows sagemaker:InvokeEndpoint on this endpoint only, by its lower-case ARN', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'E', { endpointName: 'Recommender', production: { model: modelV1(stack) } });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    endpoint.grantInvoke(caller);
    expect(statementsOfRole(Template.fromStack(stack), 'Caller')).toEqual([{
      Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint',
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/recommender' },
    }]);
  });

  test('fromEndpointAttributes takes a name, an optional ARN and the variants', () => {
    const stack = newStack();
    const arn = 'arn:aws:sagemaker:eu-west-1:210987654321:endpoint/ranker';
    const imported = ModelEndpoint.fromEndpointAttributes(stack, 'Ranker', { endpointName: 'Ranker', endpointArn: arn, variantNames: ['blue', 'green'] });
    expect(imported.endpointArn).toBe(arn);
    expect(stack.resolve(imported.metricInvocations('green').dimensions)).toEqual({ EndpointName: 'Ranker', VariantName: 'green' });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    imported.grantInvoke(caller);
    expect(statementsOfRole(Template.fromStack(stack), 'Caller')[0].Resource).toBe(arn);
    // By name alone: any variant, an ARN in lower case.
    const byName = ModelEndpoint.fromEndpointName(stack, 'ByName', 'Scorer');
    expect(stack.resolve(byName.endpointArn)).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/scorer' });
    expect(() => byName.metricModelLatency('anything')).not.toThrow();
  });

  test('the metric helpers take the endpoint\'s own variants, as DESIGN.md calls them', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, candidate: Candidate.shadow({ model: modelV2(stack) }) });
    expect(endpoint.metricModelLatency('production').dimensions).toEqual(expect.objectContaining({ VariantName: 'production' }));
    expect(endpoint.metricInvocations('shadow').dimensions).toEqual(expect.objectContaining({ VariantName: 'shadow' }));
  });
});

describe('an image in another region than the stack', () => {
  test('warns, naming both regions, when the stack\'s region is known', () => {
    const stack = new Stack(new App(), 'Frankfurt', { env: { region: 'eu-central-1', account: '123456789012' } });
    new Model(stack, 'M', { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:1.0') });
    Annotations.fromStack(stack).hasWarning('/Frankfurt/M', Match.stringLikeRegexp(
      '^The image 123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:1.0 is in region us-east-1, but the stack deploys to eu-central-1: SageMaker pulls ECR images'));
  });

  test('warns for an imported repository of another region too', () => {
    const stack = new Stack(new App(), 'Frankfurt', { env: { region: 'eu-central-1', account: '123456789012' } });
    const repo = ecr.Repository.fromRepositoryArn(stack, 'Repo', 'arn:aws:ecr:us-west-2:123456789012:repository/recommender');
    new Model(stack, 'M', { image: ContainerImage.fromEcrRepository(repo, '1.0') });
    Annotations.fromStack(stack).hasWarning('/Frankfurt/M', Match.stringLikeRegexp('^The image the ECR repository Frankfurt/Repo is in region us-west-2, but the stack deploys to eu-central-1'));
  });

  test('says nothing when the regions match, or when the stack\'s region is only known at deploy time', () => {
    const known = new Stack(new App(), 'Virginia', { env: { region: 'us-east-1' } });
    new Model(known, 'M', { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:1.0') });
    Annotations.fromStack(known).hasNoWarning('*', Match.stringLikeRegexp('is in region'));
    const agnostic = newStack();
    modelV1(agnostic);
    Annotations.fromStack(agnostic).hasNoWarning('*', Match.stringLikeRegexp('is in region'));
  });
});

test('the example app\'s key lets CloudWatch use it for this account\'s alarms only (aws:SourceAccount)', () => {
  const app = new App();
  const [stack] = buildExampleApp(app, PLACEHOLDER_INPUTS);
  const key = only(Template.fromStack(stack), 'AWS::KMS::Key').resource;
  const cloudwatch = key.Properties.KeyPolicy.Statement.filter((s: any) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'));
  expect(cloudwatch).toEqual([expect.objectContaining({ Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })]);
});
