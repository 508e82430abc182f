import { CreateEndpointCommand } from '@aws-sdk/client-sagemaker';
import { RevertRecord } from '../../lib/runtime/deployment-record';
import { makeHandler } from '../../lib/runtime/handler';
import { DeploymentSpec, REVERT_GUARD_RESOURCE_TYPE, RevertGuardEntry } from '../../lib/runtime/spec';
import { createEndpoint, createEndpointConfig, createModel, sagemakerClient, uniqueName } from '../support/emulator';
import { AnnouncementInbox, createStateTable, FakeClock, runtimeDeps } from './fixture';

/**
 * Deployments and reverts as CloudFormation drives them: the post-deploy check (after the
 * endpoint's update) records what went live; the stack's revert guard (before any endpoint is
 * updated) refuses to put a reverted model back. Custom resource answers go to the test through
 * the handler's `send` instead of the pre-signed S3 URL; the endpoints live in the emulator.
 *
 * moto has no UpdateEndpoint: where CloudFormation would update the endpoint, the test calls
 * CreateEndpoint with the same name, which moto answers by replacing the endpoint (docs/TESTING.md).
 */
interface CfnAnswer { Status: string; Reason: string; PhysicalResourceId: string }
let answers: CfnAnswer[] = [];
/** The pre-signed S3 URL CloudFormation would send; the handler's `send` hands the answer to the test instead. */
const responseUrl = 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/Service/guid%7CRevertGuard%7Crequest?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc';
const send = async (_url: URL, body: string) => { answers.push(JSON.parse(body)); };
let tableName: string;

beforeAll(async () => {
  tableName = await createStateTable();
});
beforeEach(() => { answers = []; });

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Service/5b1f2c30-0000-1111-2222-333344445555';

function customResource(resourceType: string, requestType: 'Create' | 'Update' | 'Delete', spec: unknown, old?: unknown) {
  return {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: uniqueName('request'),
    LogicalResourceId: 'SageMakerRolloutControllerRevertGuard',
    PhysicalResourceId: requestType === 'Create' ? undefined : 'revert-guard',
    ResourceType: resourceType,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:controller', Spec: JSON.stringify(spec) },
    OldResourceProperties: old ? { ServiceToken: 'x', Spec: JSON.stringify(old) } : undefined,
  };
}

/** A blue/green endpoint in the emulator, with three model versions and a config for each. */
async function blueGreen() {
  const endpointName = uniqueName('bluegreen');
  const versions = [];
  for (const v of ['a', 'b', 'c']) {
    const model = uniqueName(`model-${v}`);
    const config = uniqueName(`config-${v}`);
    await createModel(model);
    await createEndpointConfig({ name: config, variants: [{ variantName: 'production', modelName: model, weight: 1 }] });
    versions.push({ model, config, models: [{ variant: 'production', model }] });
  }
  await createEndpoint({ name: endpointName, configName: versions[0].config });
  const inbox = await AnnouncementInbox.create(endpointName);
  const clock = new FakeClock(new Date('2026-11-30T03:00:00.000Z'));
  const deps = { ...runtimeDeps({ tableName, clock }), send };
  const records = deps.records!;
  const handler = makeHandler(() => deps);
  const [a, b, c] = versions;
  const spec = (v: typeof a): DeploymentSpec => ({
    endpointName, endpointConfigName: v.config, verify: true, rollbackAlarmNames: [], topicArn: inbox.topicArn,
  });
  /** What CloudFormation's UpdateEndpoint does, in the emulator. */
  const goLive = async (v: typeof a) => { await sagemakerClient().send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: v.config })); };
  const check = async (v: typeof a, type: 'Create' | 'Update' = 'Update') => {
    await handler(customResource('Custom::SageMakerRolloutDeployment', type, spec(v)));
    clock.advance(60_000);
    return answers[answers.length - 1];
  };
  const entry = (v: typeof a, acknowledgeRevert?: string): RevertGuardEntry => ({ endpointName, endpointConfigName: v.config, models: v.models, acknowledgeRevert });
  const guard = async (entries: RevertGuardEntry[], old?: RevertGuardEntry[]) => {
    await handler(customResource(REVERT_GUARD_RESOURCE_TYPE, old ? 'Update' : 'Create', { endpoints: entries }, old ? { endpoints: old } : undefined));
    return answers[answers.length - 1];
  };
  /** A deployment as CloudFormation runs it: the guard, the endpoint's update, the post-deploy check. */
  const deploy = async (v: typeof a, old?: typeof a) => {
    const guarded = await guard([entry(v)], old ? [entry(old)] : undefined);
    if (guarded.Status !== 'SUCCESS') return guarded;
    await goLive(v);
    return check(v, old ? 'Update' : 'Create');
  };
  /** A revert from b back to a, as the CLI writes it (the CLI's own tests make real ones). */
  const revertBToA = async (): Promise<RevertRecord> => {
    const record: RevertRecord = {
      id: 'revert-20261130T041233Z', endpointName, at: '2026-11-30T04:12:33.000Z', by: 'arn:aws:sts::123456789012:assumed-role/Ops/alice',
      reason: 'p99 doubled', mode: 'all-at-once', fromConfig: b.config, fromModels: b.models, toConfig: a.config, toModels: a.models,
      templateConfig: b.config, templateModels: b.models, revertedModels: [b.model],
    };
    await records.putRevert(record, undefined);
    await records.record({ endpointName, configName: a.config, models: a.models, at: record.at, stack: 'Service', revertId: record.id });
    await goLive(a);
    clock.advance(Date.parse(record.at) + 60_000 - clock.now().getTime());
    return record;
  };
  return { endpointName, a, b, c, deps, records, inbox, check, goLive, guard, entry, deploy, revertBToA };
}

describe('every deployment is recorded', () => {
  test('each config that goes live, with its models, time and stack; a check that runs again for the same config adds nothing', async () => {
    const { endpointName, a, b, records, check, deploy } = await blueGreen();
    expect((await deploy(a)).Status).toBe('SUCCESS');
    expect((await deploy(b, a)).Status).toBe('SUCCESS');
    expect((await check(b)).Status).toBe('SUCCESS');

    expect(await records.recent(endpointName)).toEqual([
      { endpointName, configName: b.config, models: b.models, at: '2026-11-30T03:01:00.000Z', stack: 'Service', topicArn: expect.any(String) },
      { endpointName, configName: a.config, models: a.models, at: '2026-11-30T03:00:00.000Z', stack: 'Service', topicArn: expect.any(String) },
    ]);
  });

  test('a deployment that SageMaker rolled back is not recorded (and still fails)', async () => {
    const { endpointName, a, b, records, check } = await blueGreen();
    await check(a, 'Create');
    const answer = await check(b);
    expect(answer.Status).toBe('FAILED');
    expect((await records.recent(endpointName)).map((r) => r.configName)).toEqual([a.config]);
  });
});

describe('the revert guard, before any endpoint is updated', () => {
  test('refuses a new config that would put the reverted model back (an unrelated change), with how to proceed', async () => {
    const { endpointName, a, b, check, goLive, guard, entry, revertBToA } = await blueGreen();
    await check(a, 'Create');
    await goLive(b);
    await check(b);
    await revertBToA();

    // An unrelated change (say, the instance count) makes a new config that still runs model b.
    const sameModel = { ...b, config: uniqueName('config-b2') };
    const answer = await guard([entry(sameModel)], [entry(b)]);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toBe(
      `endpoint ${endpointName} was reverted at 2026-11-30T04:12:33.000Z by arn:aws:sts::123456789012:assumed-role/Ops/alice (revert-20261130T041233Z: `
      + `from ${b.config} to ${a.config}, reason: p99 doubled). This deployment would put the reverted model ${b.model} back on it (config ${sameModel.config}). `
      + 'Nothing was changed. To proceed, either change the model in the code (a fixed model ends the revert), or acknowledge the revert: '
      + 'set acknowledgeRevert: \'revert-20261130T041233Z\' on the ModelEndpoint and deploy again.');
  });

  test('lets the deployment go on when the code acknowledges the revert, or deploys another model, or does not touch the endpoint', async () => {
    const { a, b, c, guard, entry, revertBToA } = await blueGreen();
    await revertBToA();
    const sameModel = { ...b, config: uniqueName('config-b2') };
    expect((await guard([entry(sameModel, 'revert-20261130T041233Z')], [entry(b)])).Status).toBe('SUCCESS');
    expect((await guard([entry(c)], [entry(b)])).Status).toBe('SUCCESS');
    // Another endpoint of the stack changed; this one's entry did not, so CloudFormation leaves it alone.
    const other = { endpointName: uniqueName('other'), endpointConfigName: 'x', models: [{ variant: 'production', model: 'y' }] };
    expect((await guard([entry(b), { ...other, endpointConfigName: 'x2' }], [entry(b), other])).Status).toBe('SUCCESS');
    expect((await guard([entry(a)], [entry(b)])).Status).toBe('SUCCESS');
  });

  test('refuses the template\'s own config when CloudFormation would update the endpoint for its deployment settings', async () => {
    const { b, guard, entry, revertBToA } = await blueGreen();
    await revertBToA();
    const answer = await guard([{ ...entry(b), deployment: '0123456789abcdef' }], [entry(b)]);
    expect(answer.Status).toBe('FAILED');
  });

  test('CloudFormation\'s rollback after a refusal sends the entry accepted last time: it passes, so the stack never gets stuck', async () => {
    const { b, deploy, a, guard, entry, revertBToA } = await blueGreen();
    await deploy(a);
    await deploy(b, a);
    await revertBToA();
    const sameModel = { ...b, config: uniqueName('config-b2') };
    expect((await guard([entry(sameModel)], [entry(b)])).Status).toBe('FAILED');
    // The rollback: the old properties become the new ones.
    expect((await guard([entry(b)], [entry(sameModel)])).Status).toBe('SUCCESS');
    // A new attempt at the refused deployment is still refused.
    expect((await guard([entry(sameModel)], [entry(b)])).Status).toBe('FAILED');
  });

  test('the rollback of an accepted deployment (another resource failed) passes too', async () => {
    const { a, b, c, deploy, guard, entry, revertBToA } = await blueGreen();
    await deploy(a);
    await deploy(b, a);
    await revertBToA();
    expect((await guard([entry(c)], [entry(b)])).Status).toBe('SUCCESS');
    expect((await guard([entry(b)], [entry(c)])).Status).toBe('SUCCESS');
  });

  test('a delete always succeeds', async () => {
    const { b, entry, revertBToA, deps } = await blueGreen();
    await revertBToA();
    await makeHandler(() => deps)(customResource(REVERT_GUARD_RESOURCE_TYPE, 'Delete', { endpoints: [entry(b)] }));
    expect(answers[answers.length - 1].Status).toBe('SUCCESS');
  });
});

describe('the post-deploy check while a revert stands', () => {
  test('the endpoint runs the reverted config and the template did not change: the check passes and the revert stands', async () => {
    const { endpointName, a, b, records, check, goLive, revertBToA } = await blueGreen();
    await check(a, 'Create');
    await goLive(b);
    await check(b);
    await revertBToA();
    expect((await check(b)).Status).toBe('SUCCESS');
    expect((await records.getRevert(endpointName))?.value.id).toBe('revert-20261130T041233Z');
  });

  test('a deployment of another model that goes live ends the revert, and says so in the history', async () => {
    const { endpointName, a, b, c, deps, records, deploy, revertBToA } = await blueGreen();
    await deploy(a);
    await deploy(b, a);
    await revertBToA();
    expect((await deploy(c, b)).Status).toBe('SUCCESS');
    expect(await records.getRevert(endpointName)).toBeUndefined();
    expect((await records.recent(endpointName))[0]).toEqual(expect.objectContaining({ configName: c.config, models: c.models }));
    expect((await deps.store.history(endpointName, 1))[0]).toEqual(expect.objectContaining({
      action: 'revert-ended', by: 'deployment', reason: `config ${c.config} deployed and live: revert-20261130T041233Z (back to ${a.config}) is over`,
    }));
  });

  test('SageMaker rolled a new deployment back onto the reverted config: the check passes (failing would restore the reverted model), announces, and the revert stands', async () => {
    const { endpointName, a, b, c, records, inbox, check, guard, entry, deploy, revertBToA } = await blueGreen();
    await deploy(a);
    await deploy(b, a);
    await revertBToA();
    await inbox.events();
    // The guard lets model c through; SageMaker rolls its update back onto the reverted config a.
    expect((await guard([entry(c)], [entry(b)])).Status).toBe('SUCCESS');
    expect((await check(c)).Status).toBe('SUCCESS');
    const revert = (await records.getRevert(endpointName))!.value;
    expect(revert).toEqual(expect.objectContaining({ toConfig: a.config, templateConfig: c.config, templateModels: c.models }));
    const events = await inbox.events();
    expect(events.map((e) => e['detail-type'])).toEqual(['Deployment Rolled Back By SageMaker']);
    expect(events[0].detail).toEqual(expect.objectContaining({ expectedConfig: c.config, liveConfig: a.config, revertId: 'revert-20261130T041233Z' }));
  });
});
