import { AspectPriority, Aspects, IAspect, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, DependencyGroup, IConstruct } from 'constructs';

/**
 * The library's own grants to a model execution role, apart from everything else on that role.
 *
 * A model's role is shared and public (`Model.role`): users add their own statements to it. If the
 * library put its grants in the role's default policy and acknowledged the scanners' findings on
 * the role, a wildcard a user adds later would be acknowledged too, silently. So the library's
 * statements go to customer managed policies of their own, children of this construct, and every
 * acknowledgement of a library grant is made here (`acknowledgeWildcards` finds it through
 * `grantPrincipal`): what users add to the role stays in the role's default policy, and scanners
 * report it.
 *
 * Size: IAM allows 6,144 characters per managed policy (and 10 managed policies per role unless
 * the quota is raised, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 * CDK splits a role's default policy when it grows, but a separate policy does not split by
 * itself: at synthesis, the statements are merged (same actions and conditions: one statement, all
 * resources) and packed into as many policies as their resolved size needs, each at most 6,000
 * characters with the longest partition, region and account (BENCHMARKS.md measures a stack of 60
 * canary endpoints).
 */
export class LibraryGrants extends Construct implements iam.IPrincipal {
  /**
   * Where the library grants to `role`: its own policies for a role created in this app, the role
   * itself for an imported role (its policies are not ours to split, and an immutable import takes
   * no grants at all).
   */
  public static of(role: iam.IRole): iam.IPrincipal {
    if (!iam.Role.isRole(role)) return role;
    return (role.node.tryFindChild(GRANTS_ID) as LibraryGrants | undefined) ?? new LibraryGrants(role, GRANTS_ID, role);
  }

  /** The library's policies: empty until synthesis packs the statements. */
  public readonly policies: iam.ManagedPolicy[] = [];
  public readonly grantPrincipal: iam.IPrincipal = this;
  public readonly assumeRoleAction: string;
  public readonly policyFragment: iam.PrincipalPolicyFragment;
  public readonly principalAccount: string | undefined;

  private readonly statements: iam.PolicyStatement[] = [];
  private readonly dependable = new DependencyGroup();

  private constructor(scope: Construct, id: string, private readonly role: iam.Role) {
    super(scope, id);
    this.assumeRoleAction = role.assumeRoleAction;
    this.policyFragment = role.policyFragment;
    this.principalAccount = role.principalAccount;
    const pack: IAspect = { visit: (node) => { if (node === this) this.pack(); } };
    Aspects.of(this).add(pack, { priority: AspectPriority.MUTATING });
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.statements.push(statement);
    return { statementAdded: true, policyDependable: this.dependable };
  }

  public addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  /** The merged statements, packed into policies of at most MAX_POLICY_CHARS each. */
  private pack(): void {
    if (this.policies.length > 0 || this.statements.length === 0) return;
    const stack = Stack.of(this);
    const chunks: Array<{ statements: iam.PolicyStatement[]; size: number }> = [];
    for (const statement of splitOversized(mergeStatements(stack, this.statements), stack)) {
      const size = estimatedLength(stack.resolve(statement.toStatementJson())) + 1;
      let chunk = chunks.find((c) => c.size + size <= MAX_POLICY_CHARS);
      if (!chunk) {
        chunk = { statements: [], size: DOCUMENT_OVERHEAD };
        chunks.push(chunk);
      }
      chunk.statements.push(statement);
      chunk.size += size;
    }
    chunks.forEach((chunk, i) => {
      const policy = new iam.ManagedPolicy(this, `Policy${i + 1}`, {
        description: `cdk-sagemaker-rollout: what the library grants ${this.role.node.path} (part ${i + 1} of ${chunks.length})`,
        document: new iam.PolicyDocument({ statements: chunk.statements }),
        roles: [this.role],
      });
      this.policies.push(policy);
      this.dependable.add(policy);
    });
  }
}

const GRANTS_ID = 'SageMakerRolloutGrants';

/** IAM's 6,144 characters per managed policy, less a margin for what the estimate cannot see. */
export const MAX_POLICY_CHARS = 6000;
/** `{"Version":"2012-10-17","Statement":[]}` */
const DOCUMENT_OVERHEAD = 40;

/** One statement per effect, action set and condition set, with the union of their resources. */
function mergeStatements(stack: Stack, statements: iam.PolicyStatement[]): iam.PolicyStatement[] {
  const merged = new Map<string, { effect: iam.Effect; actions: string[]; conditions: any; resources: Map<string, string> }>();
  for (const s of statements) {
    const json = stack.resolve(s.toStatementJson());
    const actions = [...new Set(s.actions)].sort();
    const key = JSON.stringify([s.effect, actions, json.Condition ?? null, s.notActions, s.notResources, json.Principal ?? null]);
    let entry = merged.get(key);
    if (!entry) {
      entry = { effect: s.effect, actions, conditions: s.conditions, resources: new Map() };
      merged.set(key, entry);
    }
    for (const r of s.resources) entry.resources.set(JSON.stringify(stack.resolve(r)), r);
  }
  return [...merged.values()].map((e) => {
    const resources = [...e.resources.values()];
    // A wildcard resource covers every other resource of the same actions.
    const all = resources.includes('*');
    return new iam.PolicyStatement({
      effect: e.effect, actions: e.actions, conditions: Object.keys(e.conditions).length > 0 ? e.conditions : undefined,
      resources: all ? ['*'] : resources,
    });
  });
}

/** A statement too large for one policy becomes several, each with a share of the resources. */
function splitOversized(statements: iam.PolicyStatement[], stack: Stack): iam.PolicyStatement[] {
  const result: iam.PolicyStatement[] = [];
  for (const s of statements) {
    const budget = MAX_POLICY_CHARS - DOCUMENT_OVERHEAD;
    if (estimatedLength(stack.resolve(s.toStatementJson())) <= budget) {
      result.push(s);
      continue;
    }
    const base = estimatedLength(stack.resolve({ ...s.toStatementJson(), Resource: [] }));
    let part: string[] = [];
    let size = base;
    const flush = () => {
      if (part.length === 0) return;
      result.push(new iam.PolicyStatement({ effect: s.effect, actions: s.actions, conditions: s.conditions, resources: part }));
      part = [];
      size = base;
    };
    for (const r of s.resources) {
      const rs = estimatedLength(stack.resolve(r)) + 1;
      if (size + rs > budget) flush();
      part.push(r);
      size += rs;
    }
    flush();
  }
  return result;
}

/**
 * The length of a resolved policy value as IAM counts it (no whitespace), with the longest values
 * the stack's pseudo parameters can take, and CDK's own estimate (150) for any other reference.
 */
export function estimatedLength(value: unknown): number {
  return JSON.stringify(substitute(value)).length;
}

const PSEUDO_LENGTHS: Record<string, number> = {
  'AWS::Partition': 'aws-iso-b'.length,
  'AWS::Region': 'ap-southeast-5'.length,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 'amazonaws.com.cn'.length,
};
const REFERENCE_LENGTH = 150;

function substitute(value: unknown): unknown {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(substitute);
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if (typeof o['Fn::Sub'] === 'string') {
    return (o['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_m, name: string) => 'x'.repeat(PSEUDO_LENGTHS[name] ?? REFERENCE_LENGTH));
  }
  if (Array.isArray(o['Fn::Join'])) {
    const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => { const s = substitute(p); return typeof s === 'string' ? s : 'x'.repeat(REFERENCE_LENGTH); }).join(delimiter);
  }
  if (typeof o.Ref === 'string') return 'x'.repeat(PSEUDO_LENGTHS[o.Ref] ?? REFERENCE_LENGTH);
  if (o['Fn::GetAtt'] !== undefined || o['Fn::ImportValue'] !== undefined || o['Fn::Select'] !== undefined) return 'x'.repeat(REFERENCE_LENGTH);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = substitute(v);
  return out;
}

/** The construct that holds a grantee's policies, for acknowledgements: the library's grants, or the grantee itself. */
export function grantsHolder(grantee: iam.IGrantable): IConstruct | undefined {
  const principal = grantee.grantPrincipal;
  return Construct.isConstruct(principal) ? principal : undefined;
}

/**
 * Lets the grantee use the key for `actions`, only in requests that the named AWS services make on
 * its behalf in the stack's region (`kms:ViaService`,
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 * `kms:CreateGrant` also needs the grant to be for an AWS resource (`kms:GrantIsForAWSResource`).
 */
export function grantKeyUse(grantee: iam.IGrantable, key: kms.IKey, actions: string[], viaServices: string[]): void {
  const stack = Stack.of(key);
  const viaService = viaServices.map((service) => `${service}.${stack.region}.${stack.urlSuffix}`);
  const plain = actions.filter((a) => a !== 'kms:CreateGrant');
  if (plain.length > 0) {
    iam.Grant.addToPrincipal({ grantee, actions: plain, resourceArns: [key.keyArn], conditions: { StringEquals: { 'kms:ViaService': viaService } } });
  }
  if (actions.includes('kms:CreateGrant')) {
    iam.Grant.addToPrincipal({
      grantee, actions: ['kms:CreateGrant'], resourceArns: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': viaService }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    });
  }
}
