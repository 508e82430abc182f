/**
 * Shadow: production v1 answers, v2 gets a copy; both variants' requests and answers are captured
 * to S3. The probe counts the records per variant and settles two UNCONFIRMED README items:
 * how a shadow's weight maps to the copied share (shadow weight 0.5 against production 1.0: a
 * ratio near 0.5 means "the weight is the sampled fraction", near 0.33 "weights are shares of a
 * total"), and whether a shadow's record carries the same event id as production's (records are
 * paired by the InferenceId the traffic sends).
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Candidate, InstanceType, ModelEndpoint } from '../../lib';
import { failingModel, Probe, settle, SteadyTraffic } from './support/kit';

const app = new App();
const stack = new Stack(app, 'IntegRolloutShadow', { stackName: 'integ-rollout-shadow' });
const endpointName = 'integ-rollout-shadow';
const samplingPercent = 50;
const prefix = 'capture';

// A bucket of the test's own, emptied and deleted at teardown (the library's default keeps data).
const bucket = new s3.Bucket(stack, 'Capture', {
  removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true, enforceSSL: true,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, encryption: s3.BucketEncryption.S3_MANAGED,
});
const endpoint = new ModelEndpoint(stack, 'Endpoint', {
  endpointName,
  production: { model: failingModel(stack, 'V1', { version: 'v1' }), instanceType: InstanceType.of('ml.m5.large'), instanceCount: 1 },
  candidate: Candidate.shadow({ model: failingModel(stack, 'V2', { version: 'v2' }), samplingPercent }),
  dataCapture: { samplingPercent: 100, bucket, prefix },
  dashboard: false,
});
new SteadyTraffic(stack, 'Traffic', { endpointName, ratePerSecond: 5, inferenceIdPrefix: 'integ' });
const probe = new Probe(stack, 'Probe', { functionName: 'integ-rollout-shadow-probe' });

const integ = new IntegTest(app, 'Shadow', { testCases: [stack], stackUpdateWorkflow: false });
settle(integ.assertions, probe, {
  question: 'shadowCapture',
  bucketName: bucket.bucketName,
  prefix: `${prefix}/`,
  endpointName,
  productionVariant: endpoint.productionVariantName,
  shadowVariant: endpoint.candidateVariantName,
  shadowWeight: samplingPercent / 100,
  // 1,000 production records: the two mappings (0.5 and 0.33) are then many standard errors apart.
  minRecords: 1000,
  tolerance: 0.08,
}, Duration.minutes(30));
