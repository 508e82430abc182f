import * as path from 'path';
import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from './private/acknowledge';
import { compactArn } from './private/naming';

/** What a container image gives to the model that uses it. */
export interface ContainerImageConfig {
  /** The image URI SageMaker pulls. */
  readonly imageUri: string;
}

/**
 * The inference container image of a model.
 *
 * Pull permissions are granted per ECR repository, not per tag, so that a fleet still running an
 * earlier tag of the same repository can keep pulling it (for scaling or patching) after the
 * stack moved on to a newer tag.
 */
export abstract class ContainerImage {
  /**
   * An image by URI, for example `123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:1.0`.
   *
   * When the URI is an ECR URI, the model role may pull from that repository. Other registries
   * get no grant (SageMaker reads them through your own registry configuration).
   */
  public static fromImageUri(imageUri: string): ContainerImage {
    return new UriImage(imageUri);
  }

  /** An image in an ECR repository, by tag (default `latest`). The model role may pull from the repository. */
  public static fromEcrRepository(repository: ecr.IRepository, tag: string = 'latest'): ContainerImage {
    return new RepositoryImage(repository, tag);
  }

  /**
   * An image built from a local directory with a Dockerfile. `cdk synth` only records the asset;
   * the image is built and pushed by `cdk deploy` (which needs Docker on the deploying machine).
   */
  public static fromAsset(directory: string, options: ecr_assets.DockerImageAssetOptions = {}): ContainerImage {
    return new AssetImage(directory, options);
  }

  /**
   * Called by the model: returns the image URI and grants the model role what it needs to pull it.
   * You may extend this class, in any language jsii targets, to supply an image another way.
   */
  public abstract bind(scope: Construct, grantee: iam.IGrantable): ContainerImageConfig;
}

/** `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>[:tag][@digest]` */
const ECR_URI = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9._\/-]+?)(?::[\w.-]+)?(?:@sha256:[a-f0-9]{64})?$/;

/** The repository ARN of an ECR image URI, or undefined when the URI is not an ECR URI. */
export function ecrRepositoryArnOf(imageUri: string): string | undefined {
  const match = ECR_URI.exec(imageUri);
  if (!match) return undefined;
  const [, account, region, china, repository] = match;
  if (china) return `arn:aws-cn:ecr:${region}:${account}:repository/${repository}`;
  return compactArn('ecr', `repository/${repository}`, { region, account });
}

class UriImage extends ContainerImage {
  constructor(private readonly imageUri: string) {
    super();
    if (!Token.isUnresolved(imageUri) && (imageUri.trim() === '' || /\s/.test(imageUri))) {
      throw new Error(`image URI must be a non-empty URI without spaces, got "${imageUri}"`);
    }
  }

  public bind(scope: Construct, grantee: iam.IGrantable): ContainerImageConfig {
    if (Token.isUnresolved(this.imageUri)) {
      Annotations.of(scope).addWarningV2('cdk-sagemaker-rollout:imageNotGranted',
        'The image URI is only known at deploy time, so no ECR pull access was granted for it: give the model a role that can pull it, or use ContainerImage.fromEcrRepository.');
      return { imageUri: this.imageUri };
    }
    const repositoryArn = ecrRepositoryArnOf(this.imageUri);
    if (repositoryArn) {
      grantEcrPull(grantee, repositoryArn);
      warnAboutRegion(scope, this.imageUri, ECR_URI.exec(this.imageUri)![2]);
    }
    return { imageUri: this.imageUri };
  }
}

class RepositoryImage extends ContainerImage {
  constructor(private readonly repository: ecr.IRepository, private readonly tag: string) {
    super();
    if (!Token.isUnresolved(tag) && !/^[\w][\w.-]{0,127}$/.test(tag)) {
      throw new Error(`image tag must be 1-128 letters, digits, '_', '.' or '-' and not start with '.' or '-', got "${tag}"`);
    }
  }

  public bind(scope: Construct, grantee: iam.IGrantable): ContainerImageConfig {
    this.repository.grantPull(grantee);
    warnAboutRegion(scope, `the ECR repository ${this.repository.node.path}`, this.repository.env.region);
    acknowledgeWildcards(grantee, { resources: ['*'] }, GET_AUTHORIZATION_TOKEN_REASON);
    return { imageUri: this.repository.repositoryUriForTag(this.tag) };
  }
}

class AssetImage extends ContainerImage {
  private asset?: ecr_assets.DockerImageAsset;

  constructor(private readonly directory: string, private readonly options: ecr_assets.DockerImageAssetOptions) {
    super();
  }

  public bind(scope: Construct, grantee: iam.IGrantable): ContainerImageConfig {
    // One asset per model: the asset's construct lives under the model that uses it.
    this.asset ??= new ecr_assets.DockerImageAsset(scope, 'ImageAsset', {
      ...this.options,
      directory: path.resolve(this.directory),
    });
    this.asset.repository.grantPull(grantee);
    acknowledgeWildcards(grantee, { resources: ['*'] }, GET_AUTHORIZATION_TOKEN_REASON);
    return { imageUri: this.asset.imageUri };
  }
}

/**
 * SageMaker pulls a model's image from ECR in the model's own region: "the Docker image for inference
 * container in Amazon EC2 Container Registry must be in the same region as the model or endpoint you
 * are creating" (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html,
 * `Image`). Checked when both regions are known at synthesis.
 */
function warnAboutRegion(scope: Construct, image: string, imageRegion: string): void {
  const stackRegion = Stack.of(scope).region;
  if (Token.isUnresolved(stackRegion) || Token.isUnresolved(imageRegion) || imageRegion === stackRegion) return;
  Annotations.of(scope).addWarningV2('cdk-sagemaker-rollout:imageRegion',
    `The image ${image} is in region ${imageRegion}, but the stack deploys to ${stackRegion}: SageMaker pulls ECR images from the model's own region only. Push the image to ${stackRegion} (ECR replication can copy it).`);
}

function grantEcrPull(grantee: iam.IGrantable, repositoryArn: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
    resourceArns: [repositoryArn],
  });
  // GetAuthorizationToken has no resource-level permissions: AWS only accepts "*" for it.
  iam.Grant.addToPrincipal({ grantee, actions: ['ecr:GetAuthorizationToken'], resourceArns: ['*'] });
  acknowledgeWildcards(grantee, { resources: ['*'] }, GET_AUTHORIZATION_TOKEN_REASON);
}

const GET_AUTHORIZATION_TOKEN_REASON = 'ecr:GetAuthorizationToken has no resource-level permissions (AWS accepts only "*"); the token alone pulls '
  + 'nothing: image pulls are limited to the model\'s repository by the statement beside it.';
