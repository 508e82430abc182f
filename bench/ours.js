// N canary endpoints with the recommended alarms, made with this library (the built package).
// BENCH_SCALING=1: both variants of every endpoint autoscale (target tracking on invocations).
const { Stack } = require('aws-cdk-lib');
const { Candidate, ContainerImage, InstanceType, Model, ModelData, ModelEndpoint } = require('../dist/lib');

exports.buildStack = (app, n) => {
  const stack = new Stack(app, 'BenchOurs');
  for (let i = 0; i < n; i++) {
    const v1 = new Model(stack, `Model${i}V1`, {
      image: ContainerImage.fromImageUri(`123456789012.dkr.ecr.us-east-1.amazonaws.com/model-${i}:1`),
      modelData: ModelData.fromS3Url(`s3://bench-artifacts/model-${i}/1/model.tar.gz`),
    });
    const v2 = new Model(stack, `Model${i}V2`, {
      image: ContainerImage.fromImageUri(`123456789012.dkr.ecr.us-east-1.amazonaws.com/model-${i}:2`),
      modelData: ModelData.fromS3Url(`s3://bench-artifacts/model-${i}/2/model.tar.gz`),
    });
    const scaling = process.env.BENCH_SCALING === '1';
    new ModelEndpoint(stack, `Endpoint${i}`, {
      production: {
        model: v1, instanceType: InstanceType.ML_M5_XLARGE, instanceCount: 2,
        autoScaling: scaling ? { minInstanceCount: 2, maxInstanceCount: 10, targetInvocationsPerInstance: 1000 } : undefined,
      },
      candidate: Candidate.canary({ model: v2, trafficPercent: 10, autoScaling: scaling ? { minInstanceCount: 1, maxInstanceCount: 4 } : undefined }),
    });
  }
  return stack;
};
