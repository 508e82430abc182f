import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Candidate, ModelEndpoint, RollbackAlarms } from '../../lib';
import { modelV1, modelV2, newStack, only, statementsOfRole } from './util';

function shadowStack(extra: Record<string, unknown> = {}, samplingPercent?: number) {
  const stack = newStack();
  const endpoint = new ModelEndpoint(stack, 'Recommender', {
    production: { model: modelV1(stack), instanceCount: 2 },
    candidate: Candidate.shadow({ model: modelV2(stack), samplingPercent }),
    ...extra,
  });
  return { stack, endpoint, template: Template.fromStack(stack) };
}

describe('Candidate.shadow', () => {
  test('one production variant at weight 1.0 and one shadow variant at samplingPercent / 100', () => {
    const { template } = shadowStack({}, 25);
    const config = only(template, 'AWS::SageMaker::EndpointConfig').resource.Properties;
    expect(config.ProductionVariants).toEqual([expect.objectContaining({ VariantName: 'production', InitialVariantWeight: 1 })]);
    expect(config.ShadowProductionVariants).toEqual([expect.objectContaining({ VariantName: 'shadow', InitialVariantWeight: 0.25, InitialInstanceCount: 2 })]);
  });

  test('data capture is on by default, at 100 %, input and output, JSON and CSV as text', () => {
    const { template } = shadowStack();
    const capture = only(template, 'AWS::SageMaker::EndpointConfig').resource.Properties.DataCaptureConfig;
    expect(capture).toEqual({
      EnableCapture: true,
      InitialSamplingPercentage: 100,
      DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^RecommenderCaptureBucket/) }, '/data-capture']] },
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      CaptureContentTypeHeader: { JsonContentTypes: ['application/json'], CsvContentTypes: ['text/csv'] },
    });
  });

  test('the capture bucket blocks public access, enforces TLS, is encrypted and versioned, expires objects after 30 days and is kept', () => {
    const { template } = shadowStack();
    const bucket = only(template, 'AWS::S3::Bucket');
    expect(bucket.resource.DeletionPolicy).toBe('Retain');
    expect(bucket.resource.Properties).toEqual(expect.objectContaining({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: [
        expect.objectContaining({ ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' }),
        expect.objectContaining({ ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
      ] },
    }));
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('SageMaker (through the model role) gets exactly put access under the prefix', () => {
    const { template } = shadowStack();
    const put = statementsOfRole(template, 'SageMakerModelExecutionRole').find((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(put.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^RecommenderCaptureBucket/), 'Arn'] }, '/data-capture/*']] });
    expect([put.Action].flat().some((a: string) => a.startsWith('s3:Get') || a === 's3:*' || a.startsWith('s3:Delete'))).toBe(false);
  });

  test('capture options: sampling, output only, content types, KMS key, expiry, prefix', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack) },
      dataCapture: { samplingPercent: 20, captureInput: false, jsonContentTypes: ['application/json', 'application/jsonlines'], csvContentTypes: [], encryptionKey: key, expiration: Duration.days(7), prefix: '/captures/' },
    });
    const template = Template.fromStack(stack);
    const capture = only(template, 'AWS::SageMaker::EndpointConfig').resource.Properties.DataCaptureConfig;
    expect(capture).toEqual(expect.objectContaining({
      InitialSamplingPercentage: 20,
      CaptureOptions: [{ CaptureMode: 'Output' }],
      CaptureContentTypeHeader: { JsonContentTypes: ['application/json', 'application/jsonlines'] },
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^ECaptureBucket/) }, '/captures']] },
    }));
    const kmsGrant = statementsOfRole(template, 'SageMakerModelExecutionRole').find((st) => JSON.stringify(st.Action) === JSON.stringify(['kms:Decrypt', 'kms:GenerateDataKey']));
    expect(kmsGrant.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
    // Through S3 only.
    expect(kmsGrant.Condition).toEqual({ StringEquals: { 'kms:ViaService': [{ 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] }] } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } })] },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7 })]) },
    });
  });

  test('your own bucket is used as given', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Mine', { enforceSSL: true });
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, candidate: Candidate.shadow({ model: modelV2(stack) }), dataCapture: { bucket } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(only(template, 'AWS::SageMaker::EndpointConfig').resource.Properties.DataCaptureConfig.DestinationS3Uri)
      .toEqual({ 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^Mine/) }, '/data-capture']] });
  });

  test('shadow alarms watch the shadow variant, notify through the controller, and are not rollback alarms', () => {
    const { template, endpoint } = shadowStack();
    expect(endpoint.shadowAlarms).toHaveLength(2);
    expect(endpoint.rollbackAlarms).toHaveLength(2);
    const auto = only(template, 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms.map((a: any) => a.AlarmName);
    expect(auto).toEqual(endpoint.rollbackAlarmNames);
    expect(auto.every((n: string) => n.includes('-production-'))).toBe(true);
    const shadowNames = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties.AlarmName).filter((n: string) => n.includes('-shadow-'));
    expect(shadowNames).toHaveLength(2);
    expect(JSON.stringify(only(template, 'Custom::SageMakerRolloutDeployment').resource.Properties.Spec)).toContain('\\"kind\\":\\"shadow\\"');
  });

  test('shadow alarms can be configured on the candidate', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack) },
      candidate: Candidate.shadow({ model: modelV2(stack), alarms: RollbackAlarms.recommended({ maxLatency: Duration.millis(500) }) }),
    });
    expect(endpoint.shadowAlarms).toHaveLength(3);
  });
});

describe('data capture checks', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['sampling above 100', { samplingPercent: 101 }, 'dataCapture.samplingPercent must be a whole number between 0 and 100, got 101'],
    ['neither input nor output', { captureInput: false, captureOutput: false }, 'dataCapture must capture the input, the output or both: captureInput and captureOutput are both false'],
    ['eleven JSON content types', { jsonContentTypes: Array.from({ length: 11 }, (_, i) => `application/x-${i}`) }, 'dataCapture.jsonContentTypes must have at most 10 content types, got 11'],
    ['an expiry with your own bucket', { bucket: 'own', expiration: Duration.days(3) }, 'dataCapture.expiration applies to the bucket created for you: set the lifecycle on your own bucket instead, or leave out dataCapture.bucket'],
  ])('%s', (_name, capture, message) => {
    const stack = newStack();
    const dataCapture = capture.bucket === 'own' ? { ...capture, bucket: new s3.Bucket(stack, 'Own') } : capture;
    expect(() => new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, dataCapture })).toThrow(message);
  });

  test('a shadow on a serverless endpoint is refused', () => {
    const stack = newStack();
    expect(() => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } },
      candidate: Candidate.shadow({ model: modelV2(stack) }),
    })).toThrow('a shadow candidate needs an instance-based production variant: serverless endpoints support neither multiple production variants nor shadow variants');
  });
});

describe('dashboard', () => {
  test('production beside the candidate: requests, error rates, latency p50/p99, traffic share and alarm states', () => {
    const { template } = shadowStack();
    const body = JSON.stringify(only(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody);
    for (const title of ['Requests per minute', '5xx error rate (%)', 'Model error rate (%)', 'Model latency p50 (ms)', 'Model latency p99 (ms)', 'Observed traffic share (%)', 'Rollback and shadow alarms']) {
      expect(body).toContain(title);
    }
    expect(body).toContain('production (production)');
    expect(body).toContain('shadow (shadow)');
  });

  test('the body is one Fn::Sub: the library\'s alarms by name, names known only at deploy time as variables', () => {
    const { template, endpoint } = shadowStack();
    const body = only(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody['Fn::Sub'];
    const alarms = JSON.parse(body).widgets.find((w: any) => w.type === 'alarm').properties.alarms;
    expect(alarms).toEqual([...endpoint.rollbackAlarmNames, ...Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((a: any) => a.Properties.AlarmName).filter((n: string) => n.includes('-shadow-'))]
      .map((name) => `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${name}`));

    const stack = newStack();
    const { Token } = require('aws-cdk-lib');
    new ModelEndpoint(stack, 'E', { endpointName: Token.asString({ Ref: 'EndpointNameParameter' }), production: { model: modelV1(stack) } });
    const sub = only(Template.fromStack(stack), 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody['Fn::Sub'];
    expect(sub[1]).toEqual(expect.objectContaining({ EndpointName: { Ref: 'EndpointNameParameter' } }));
    expect(sub[0]).toContain('"EndpointName","${EndpointName}"');
  });

  test('dashboard: false leaves it out', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, dashboard: false });
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });
});
