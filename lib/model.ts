import { IResource, RemovalPolicy, Resource, Stack, Token, cx_api as cxapi } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnModel } from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ContainerImage } from './container-image';
import { ModelData } from './model-data';
import { acknowledgeWildcards } from './private/acknowledge';
import { LibraryGrants } from './private/grants';
import { arnName, compactArn, MANAGED_BY_TAG } from './private/naming';
import { withConstructPath } from './private/validation';

/** A SageMaker model, created here or imported. */
export interface IModel extends IResource {
  /** The model's name. @attribute */
  readonly modelName: string;
  /** The model's ARN. @attribute */
  readonly modelArn: string;
  /**
   * The execution role SageMaker uses for this model's containers; undefined for imported models.
   * Endpoints grant it `cloudwatch:DescribeAlarms` on their rollback alarms.
   */
  readonly role?: iam.IRole;
  /**
   * Whether the container comes from an AWS Marketplace listing. Deployment guardrails do not
   * support those: endpoints warn at synth time.
   */
  readonly awsMarketplace?: boolean;
}

/** Properties of a `Model`. */
export interface ModelProps {
  /** The inference container image. */
  readonly image: ContainerImage;
  /**
   * The model artifact the container loads.
   * @default - none: the container carries its model
   */
  readonly modelData?: ModelData;
  /**
   * Environment variables of the container.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * The execution role. The permissions this model needs (pull its image, read its artifact) are
   * added to it when it is mutable.
   * @default - one role shared by every model of the stack that gives none, holding exactly the
   *   permissions those models need
   */
  readonly role?: iam.IRole;
  /**
   * Run the container in this VPC.
   * @default - SageMaker's managed network
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` for the container.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the container, with `vpc`.
   * @default - a new security group that allows all outbound traffic and no inbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Cut the container off from the network: it cannot make outbound calls at all (SageMaker still
   * downloads its image and artifact). Safer, but some containers need the network.
   * @default false
   */
  readonly networkIsolation?: boolean;
  /**
   * Set when the container image comes from an AWS Marketplace listing: SageMaker's deployment
   * guardrails do not support those and silently update all at once, so endpoints warn.
   * @default false
   */
  readonly awsMarketplace?: boolean;
  /**
   * What happens to the model when CloudFormation replaces it (a change of image, data or
   * environment) or when it is removed from the stack.
   *
   * Models cost nothing. They are kept by default because an endpoint that SageMaker rolled back
   * on its own still runs on the previous model, and deleting it breaks scaling and patching of
   * that fleet. `npx cdk-sagemaker-rollout cleanup` lists kept models that nothing uses.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A SageMaker model: a container image, an optional artifact, an environment and a role.
 *
 * It never has a fixed name: CloudFormation replaces a model on every change of its container,
 * and cannot replace a resource with a custom name.
 */
export class Model extends Resource implements IModel, iam.IGrantable {
  /** Imports an existing model by name. It has no role here, so endpoints cannot grant it anything. */
  public static fromModelName(scope: Construct, id: string, modelName: string): IModel {
    class Import extends Resource implements IModel {
      public readonly modelName = modelName;
      // SageMaker writes names in lower case inside ARNs (see generatedEndpointName in private/naming.ts).
      public readonly modelArn = compactArn('sagemaker', `model/${arnName(modelName)}`);
      public readonly role = undefined;
    }
    return new Import(scope, id);
  }

  public readonly modelName: string;
  public readonly modelArn: string;
  /**
   * The execution role: the one given in `role`, or the stack's shared model role. Always set on a
   * `Model`; optional only because imported models (`IModel`) have none. For a value that is never
   * undefined, use `grantPrincipal`.
   */
  public readonly role?: iam.IRole;
  /** The principal the container runs as (the execution role): grant it what your container reads. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** Whether the container comes from an AWS Marketplace listing: always set on a `Model` (default false). */
  public readonly awsMarketplace?: boolean;
  /** The CloudFormation resource. */
  public readonly resource: CfnModel;

  constructor(scope: Construct, id: string, props: ModelProps) {
    super(scope, id);
    try {
      const role = props.role ?? sharedModelRole(this);
      this.role = role;
      this.grantPrincipal = role;
      this.awsMarketplace = props.awsMarketplace ?? false;
      // The library's grants go to policies of their own (see LibraryGrants), never to the role's
      // default policy, which holds what users add to `role`.
      const grantee: iam.IGrantable = LibraryGrants.of(role);

      const image = props.image.bind(this, grantee);
      const data = props.modelData?.bind(this, grantee);
      const vpcConfig = props.vpc ? this.renderVpcConfig(props, role) : undefined;
      validateEnvironment(props.environment);

      this.resource = new CfnModel(this, 'Resource', {
        executionRoleArn: role.roleArn,
        primaryContainer: {
          image: image.imageUri,
          modelDataUrl: data?.uri,
          environment: props.environment,
        },
        vpcConfig,
        enableNetworkIsolation: props.networkIsolation,
        tags: [MANAGED_BY_TAG],
      });
      this.resource.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
      // SageMaker checks the role when it creates the model and when instances start: its policy must exist first.
      this.resource.node.addDependency(role);

      this.modelName = this.resource.attrModelName;
      this.modelArn = this.resource.ref;
    } catch (error) {
      throw withConstructPath(this, error);
    }
  }

  private renderVpcConfig(props: ModelProps, role: iam.IRole): CfnModel.VpcConfigProperty {
    const vpc = props.vpc!;
    const securityGroups = props.securityGroups ?? [
      new ec2.SecurityGroup(this, 'SecurityGroup', { vpc, description: 'SageMaker model containers', allowAllOutbound: true }),
    ];
    const grantee = LibraryGrants.of(role);
    iam.Grant.addToPrincipal({
      grantee,
      // Listed by SageMaker for models in a VPC; EC2 gives these no resource-level permissions.
      actions: [
        'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
        'ec2:DeleteNetworkInterfacePermission', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs',
        'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups',
      ],
      resourceArns: ['*'],
    });
    acknowledgeWildcards(grantee, { resources: ['*'] }, 'The EC2 network-interface actions SageMaker needs to place containers in a VPC '
      + 'have no resource-level permissions for these calls (AWS accepts only "*"); they only manage the interfaces of the model\'s containers.');
    return {
      subnets: vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
      securityGroupIds: securityGroups.map((sg) => sg.securityGroupId),
    };
  }
}

/** Container environment limits of CreateModel: at most 100 entries, keys up to 1024 and values up to 1024 characters. */
function validateEnvironment(environment: Record<string, string> | undefined): void {
  if (!environment) return;
  const entries = Object.entries(environment);
  if (entries.length > 100) {
    throw new Error(`environment must have at most 100 variables, got ${entries.length}`);
  }
  for (const [key, value] of entries) {
    if (!Token.isUnresolved(key) && !/^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$/.test(key)) {
      throw new Error(`environment variable names must be 1-1024 letters, digits or '_' and not start with a digit, got "${key}"`);
    }
    if (!Token.isUnresolved(value) && value.length > 1024) {
      throw new Error(`environment variable ${key} must be at most 1024 characters, got ${value.length}`);
    }
  }
}

const SHARED_ROLE_ID = 'SageMakerModelExecutionRole';

/**
 * The role shared by the stack's models that give none: one role instead of one per model keeps
 * the stack's resource count low. Each model adds only the grants it needs (its ECR repository,
 * its artifact's prefix), so the role holds exactly the union of what those models use.
 */
function sharedModelRole(model: Construct): iam.IRole {
  const stack = Stack.of(model);
  const existing = stack.node.tryFindChild(SHARED_ROLE_ID) as SharedModelRole | undefined;
  return (existing ?? new SharedModelRole(stack, SHARED_ROLE_ID)).role;
}

class SharedModelRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Dozens of models add a statement each: merged into one statement per action set, the
    // policy stays small enough to need no overflow policies (see BENCHMARKS.md).
    this.node.setContext(cxapi.IAM_MINIMIZE_POLICIES, true);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Execution role of the SageMaker models of this stack (cdk-sagemaker-rollout)',
    });
    // Container logs are granted by each endpoint, on its own log group (ModelEndpoint): the role
    // is made before the endpoints that use it are known.
    const grants = LibraryGrants.of(this.role);
    grants.addToPrincipalPolicy(new iam.PolicyStatement({
      // PutMetricData has no resource-level permissions; the namespace condition is the scope.
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
    }));
    acknowledgeWildcards(grants, { resources: ['*'] },
      'cloudwatch:PutMetricData has no resource-level permissions (AWS accepts only "*"); the cloudwatch:namespace condition limits it to /aws/sagemaker/* namespaces.');
  }
}
