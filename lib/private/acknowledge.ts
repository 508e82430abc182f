import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';

/**
 * cdk-nag acknowledgements already made, per construct: id -> the reasons given and the metadata
 * entry that records them. A shared role or policy gets the same finding id from several grants
 * (one model's repository, another model's data...): each reason is kept, joined in one entry,
 * because cdk-nag (and the `cdk_nag` template metadata it writes) reads one reason per id and construct.
 */
const acknowledged = new WeakMap<IConstruct, Map<string, { reasons: string[]; data?: Record<string, unknown> }>>();

/** Ids of the findings one reason answers, per scanner. */
export interface FindingIds {
  /** cdk-nag rule ids, per item where the rule reports items (`AwsSolutions-IAM5[Resource::*]`). */
  readonly nag?: string[];
  /** checkov check ids (`CKV_AWS_117`); needs a CloudFormation resource (or a construct whose default child is one). */
  readonly checkov?: string[];
}

/**
 * Records, at the construct that causes them, why findings of the security scanners users run over
 * our templates do not apply: cdk-nag through `Validations.of(scope).acknowledge` (it follows the
 * construct tree, so the acknowledgement covers the resources below `scope`), checkov through the
 * resource's `Metadata.checkov.skip` in the template (checkov reports those as skipped, with the comment).
 */
export function acknowledgeFindings(scope: IConstruct, ids: FindingIds, reason: string): void {
  const done = acknowledged.get(scope) ?? new Map<string, { reasons: string[]; data?: Record<string, unknown> }>();
  acknowledged.set(scope, done);
  for (const id of ids.nag ?? []) {
    const seen = done.get(id);
    if (!seen) {
      Validations.of(scope).acknowledge({ id, reason });
      // The entry just recorded: later reasons for the same id are added to it.
      const entries = scope.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
      const data = entries[entries.length - 1]?.data as Record<string, unknown> | undefined;
      done.set(id, { reasons: [reason], data });
    } else if (!seen.reasons.includes(reason)) {
      seen.reasons.push(reason);
      for (const key of Object.keys(seen.data ?? {})) seen.data![key] = seen.reasons.join(' Also: ');
    }
  }
  if (ids.checkov && ids.checkov.length > 0) {
    const resource = CfnResource.isCfnResource(scope) ? scope : scope.node.defaultChild;
    if (!resource || !CfnResource.isCfnResource(resource)) {
      throw new Error(`checkov skips need a CloudFormation resource, and ${scope.node.path} has none`);
    }
    const existing = (resource.getMetadata('checkov') as { skip?: Array<{ id: string; comment: string }> } | undefined)?.skip ?? [];
    const added = ids.checkov.filter((id) => !existing.some((s) => s.id === id)).map((id) => ({ id, comment: reason }));
    resource.addMetadata('checkov', { skip: [...existing, ...added] });
  }
}

/**
 * Acknowledges cdk-nag's per-item wildcard findings (`AwsSolutions-IAM5[Action::...]`,
 * `AwsSolutions-IAM5[Resource::...]`) of a grant this library made, on the grantee (its policy is a
 * child of it). Resources are written the way cdk-nag prints them: `Ref` as `<X>`, `Fn::GetAtt` as
 * `<X.Attr>`, `Fn::Join` joined. Items without a `*` are skipped; so are grantees that are not
 * constructs (nothing to acknowledge on).
 */
export function acknowledgeWildcards(grantee: iam.IGrantable, items: { actions?: string[]; resources?: string[] }, reason: string): void {
  // The grantee's own policies: for a model role, the library's policies (LibraryGrants), never the
  // role itself, whose default policy holds what users add.
  const principal = grantee.grantPrincipal;
  if (!Construct.isConstruct(principal)) return;
  const ids = [
    ...(items.actions ?? []).filter((a) => a.includes('*')).map((a) => `AwsSolutions-IAM5[Action::${a}]`),
    ...(items.resources ?? []).map((r) => flattenLikeCdkNag(Stack.of(principal).resolve(r)))
      .filter((r) => r.includes('*')).map((r) => `AwsSolutions-IAM5[Resource::${r}]`),
  ];
  acknowledgeFindings(principal, { nag: ids }, reason);
}

/** Why the library's roles keep CDK's inline policy (HIPAA / NIST IAMNoInlinePolicy). */
export const INLINE_POLICY_REASON = 'The policy is the AWS::IAM::Policy that CDK grants build for this role alone, created, updated and deleted with it; '
  + 'a customer managed policy would be reused by nothing, and its 6,144-character limit (against 10,240 for a role\'s inline policies) would cap the number of endpoints a stack can hold. '
  + 'Every statement is scoped to the resources it needs (see the AwsSolutions-IAM5 acknowledgements).';

/** cdk-nag's flattening of a resolved CloudFormation value (cdk-nag `utils/flatten-cfn-reference`). */
function flattenLikeCdkNag(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, parts] = o['Fn::Join'];
    return (parts as unknown[]).map(flattenLikeCdkNag).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenLikeCdkNag(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'];
    return `<${flattenLikeCdkNag(resource)}.${flattenLikeCdkNag(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flattenLikeCdkNag(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenLikeCdkNag(o.Ref)}>`;
  return JSON.stringify(node);
}
