/**
 * Gate: cdk-nag v3 over every stack of the example app. Zero findings that are not acknowledged in
 * code, with a written reason, at the construct that causes them:
 *
 *   Validations.of(construct).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: '...' });
 *
 * Wildcard and managed-policy findings are per item in v3 (`AwsSolutions-IAM5[Resource::...]`,
 * `AwsSolutions-IAM4[Policy::...]`): only that exact id acknowledges them, not the bare rule id.
 *
 * Which packs, over what:
 * - AwsSolutions over every resource of every stack.
 * - HIPAA Security and NIST 800-53 rev 5 over every resource of every stack too. The design asks
 *   for them on the endpoint parts, and in these stacks everything is an endpoint part: the models
 *   and their role, the endpoint config and endpoint, its alarms, capture bucket and dashboard, the
 *   rollout controller that steers it (function, role, logs, state table, queue, rules), plus the
 *   example's key and topic, which encrypt the endpoint's volumes and carry its announcements.
 *   Keeping only `AWS::SageMaker::*` resources would skip exactly the resources that hold the
 *   endpoint's data and permissions (roles, capture bucket, controller), and scoping by construct
 *   path would silently drop whatever the library adds next. Both packs take well under a second.
 *
 * The packs run through `validateScope(app)` after `app.synth()`: the same walk over the final
 * construct tree (aspects applied) that `Validations.of(app).addPlugins(...)` runs during
 * `cdk synth`, but it returns the findings instead of failing synthesis with a printed report.
 */
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CfnEndpointConfig } from 'aws-cdk-lib/aws-sagemaker';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { CDK_CONTEXT, synthesizeExampleApp, SynthesizedExampleApp, userWildcardStack } from './gate-support';

/** The packs, fresh for each run (a pack keeps the findings of its last run). */
function packs(): NagPack[] {
  return [new AwsSolutionsChecks(), new HIPAASecurityChecks(), new NIST80053R5Checks()];
}

/** Prefixes of the rule ids of `packs()`: acknowledgements with them are cdk-nag's. */
const NAG_RULE_PREFIXES = ['AwsSolutions-', 'HIPAA.Security-', 'NIST.800.53.R5-'];

/** One unacknowledged finding: a rule id on one resource. */
interface Finding {
  readonly pack: string;
  readonly ruleId: string;
  readonly severity: string;
  readonly path: string;
  readonly description: string;
}

/** Runs every pack over the scope; returns the findings nobody acknowledged, one per rule and resource. */
function runPacks(scope: IConstruct): { byPack: Map<string, Finding[]>; all: Finding[] } {
  const byPack = new Map<string, Finding[]>();
  for (const pack of packs()) {
    const report = pack.validateScope(scope);
    byPack.set(pack.name, report.violations.flatMap((v) => v.violatingResources.map((r) => ({
      pack: pack.name,
      ruleId: v.ruleName,
      severity: v.severity ?? 'error',
      path: r.constructPath ?? '(unknown construct)',
      description: v.description,
    }))));
  }
  return { byPack, all: [...byPack.values()].flat() };
}

/** A finding as the log shows it, with the id that would acknowledge it. */
function formatFinding(f: Finding): string {
  return `[${f.severity}] ${f.ruleId} at ${f.path}: ${f.description}`;
}

/** Every cdk-nag acknowledgement recorded in the tree: where, which id, and why. */
function nagAcknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const found: Array<{ path: string; id: string; reason: string }> = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [qualifiedId, reason] of Object.entries(entry.data as Record<string, string>)) {
        // aws-cdk-lib records `Annotation::<id>` (older releases: `annotation::<id>`).
        const id = qualifiedId.replace(/^annotation::/i, '');
        if (NAG_RULE_PREFIXES.some((prefix) => id.startsWith(prefix))) {
          found.push({ path: construct.node.path, id, reason: String(reason ?? '') });
        }
      }
    }
  }
  return found;
}

describe('cdk-nag v3 (AwsSolutions, HIPAA Security, NIST 800-53 rev 5) over every stack of the example app', () => {
  let example: SynthesizedExampleApp;
  let result: ReturnType<typeof runPacks>;
  let seconds: number;

  beforeAll(() => {
    example = synthesizeExampleApp();
    const started = Date.now();
    result = runPacks(example.app);
    seconds = (Date.now() - started) / 1000;
  }, 120_000);

  afterAll(() => example?.cleanup());

  test('zero findings that are not acknowledged in code', () => {
    const resources = example.app.node.findAll().filter((c) => CfnResource.isCfnResource(c)).length;
    const acknowledgements = nagAcknowledgements(example.app);
    console.log([
      `cdk-nag: ${example.stacks.length} stacks (${example.stacks.map((s) => s.stackName).join(', ')}), ${resources} resources; unacknowledged findings: `
        + [...result.byPack].map(([pack, findings]) => `${pack} ${findings.length}`).join(', ')
        + `; acknowledged in code: ${new Set(acknowledgements.map((a) => a.id)).size} rule ids at ${new Set(acknowledgements.map((a) => a.path)).size} constructs (${seconds.toFixed(1)} s)`,
      ...result.all.map(formatFinding),
    ].join('\n'));

    expect(result.all.map((f) => `${f.ruleId} at ${f.path}`)).toEqual([]);
  });

  test('every acknowledgement gives a reason', () => {
    for (const ack of nagAcknowledgements(example.app)) {
      expect({ ...ack, reasonGiven: ack.reason.trim().length >= 20 }).toEqual({ ...ack, reasonGiven: true });
    }
  });

  describe('proof that the gate can fail', () => {
    /** A stack with what the packs must catch, synthesized like the example app. */
    function brokenStack(): { app: App; stack: Stack; role: iam.Role } {
      const app = new App({ context: CDK_CONTEXT });
      const stack = new Stack(app, 'Broken');
      // A bucket that accepts plain HTTP.
      new s3.Bucket(stack, 'Bucket', { enforceSSL: false, encryption: s3.BucketEncryption.S3_MANAGED, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
      // A role that may invoke every endpoint of the account.
      const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: ['*'] }));
      // An endpoint config whose volumes are not encrypted with a KMS key.
      new CfnEndpointConfig(stack, 'Config', {
        productionVariants: [{ variantName: 'production', modelName: 'recommender', instanceType: 'ml.m5.xlarge', initialInstanceCount: 1, initialVariantWeight: 1 }],
      });
      return { app, stack, role };
    }

    test('each pack flags the broken stack', () => {
      const { app } = brokenStack();
      app.synth();
      const ids = runPacks(app).all.map((f) => `${f.ruleId} at ${f.path}`);
      expect(ids).toEqual(expect.arrayContaining([
        'AwsSolutions-S10 at Broken/Bucket/Resource',
        'AwsSolutions-IAM5[Resource::*] at Broken/Role/DefaultPolicy/Resource',
        'HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured at Broken/Config',
        'NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured at Broken/Config',
      ]));
    });

    test('a wildcard the user adds to Model.role is reported, although the library\'s grants to that role are acknowledged', () => {
      const { app } = userWildcardStack();
      app.synth();
      const ids = runPacks(app).all.map((f) => `${f.ruleId} at ${f.path}`);
      expect(ids).toEqual(expect.arrayContaining([
        'AwsSolutions-IAM5[Resource::*] at UserWildcard/SageMakerModelExecutionRole/Role/DefaultPolicy/Resource',
        'AwsSolutions-IAM5[Action::s3:*] at UserWildcard/SageMakerModelExecutionRole/Role/DefaultPolicy/Resource',
      ]));
      // The library's own wildcards (GetAuthorizationToken, PutMetricData, the artifact prefix, ...) stay acknowledged, with their reasons.
      expect(ids.filter((id) => id.includes('SageMakerRolloutGrants'))).toEqual([]);
    });

    test('only the exact per-item id acknowledges a wildcard finding', () => {
      const { app, role } = brokenStack();
      // The bare rule id does not cover the per-item finding...
      Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5', reason: 'not specific enough: v3 needs the item' });
      app.synth();
      expect(runPacks(app).all.map((f) => f.ruleId)).toContain('AwsSolutions-IAM5[Resource::*]');

      const second = brokenStack();
      // ...the exact id does, on the construct that causes it.
      Validations.of(second.role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'proves that an exact per-item acknowledgement silences its finding' });
      second.app.synth();
      const ids = runPacks(second.app).all.map((f) => f.ruleId);
      expect(ids).not.toContain('AwsSolutions-IAM5[Resource::*]');
      expect(ids).toContain('AwsSolutions-S10');
    });
  });
});
