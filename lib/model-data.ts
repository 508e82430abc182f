import * as path from 'path';
import { Annotations, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3_assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from './private/acknowledge';
import { compactArn } from './private/naming';

/** What model data gives to the model that uses it. */
export interface ModelDataConfig {
  /** The S3 URL of the model artifact (`ModelDataUrl`). */
  readonly uri: string;
}

/** How much of the bucket the model role may read. */
export interface ModelDataAccessOptions {
  /**
   * The S3 key prefix the model role may read (without a leading slash), for example `recommender/`.
   *
   * @default - the folder that holds the artifact's folder when the key is at least three levels
   *   deep (`recommender/` for `recommender/1.0/model.tar.gz`), else the artifact's own folder, else
   *   the object itself. Versions kept side by side under one prefix so stay readable by the
   *   fleets that still run them after an update or a rollback.
   */
  readonly readablePrefix?: string;
}

/**
 * The model artifact (`model.tar.gz`) a model loads.
 *
 * Read access is granted on a key prefix rather than on one object: after an update the previous
 * fleet may still run (kept for a bake, or brought back by a rollback) and must be able to read its
 * own artifact when SageMaker scales or patches it.
 */
export abstract class ModelData {
  /** A model artifact by S3 URL, `s3://bucket/key`. */
  public static fromS3Url(url: string, options: ModelDataAccessOptions = {}): ModelData {
    if (Token.isUnresolved(url)) return new UnparsedUrlData(url);
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!match) {
      throw new Error(`modelData must be an S3 URL of the form s3://bucket/key, got "${url}"`);
    }
    const problem = bucketNameProblem(match[1]);
    if (problem) {
      throw new Error(`modelData's bucket name "${match[1]}" (in "${url}") is not a valid S3 bucket name: ${problem}`);
    }
    return new S3ObjectData(match[1], match[2], options);
  }

  /** A model artifact in a bucket, by key. The model role may read it (and decrypt it when the bucket has a KMS key). */
  public static fromBucket(bucket: s3.IBucket, key: string, options: ModelDataAccessOptions = {}): ModelData {
    return new BucketData(bucket, key, options);
  }

  /**
   * A local `.tar.gz` file, uploaded as a CDK asset at deploy time. SageMaker expects a gzipped
   * tarball, so other files are refused.
   *
   * The model role may read this artifact's object in CDK's staging bucket, and no other: after an
   * update, a fleet that SageMaker rolled back on its own to the previous artifact cannot read that
   * one again (to scale or be patched) until the stack runs it again. Use `fromBucket` with
   * versions side by side under a prefix where that matters.
   */
  public static fromAsset(filePath: string, options: s3_assets.AssetOptions = {}): ModelData {
    if (!filePath.endsWith('.tar.gz')) {
      throw new Error(`ModelData.fromAsset takes a gzipped tarball (SageMaker's model format): the path must end in .tar.gz, got "${filePath}"`);
    }
    return new AssetData(filePath, options);
  }

  /**
   * Called by the model: returns the artifact URL and grants the model role read access.
   * You may extend this class, in any language jsii targets, to supply an artifact another way.
   */
  public abstract bind(scope: Construct, grantee: iam.IGrantable): ModelDataConfig;
}

/**
 * Why a bucket name breaks S3's naming rules for general purpose buckets, or undefined when it
 * follows them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
 */
function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `a bucket name is 3 to 63 characters long, got ${name.length}`;
  if (!/^[a-z0-9.-]+$/.test(name)) return 'a bucket name has only lower-case letters, digits, dots and hyphens';
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return 'a bucket name begins and ends with a letter or digit';
  if (name.includes('..')) return 'a bucket name has no two adjacent dots';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'a bucket name is not formatted as an IP address';
  return undefined;
}

/**
 * The key prefix granted by default: see `ModelDataAccessOptions.readablePrefix`.
 * Returns a prefix ending in "/", or the key itself when the artifact sits at the bucket's root.
 */
export function defaultReadablePrefix(key: string): string {
  const folders = key.split('/').slice(0, -1);
  if (folders.length >= 2) return folders.slice(0, -1).join('/') + '/';
  if (folders.length === 1) return folders[0] + '/';
  return key;
}

/** Why a model may read a prefix rather than its one artifact (cdk-nag AwsSolutions-IAM5). */
const READABLE_PREFIX_REASON = 'Read-only (s3:GetObject) access to the prefix of the model artifact rather than to the one object: when a deployment '
  + 'moves to a new artifact, fleets still on an earlier one (kept endpoint configs, a fleet SageMaker rolled back) must still read theirs to scale '
  + 'or be patched. ModelDataAccessOptions.readablePrefix narrows it.';

function readablePattern(key: string, options: ModelDataAccessOptions): string {
  if (options.readablePrefix !== undefined) {
    const prefix = options.readablePrefix.replace(/^\/+/, '');
    if (!Token.isUnresolved(prefix) && !Token.isUnresolved(key) && !key.startsWith(prefix)) {
      throw new Error(`readablePrefix must be a prefix of the model artifact's key "${key}", got "${options.readablePrefix}"`);
    }
    return `${prefix}*`;
  }
  if (Token.isUnresolved(key)) return key;
  const prefix = defaultReadablePrefix(key);
  return prefix.endsWith('/') ? `${prefix}*` : prefix;
}

class S3ObjectData extends ModelData {
  constructor(private readonly bucketName: string, private readonly key: string, private readonly options: ModelDataAccessOptions) {
    super();
  }

  public bind(_scope: Construct, grantee: iam.IGrantable): ModelDataConfig {
    const objects = compactArn('s3', `${this.bucketName}/${readablePattern(this.key, this.options)}`, { region: '', account: '' });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [objects] });
    acknowledgeWildcards(grantee, { resources: [objects] }, READABLE_PREFIX_REASON);
    return { uri: `s3://${this.bucketName}/${this.key}` };
  }
}

/** An S3 URL only known at deploy time: nothing can be granted from it, so the role must be given. */
class UnparsedUrlData extends ModelData {
  constructor(private readonly url: string) {
    super();
  }

  public bind(scope: Construct): ModelDataConfig {
    Annotations.of(scope).addWarningV2('cdk-sagemaker-rollout:modelDataNotGranted',
      'The model data URL is only known at deploy time, so no S3 read access was granted for it: give the model a role that can read it, or use ModelData.fromBucket.');
    return { uri: this.url };
  }
}

class BucketData extends ModelData {
  constructor(private readonly bucket: s3.IBucket, private readonly key: string, private readonly options: ModelDataAccessOptions) {
    super();
  }

  public bind(_scope: Construct, grantee: iam.IGrantable): ModelDataConfig {
    // Only GetObject: SageMaker downloads the artifact and never lists the bucket.
    const objects = this.bucket.arnForObjects(readablePattern(this.key, this.options));
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [objects] });
    this.bucket.encryptionKey?.grantDecrypt(grantee);
    acknowledgeWildcards(grantee, { resources: [objects] }, READABLE_PREFIX_REASON);
    return { uri: this.bucket.s3UrlForObject(this.key) };
  }
}

class AssetData extends ModelData {
  private asset?: s3_assets.Asset;

  constructor(private readonly filePath: string, private readonly options: s3_assets.AssetOptions) {
    super();
  }

  public bind(scope: Construct, grantee: iam.IGrantable): ModelDataConfig {
    this.asset ??= new s3_assets.Asset(scope, 'ModelDataAsset', { ...this.options, path: path.resolve(this.filePath) });
    // The staging bucket holds every asset of every app deployed with the bootstrap stack: the role
    // may read this artifact's object and nothing else there.
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.asset.bucket.arnForObjects(this.asset.s3ObjectKey)] });
    return { uri: this.asset.s3ObjectUrl };
  }
}
