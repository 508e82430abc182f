import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CfnEndpointConfig } from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { acknowledgeFindings, acknowledgeWildcards } from './private/acknowledge';
import { grantKeyUse, LibraryGrants } from './private/grants';
import { validateWholeNumber } from './private/validation';

/** Data capture: requests and answers of every variant written to S3 as JSON Lines. */
export interface DataCaptureOptions {
  /**
   * Share of requests captured, in percent (0-100).
   * @default 100
   */
  readonly samplingPercent?: number;
  /** Capture the requests. @default true */
  readonly captureInput?: boolean;
  /** Capture the answers. @default true */
  readonly captureOutput?: boolean;
  /**
   * Content types captured as JSON text (up to 10). Other content types are captured base64-encoded.
   * @default ['application/json']
   */
  readonly jsonContentTypes?: string[];
  /**
   * Content types captured as CSV text (up to 10).
   * @default ['text/csv']
   */
  readonly csvContentTypes?: string[];
  /**
   * Where captures go.
   * @default - a bucket created for it: no public access, TLS only, encrypted, versioned, objects
   *   expire after `expiration` (and are gone for good one day later), kept when the stack is deleted
   */
  readonly bucket?: s3.IBucket;
  /**
   * Key prefix in the bucket; SageMaker adds `<endpoint>/<variant>/yyyy/mm/dd/hh/`.
   * @default 'data-capture'
   */
  readonly prefix?: string;
  /**
   * KMS key SageMaker encrypts captured objects with (and the created bucket's default key).
   * @default - the bucket's encryption (SSE-S3 for the created bucket)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long captured objects live in the created bucket.
   * @default Duration.days(30)
   */
  readonly expiration?: Duration;
}

/**
 * The capture bucket: no public access, TLS only, encrypted, versioned (a deleted or overwritten capture can be
 * recovered for a day), objects expire, kept when the stack is deleted.
 */
function createCaptureBucket(scope: Construct, options: DataCaptureOptions, expirationDays: number): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'CaptureBucket', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    encryption: options.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: options.encryptionKey,
    bucketKeyEnabled: options.encryptionKey ? true : undefined,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [
      {
        id: 'expire-captures',
        expiration: Duration.days(expirationDays),
        // Versioning keeps what expires or is deleted as a noncurrent version: gone for good one day later.
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
      { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
    ],
    // Captures are evidence of what the models answered: deleting the stack must not delete them.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledgeFindings(bucket, {
    nag: ['AwsSolutions-S1', 'HIPAA.Security-S3BucketLoggingEnabled', 'NIST.800.53.R5-S3BucketLoggingEnabled'],
    checkov: ['CKV_AWS_18'],
  }, 'Server access logs need a second bucket, which would need its own logs; access to the captures is audited where AWS recommends it, '
    + 'with CloudTrail data events of the account\'s trail (S3 docs, "Logging options for Amazon S3"). The library grants the endpoint\'s model '
    + 'roles nothing but putting new objects under the capture prefix.');
  acknowledgeFindings(bucket, { nag: ['HIPAA.Security-S3BucketReplicationEnabled', 'NIST.800.53.R5-S3BucketReplicationEnabled'] },
    'Replicating captured requests and answers copies them to a second bucket, usually in another Region: a data-residency decision only the owner '
    + 'of the data can make. The captures are temporary (they expire) and the bucket is kept when the stack is deleted.');
  return bucket;
}

/**
 * The created bucket takes captures from the roles SageMaker writes them with, and nobody else: any
 * other principal of the account with S3 rights could otherwise plant or overwrite "captures" that
 * the comparison then trusts. Captures leave by lifecycle expiration only (S3 applies lifecycle rules
 * itself, outside bucket policies); nobody deletes them by hand unless the bucket policy is changed
 * first. The stack never deletes this bucket or its objects (it is retained), so nothing of the
 * stack's own is locked out.
 *
 * `aws:PrincipalArn` is the role's ARN for a session of that role
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
 * When a variant's model is imported its role is unknown: writes then stay open to the account, or
 * SageMaker could not write that variant's captures.
 */
function protectCaptures(bucket: s3.IBucket, writers: iam.IRole[], allWritersKnown: boolean): void {
  if (allWritersKnown && writers.length > 0) {
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'OnlySageMakerWritesCaptures',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': writers.map((r) => r.roleArn) } },
    }));
  }
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CapturesLeaveByLifecycleOnly',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
    resources: [bucket.arnForObjects('*')],
  }));
}

/** Data capture bound to an endpoint. */
export interface BoundDataCapture {
  readonly config: CfnEndpointConfig.DataCaptureConfigProperty;
  readonly bucket: s3.IBucket;
  readonly prefix: string;
}

/**
 * Creates the capture bucket when none is given, renders `DataCaptureConfig` and grants every model
 * role that SageMaker uses for the endpoint exactly what capture needs: put objects under the prefix
 * (and use the key).
 */
export function bindDataCapture(scope: Construct, options: DataCaptureOptions, writers: iam.IRole[], allWritersKnown: boolean): BoundDataCapture {
  validateWholeNumber('dataCapture.samplingPercent', options.samplingPercent, 0, 100);
  const captureInput = options.captureInput ?? true;
  const captureOutput = options.captureOutput ?? true;
  if (!captureInput && !captureOutput) {
    throw new Error('dataCapture must capture the input, the output or both: captureInput and captureOutput are both false');
  }
  const jsonContentTypes = options.jsonContentTypes ?? ['application/json'];
  const csvContentTypes = options.csvContentTypes ?? ['text/csv'];
  for (const [prop, list] of [['jsonContentTypes', jsonContentTypes], ['csvContentTypes', csvContentTypes]] as const) {
    if (list.length > 10) {
      throw new Error(`dataCapture.${prop} must have at most 10 content types, got ${list.length}`);
    }
  }
  const prefix = (options.prefix ?? 'data-capture').replace(/^\/+|\/+$/g, '');
  if (!Token.isUnresolved(prefix) && (prefix === '' || prefix.length > 400)) {
    throw new Error(`dataCapture.prefix must be 1-400 characters, got "${options.prefix}"`);
  }
  if (options.bucket && options.expiration) {
    throw new Error('dataCapture.expiration applies to the bucket created for you: set the lifecycle on your own bucket instead, or leave out dataCapture.bucket');
  }
  const expirationDays = options.expiration?.toDays() ?? 30;
  validateWholeNumber('dataCapture.expiration (days)', expirationDays, 1);

  const bucket = options.bucket ?? createCaptureBucket(scope, options, expirationDays);

  const captures = bucket.arnForObjects(`${prefix}/*`);
  if (!options.bucket) protectCaptures(bucket, writers, allWritersKnown);
  for (const role of writers.map((r) => LibraryGrants.of(r))) {
    // Exactly what SageMaker does with captures: put new objects (multipart uploads included) under the prefix.
    iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:PutObject'], resourceArns: [captures] });
    acknowledgeWildcards(role, { resources: [captures] }, `SageMaker writes captures to keys it chooses under the capture prefix `
      + `(<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>); the role may only put objects, only under that prefix.`);
    // SSE-KMS uploads need a data key, and multipart uploads also decrypt it
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html), through S3 only.
    if (options.encryptionKey) grantKeyUse(role, options.encryptionKey, ['kms:GenerateDataKey', 'kms:Decrypt'], ['s3']);
  }

  return {
    bucket,
    prefix,
    config: {
      enableCapture: true,
      initialSamplingPercentage: options.samplingPercent ?? 100,
      destinationS3Uri: bucket.s3UrlForObject(prefix),
      kmsKeyId: options.encryptionKey?.keyArn,
      captureOptions: [
        ...(captureInput ? [{ captureMode: 'Input' }] : []),
        ...(captureOutput ? [{ captureMode: 'Output' }] : []),
      ],
      captureContentTypeHeader: {
        jsonContentTypes: jsonContentTypes.length > 0 ? jsonContentTypes : undefined,
        csvContentTypes: csvContentTypes.length > 0 ? csvContentTypes : undefined,
      },
    },
  };
}
