import { execFile } from 'child_process';
import * as path from 'path';
import {
  AddTagsCommand, CreateEndpointCommand, DeleteEndpointConfigCommand, DescribeEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand,
  DescribeEndpointCommandOutput, ListTagsCommand, SageMakerClient, UpdateEndpointCommandInput,
} from '@aws-sdk/client-sagemaker';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { STSClient } from '@aws-sdk/client-sts';
import { CliClients } from '../../lib/cli/context';
import { main } from '../../lib/cli/main';
import { DeploymentLog } from '../../lib/runtime/deployment-log';
import { MANAGED_BY_TAG_KEY, STATE_TABLE_TAG } from '../../lib/runtime/spec';
import { StateStore } from '../../lib/runtime/state-store';
import { AnnouncementInbox, createStateTable } from '../runtime/fixture';
import {
  cloudWatchClient, createAlarm, createCanaryEndpoint, createEndpoint, createEndpointConfig, createModel, dynamoClient, emulatorEndpoint,
  EMULATOR_ACCOUNT_ID, eventBridgeClient, s3Client, sagemakerClient, setAlarmState, snsClient, uniqueName,
} from '../support/emulator';
import { FaultProxy } from '../support/fault-proxy';

/**
 * `revert`, against the emulator. Refusals run the built CLI as a subprocess (nothing there calls
 * UpdateEndpoint). moto does not implement UpdateEndpoint (HTTP 500), so the reverts that happen run
 * the CLI in-process with a SageMaker client whose UpdateEndpoint answers as SageMaker documents
 * it ({ EndpointArn }) and then does what SageMaker does by the end of the update: the endpoint runs
 * the config, with its tags (here through CreateEndpoint with the same name, which moto answers by
 * replacing the endpoint, and the tags put back). Every other call of that client goes to moto.
 */
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'bin', 'cdk-sagemaker-rollout.js');
const MOTO_IDENTITY = `arn:aws:sts::${EMULATOR_ACCOUNT_ID}:user/moto`;
interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let tableName: string;
beforeAll(async () => {
  tableName = await createStateTable();
});

const arnOf = (kind: string, name: string) => `arn:aws:sagemaker:us-east-1:${EMULATOR_ACCOUNT_ID}:${kind}/${name}`;
const managedTags = (table?: string) => [
  { Key: MANAGED_BY_TAG_KEY, Value: 'cdk-sagemaker-rollout' },
  ...(table ? [{ Key: STATE_TABLE_TAG, Value: table }] : []),
];

/**
 * A blue/green endpoint deployed `versions` times (model and config per version), running the last,
 * tagged as the constructs tag it, with each deployment recorded as the post-deploy check records it.
 */
async function deployedBlueGreen(versions = 2, options: { tagLeftovers?: boolean } = {}) {
  const endpointName = uniqueName('bluegreen');
  const log = new DeploymentLog(dynamoClient(), tableName);
  const inbox = await AnnouncementInbox.create(endpointName);
  const deployed = [];
  for (let i = 0; i < versions; i++) {
    const model = uniqueName(`model-v${i + 1}`);
    const config = uniqueName(`config-v${i + 1}`);
    await createModel(model);
    await createEndpointConfig({ name: config, variants: [{ variantName: 'production', modelName: model, weight: 1 }] });
    // Tagged as the library's only where cleanup must see them: other test files run cleanup --delete meanwhile.
    for (const [kind, name] of options.tagLeftovers ? [['model', model], ['endpoint-config', config]] : []) {
      await sagemakerClient().send(new AddTagsCommand({ ResourceArn: arnOf(kind, name), Tags: managedTags() }));
    }
    const models = [{ variant: 'production', model }];
    await log.record({ endpointName, configName: config, models, at: new Date(Date.UTC(2026, 10, 28 + i, 3)).toISOString(), stack: 'Service', topicArn: inbox.topicArn });
    deployed.push({ model, config, models });
  }
  await createEndpoint({ name: endpointName, configName: deployed[versions - 1].config });
  await sagemakerClient().send(new AddTagsCommand({ ResourceArn: arnOf('endpoint', endpointName), Tags: managedTags(tableName) }));
  return { endpointName, log, inbox, deployed, store: new StateStore(dynamoClient(), tableName) };
}

/** The SageMaker client of an in-process run: UpdateEndpoint (and what a test scripts) answered here, the rest by moto. */
class ScriptedSageMaker {
  public readonly updates: UpdateEndpointCommandInput[] = [];
  public describes: Partial<DescribeEndpointCommandOutput>[] = [];
  private readonly moto = sagemakerClient();

  public send = async (command: { constructor: { name: string }; input: any }): Promise<unknown> => {
    if (command.constructor.name === 'UpdateEndpointCommand') {
      this.updates.push(command.input);
      // moto's replacement drops the endpoint's tags; SageMaker's update keeps them.
      const arn = arnOf('endpoint', command.input.EndpointName);
      const tags = (await this.moto.send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? [];
      await this.moto.send(new CreateEndpointCommand({ EndpointName: command.input.EndpointName, EndpointConfigName: command.input.EndpointConfigName }));
      if (tags.length > 0) await this.moto.send(new AddTagsCommand({ ResourceArn: arn, Tags: tags }));
      return { EndpointArn: arnOf('endpoint', command.input.EndpointName), $metadata: { httpStatusCode: 200 } };
    }
    if (command.constructor.name === 'DescribeEndpointCommand' && this.describes.length > 0) {
      const live = await this.moto.send(new DescribeEndpointCommand(command.input));
      return { ...live, ...this.describes.shift() };
    }
    return this.moto.send(command as any);
  };
}

async function runInProcess(args: string[], sagemaker: ScriptedSageMaker): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const clients: CliClients = {
    sagemaker: sagemaker as unknown as SageMakerClient,
    cloudwatch: cloudWatchClient(),
    dynamo: dynamoClient(),
    sns: snsClient(),
    events: eventBridgeClient(),
    s3: s3Client(),
    sts: new STSClient({ endpoint: emulatorEndpoint() }),
    autoscaling: new ApplicationAutoScalingClient({ endpoint: emulatorEndpoint() }),
  };
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t), now: () => new Date(), sleep: async () => undefined, env: {}, clients: () => clients });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('revert: back to the previous recorded config', () => {
  test('all at once by default: UpdateEndpoint to the previous config, recorded with the caller\'s identity, announced on SNS and EventBridge', async () => {
    const { endpointName, log, inbox, deployed: [v1, v2], store } = await deployedBlueGreen();
    const sagemaker = new ScriptedSageMaker();
    const run = await runInProcess(['revert', endpointName, '--reason', 'p99 doubled', '--as', 'alice'], sagemaker);

    expect(run.code).toBe(0);
    expect(sagemaker.updates).toEqual([{ EndpointName: endpointName, EndpointConfigName: v1.config, RetainAllVariantProperties: true }]);
    const revert = (await log.getRevert(endpointName))!.value;
    expect(run.stdout).toBe(
      `${endpointName}: reverting from ${v2.config} (production=${v2.model}) to ${v1.config} (production=${v1.model}, deployed 2026-11-28T03:00:00.000Z), all-at-once.\n`
      + `Recorded as ${revert.id} by ${MOTO_IDENTITY} (as "alice"). It stands until the code changes; "status ${endpointName}" shows it.`);
    expect(revert).toEqual(expect.objectContaining({
      by: MOTO_IDENTITY, label: 'alice', reason: 'p99 doubled', mode: 'all-at-once',
      fromConfig: v2.config, toConfig: v1.config, templateConfig: v2.config, revertedModels: [v2.model],
    }));
    expect((await store.history(endpointName, 1))[0]).toEqual(expect.objectContaining({ action: 'revert', by: `${MOTO_IDENTITY} (as "alice")` }));

    const events = await inbox.events();
    expect(events.map((e) => e['detail-type'])).toEqual(['Endpoint Reverted']);
    expect(events[0].detail).toEqual(expect.objectContaining({
      endpointName, revertId: revert.id, by: MOTO_IDENTITY, label: 'alice', fromConfig: v2.config, toConfig: v1.config, mode: 'all-at-once',
    }));
    const [mail] = await inbox.notifications();
    expect(mail.Subject).toBe(`[Endpoint Reverted] ${endpointName}: reverted to ${v1.config} by alice`.slice(0, 100));
    expect(mail.Message).toContain(`Next: fix the model and deploy it, or, to put the reverted model back on purpose, set acknowledgeRevert: '${revert.id}' on the ModelEndpoint and deploy.`);
  });

  test('status shows the reverted endpoint: live config and model against the template\'s, since when, by whom', async () => {
    const { endpointName, log, deployed: [v1, v2] } = await deployedBlueGreen();
    await runInProcess(['revert', endpointName, '--reason', 'p99 doubled'], new ScriptedSageMaker());
    const revert = (await log.getRevert(endpointName))!.value;

    const text = await cli(['status', endpointName]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Endpoint  ${endpointName}: InService, config ${v1.config}`);
    expect(text.stdout).toContain([
      `Reverted  since ${revert.at} by ${MOTO_IDENTITY} (${revert.id}, all-at-once): p99 doubled`,
      `          live:     ${v1.config} (production=${v1.model})`,
      `          template: ${v2.config} (production=${v2.model})`,
      `          a deployment that puts ${v2.model} back is refused; change the model, or set acknowledgeRevert: '${revert.id}'`,
    ].join('\n'));
    expect(text.stdout).toMatch(new RegExp(`revert +${MOTO_IDENTITY.replace(/[/.]/g, '\\$&')} +${revert.id}: p99 doubled`));

    const json = JSON.parse((await cli(['status', endpointName, '--json'])).stdout);
    expect(json.deployments.standing).toEqual(expect.objectContaining({ id: revert.id, liveConfig: v1.config, templateConfig: v2.config, by: MOTO_IDENTITY }));
  });

  test('--guarded reuses the endpoint\'s deployment guardrails; --wait shows SageMaker\'s progress; --json for scripts', async () => {
    const { endpointName, deployed: [v1] } = await deployedBlueGreen();
    const alarm = uniqueName('Service-rollout-5xx');
    await createAlarm({ name: alarm, endpointName, variantName: 'production' });
    const sagemaker = new ScriptedSageMaker();
    // moto drops DeploymentConfig: the endpoint's last one, and the update in progress, as SageMaker describes them.
    const lastDeploymentConfig = { AutoRollbackConfiguration: { Alarms: [{ AlarmName: alarm }] } };
    sagemaker.describes = [
      { LastDeploymentConfig: lastDeploymentConfig },
      { EndpointStatus: 'Updating', PendingDeploymentSummary: { EndpointConfigName: v1.config, ProductionVariants: [{ VariantName: 'production', VariantStatus: [{ Status: 'Creating', StatusMessage: 'Launching 1 instance(s).', StartTime: new Date() }] }] } },
      { EndpointStatus: 'Updating', PendingDeploymentSummary: { EndpointConfigName: v1.config, ProductionVariants: [{ VariantName: 'production', VariantStatus: [{ Status: 'Baking', StatusMessage: 'Baking for 600 seconds (TerminationWaitInSeconds) with traffic enabled on full capacity.', StartTime: new Date() }] }] } },
    ];
    const run = await runInProcess(['revert', endpointName, '--guarded', '--wait', '--json', '--poll-interval', '1s'], sagemaker);

    expect(run.code).toBe(0);
    expect(sagemaker.updates[0]).toEqual({ EndpointName: endpointName, EndpointConfigName: v1.config, RetainAllVariantProperties: true, RetainDeploymentConfig: true });
    expect(run.stderr.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^waiting for ${endpointName}: Updating, to config ${v1.config} \\(production: Creating: Launching 1 instance\\(s\\)\\.\\) \\(\\d+ s\\)$`)),
      expect.stringMatching(new RegExp(`^waiting for ${endpointName}: Updating, to config ${v1.config} \\(production: Baking: Baking for 600 seconds`)),
      expect.stringMatching(new RegExp(`^waiting for ${endpointName}: InService on ${v1.config} \\(\\d+ s\\)$`)),
    ]);
    expect(JSON.parse(run.stdout)).toEqual(expect.objectContaining({ action: 'revert', endpoint: endpointName, mode: 'guarded', settled: true, to: expect.objectContaining({ config: v1.config }) }));
  });

  test('a second revert goes one deployment further back', async () => {
    const { endpointName, deployed: [v1, v2, v3] } = await deployedBlueGreen(3);
    const sagemaker = new ScriptedSageMaker();
    expect((await runInProcess(['revert', endpointName], sagemaker)).code).toBe(0);
    expect((await runInProcess(['revert', endpointName], sagemaker)).code).toBe(0);
    expect(sagemaker.updates.map((u) => u.EndpointConfigName)).toEqual([v2.config, v1.config]);
    const revert = (await new DeploymentLog(dynamoClient(), tableName).getRevert(endpointName))!.value;
    expect(revert).toEqual(expect.objectContaining({ toConfig: v1.config, templateConfig: v3.config, revertedModels: [v2.model, v3.model].sort() }));
  });
});

describe('revert refuses, with a clear message, an exit code and no change', () => {
  async function expectNoChange(endpointName: string, liveConfig: string) {
    expect((await sagemakerClient().send(new DescribeEndpointCommand({ EndpointName: endpointName }))).EndpointConfigName).toBe(liveConfig);
    expect(await new DeploymentLog(dynamoClient(), tableName).getRevert(endpointName)).toBeUndefined();
  }

  test('no previous config recorded: exit 6', async () => {
    const { endpointName, deployed: [v1] } = await deployedBlueGreen(1);
    const run = await cli(['revert', endpointName]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`error: no deployment of "${endpointName}" before config ${v1.config} is recorded: there is no previous config to go back to; nothing was changed`);
    await expectNoChange(endpointName, v1.config);
  });

  test('the previous config was deleted: exit 6', async () => {
    const { endpointName, deployed: [v1, v2] } = await deployedBlueGreen();
    await sagemakerClient().send(new DeleteEndpointConfigCommand({ EndpointConfigName: v1.config }));
    const run = await cli(['revert', endpointName, '--json']);
    expect(run.code).toBe(6);
    expect(JSON.parse(run.stdout)).toEqual({
      error: `the previous config of "${endpointName}", ${v1.config} (deployed at 2026-11-28T03:00:00.000Z), no longer exists (deleted by hand, or by a cleanup of an earlier version): there is nothing to revert to; nothing was changed`,
      exitCode: 6,
    });
    await expectNoChange(endpointName, v2.config);
  });

  test('a model of the previous config was deleted: exit 6', async () => {
    const { endpointName, deployed: [v1, v2] } = await deployedBlueGreen();
    await sagemakerClient().send(new DeleteModelCommand({ ModelName: v1.model }));
    const run = await cli(['revert', endpointName]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`error: the previous config of "${endpointName}", ${v1.config}, runs model ${v1.model} (variant production), which no longer exists: SageMaker could not start that fleet; nothing was changed`);
    await expectNoChange(endpointName, v2.config);
  });

  test('a canary endpoint: exit 6, pointing at rollback', async () => {
    const canary = await createCanaryEndpoint({ prefix: 'revert-canary' });
    await sagemakerClient().send(new AddTagsCommand({ ResourceArn: arnOf('endpoint', canary.endpointName), Tags: managedTags(tableName) }));
    const run = await cli(['revert', canary.endpointName]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`error: endpoint "${canary.endpointName}" has a canary (production, candidate): "revert" is for blue/green endpoints. `
      + `Send the canary's traffic back to production with "npx cdk-sagemaker-rollout rollback ${canary.endpointName}"; nothing was changed`);
  });

  test('the endpoint is updating (as DescribeEndpoint reports it): exit 5', async () => {
    const { endpointName, deployed: [, v2] } = await deployedBlueGreen();
    const sagemaker = new ScriptedSageMaker();
    sagemaker.describes = [{ EndpointStatus: 'Updating' }];
    const run = await runInProcess(['revert', endpointName], sagemaker);
    expect(run.code).toBe(5);
    expect(run.stderr).toBe(`error: endpoint "${endpointName}" is Updating: a revert needs it InService (an update in progress would be cut short); try again when "status" shows InService; nothing was changed`);
    expect(sagemaker.updates).toEqual([]);
    await expectNoChange(endpointName, v2.config);
  });

  test('SageMaker refuses the update because the endpoint became busy: exit 5, and the revert is taken back', async () => {
    const { endpointName, deployed: [, v2] } = await deployedBlueGreen();
    const proxy = await FaultProxy.start();
    try {
      proxy.failNext(1, { fault: 'busy-endpoint', operation: 'UpdateEndpoint' });
      const run = await cli(['revert', endpointName], { AWS_ENDPOINT_URL: proxy.url });
      expect(run.code).toBe(5);
      expect(run.stderr).toContain('Cannot update in-progress endpoint');
    } finally {
      await proxy.stop();
    }
    await expectNoChange(endpointName, v2.config);
  });

  test('--guarded while a rollback alarm fires (it watches the fleet being left): exit 6', async () => {
    const { endpointName, deployed: [, v2] } = await deployedBlueGreen();
    const alarm = uniqueName('Service-rollout-5xx');
    await createAlarm({ name: alarm, endpointName, variantName: 'production' });
    await setAlarmState(alarm, 'ALARM');
    const sagemaker = new ScriptedSageMaker();
    sagemaker.describes = [{ LastDeploymentConfig: { AutoRollbackConfiguration: { Alarms: [{ AlarmName: alarm }] } } }];
    const run = await runInProcess(['revert', endpointName, '--guarded'], sagemaker);
    expect(run.code).toBe(6);
    expect(run.stderr).toBe(`error: --guarded reuses the endpoint's rollback alarms, and ${alarm} is in ALARM: they watch the fleet of ${v2.config}, the one you are leaving, `
      + 'so SageMaker would roll the revert back. Revert without --guarded (all at once); nothing was changed');
    await expectNoChange(endpointName, v2.config);
  });

  test('--guarded on an endpoint without guardrails (no rollback alarms): exit 6', async () => {
    const { endpointName } = await deployedBlueGreen();
    const run = await cli(['revert', endpointName, '--guarded']);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('has no rollback alarms in its last deployment config, so --guarded has nothing to guard with');
  });

  test('not managed, or without a state table: exit 4', async () => {
    const foreignConfig = uniqueName('foreign-config');
    const foreignModel = uniqueName('foreign-model');
    await createModel(foreignModel);
    await createEndpointConfig({ name: foreignConfig, variants: [{ variantName: 'production', modelName: foreignModel, weight: 1 }] });
    const foreign = uniqueName('foreign');
    await createEndpoint({ name: foreign, configName: foreignConfig });
    expect(await cli(['revert', foreign])).toEqual(expect.objectContaining({ code: 4, stderr: expect.stringContaining(`endpoint "${foreign}" is not managed by cdk-sagemaker-rollout`) }));

    await sagemakerClient().send(new AddTagsCommand({ ResourceArn: arnOf('endpoint', foreign), Tags: managedTags() }));
    expect(await cli(['revert', foreign])).toEqual(expect.objectContaining({
      code: 4, stderr: expect.stringContaining(`endpoint "${foreign}" has no state table, so no deployment of it is recorded`),
    }));
  });
});

describe('cleanup keeps what a revert could need', () => {
  test('the previous config and its model are kept; older ones go; while a revert stands, the template\'s config is kept too', async () => {
    const { endpointName, deployed: [v1, v2, v3] } = await deployedBlueGreen(3, { tagLeftovers: true });
    const unused = async () => JSON.parse((await cli(['cleanup', '--min-age', '0.001s', '--json'])).stdout).unused.map((l: any) => l.name);

    let names = await unused();
    // v1 is a leftover: listed (unless another test file's cleanup --delete took it meanwhile).
    const v1Gone = await sagemakerClient().send(new DescribeEndpointConfigCommand({ EndpointConfigName: v1.config })).then(() => false, () => true);
    if (!v1Gone) expect(names).toEqual(expect.arrayContaining([v1.config]));
    for (const kept of [v2.config, v2.model, v3.config, v3.model]) expect(names).not.toContain(kept);

    await runInProcess(['revert', endpointName], new ScriptedSageMaker());
    names = await unused();
    // Live v2; the template's v3 (a stack rollback goes through it) and the next revert's v1 stay.
    for (const kept of [v2.config, v2.model, v3.config, v3.model]) expect(names).not.toContain(kept);
    if (!v1Gone) for (const kept of [v1.config, v1.model]) expect(names).not.toContain(kept);
  });
});
