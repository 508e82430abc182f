import { Template } from 'aws-cdk-lib/assertions';
import { Candidate, ModelEndpoint } from '../../lib';
import { modelV1, modelV2, newStack, only, statementsOfRole } from './util';

/** What a stack deploys so that reverts can be made, recorded and kept: issue 16. */
function blueGreenStack(props: { acknowledgeRevert?: string; endpoints?: number } = {}) {
  const stack = newStack();
  const endpoints = Array.from({ length: props.endpoints ?? 1 }, (_, i) => new ModelEndpoint(stack, `E${i}`, {
    production: { model: modelV1(stack, `V1of${i}`) },
    acknowledgeRevert: props.acknowledgeRevert,
  }));
  return { stack, endpoints, template: Template.fromStack(stack) };
}

describe('a blue/green-only stack records its deployments', () => {
  test('it gets the state table, on demand with point-in-time recovery and kept on deletion, and the endpoint names it in a tag', () => {
    const { template, endpoints } = blueGreenStack();
    const table = only(template, 'AWS::DynamoDB::Table');
    expect(table.resource.Properties).toEqual(expect.objectContaining({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }));
    expect(table.resource.DeletionPolicy).toBe('Retain');
    const endpoint = template.findResources('AWS::SageMaker::Endpoint');
    expect(Object.values(endpoint)[0].Properties.Tags).toEqual(expect.arrayContaining([{ Key: ModelEndpoint.STATE_TABLE_TAG_KEY, Value: { Ref: table.id } }]));
    expect(endpoints[0].controllerFunction).toBeDefined();
  });

  test('the models reach the record through the guard: the post-deploy check\'s spec does not carry them again (the template stays small)', () => {
    const { template } = blueGreenStack();
    const guard = JSON.stringify(only(template, 'Custom::SageMakerRolloutRevertGuard').resource.Properties.Spec);
    expect(guard).toContain('\\"models\\":[{\\"variant\\":\\"production\\",\\"model\\":\\"');
    expect(guard).toMatch(/"Fn::GetAtt":\["V1of0[0-9A-F]+","ModelName"\]/);
    expect(JSON.stringify(only(template, 'Custom::SageMakerRolloutDeployment').resource.Properties.Spec)).not.toContain('models');
  });

  test('the controller reads and writes the table, and gets nothing more for it: no UpdateEndpoint, no DescribeEndpointConfig, no rules', () => {
    const { template } = blueGreenStack();
    const statements = statementsOfRole(template, 'SageMakerRolloutControllerRole');
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DeleteItem']));
    expect(actions).not.toContain('sagemaker:UpdateEndpoint');
    expect(actions).not.toContain('sagemaker:DescribeEndpointConfig');
    expect(actions).not.toContain('sagemaker:UpdateEndpointWeightsAndCapacities');
    template.resourceCountIs('AWS::Events::Rule', 0);
  });
});

describe('the revert guard', () => {
  test('one per stack, run before every endpoint is updated, with each endpoint\'s config, models and deployment settings', () => {
    const { template, endpoints } = blueGreenStack({ endpoints: 3 });
    const guard = only(template, 'Custom::SageMakerRolloutRevertGuard');
    for (const resource of Object.values(template.findResources('AWS::SageMaker::Endpoint'))) {
      expect(resource.DependsOn).toContain(guard.id);
    }
    const spec = JSON.stringify(guard.resource.Properties.Spec);
    for (const e of endpoints) expect(spec).toContain(`\\"endpointName\\":\\"${e.endpointName}\\"`);
    expect(spec).toMatch(/"Fn::GetAtt":\["E0Config[0-9A-F]+","EndpointConfigName"\]/);
    expect(spec).toMatch(/\\"deployment\\":\\"[0-9a-f]{16}\\"/);
    // Served by the stack's controller, once its permissions are in place.
    expect(guard.resource.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^SageMakerRolloutControllerFunction/), 'Arn'] });
    expect(guard.resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^SageMakerRolloutControllerRole/)]));
  });

  test('canary endpoints are guarded too: a deployment must not put a reverted model back as production', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10 }) });
    const template = Template.fromStack(stack);
    const guard = only(template, 'Custom::SageMakerRolloutRevertGuard');
    expect(only(template, 'AWS::SageMaker::Endpoint').resource.DependsOn).toContain(guard.id);
  });

  test('acknowledgeRevert goes into the guard\'s entry for that endpoint', () => {
    const { template } = blueGreenStack({ acknowledgeRevert: 'revert-20261130T041233Z' });
    expect(JSON.stringify(only(template, 'Custom::SageMakerRolloutRevertGuard').resource.Properties.Spec)).toContain('\\"acknowledgeRevert\\":\\"revert-20261130T041233Z\\"');
  });

  test('verifyDeployment: false leaves the endpoint out: no record, no guard', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, verifyDeployment: false });
    Template.fromStack(stack).resourceCountIs('Custom::SageMakerRolloutRevertGuard', 0);
  });
});

describe('acknowledgeRevert, bad input', () => {
  test.each<[string, () => void, string]>([
    ['not a revert id', () => blueGreenStack({ acknowledgeRevert: 'yes' }),
      'TestStack/E0: acknowledgeRevert must be a revert id such as revert-20261130T041233Z (as "status" shows it), got "yes"'],
    ['without the post-deploy check', () => {
      const stack = newStack();
      new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, verifyDeployment: false, acknowledgeRevert: 'revert-20261130T041233Z' });
    }, 'TestStack/E: acknowledgeRevert needs verifyDeployment (deployments and reverts are recorded by the post-deploy check), got verifyDeployment: false'],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });
});
