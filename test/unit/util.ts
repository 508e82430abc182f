import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ContainerImage, Model, ModelData } from '../../lib';

export const IMAGE_V1 = '123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:1.0';
export const IMAGE_V2 = '123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:2.0';
export const DATA_V1 = 's3://my-model-artifacts/recommender/1.0/model.tar.gz';
export const DATA_V2 = 's3://my-model-artifacts/recommender/2.0/model.tar.gz';

/** A fresh app and stack; the built-in validator stays on, as for users. */
export function newStack(id = 'TestStack'): Stack {
  return new Stack(new App(), id);
}

export function modelV1(stack: Stack, id = 'RecommenderV1'): Model {
  return new Model(stack, id, { image: ContainerImage.fromImageUri(IMAGE_V1), modelData: ModelData.fromS3Url(DATA_V1) });
}

export function modelV2(stack: Stack, id = 'RecommenderV2'): Model {
  return new Model(stack, id, { image: ContainerImage.fromImageUri(IMAGE_V2), modelData: ModelData.fromS3Url(DATA_V2) });
}

/** The only resource of a type, with its logical ID. */
export function only(template: Template, type: string): { id: string; resource: any } {
  const found = template.findResources(type);
  const ids = Object.keys(found);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return { id: ids[0], resource: found[ids[0]] };
}

/** Every statement of every IAM policy (inline or managed) attached to the role with this logical ID prefix. */
export function statementsOfRole(template: Template, rolePrefix: string): any[] {
  const policies = { ...template.findResources('AWS::IAM::Policy'), ...template.findResources('AWS::IAM::ManagedPolicy') };
  return Object.values(policies)
    .filter((p: any) => (p.Properties.Roles ?? []).some((r: any) => r.Ref?.startsWith(rolePrefix)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}
