import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AddTagsCommand } from '@aws-sdk/client-sagemaker';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MANAGED_BY_TAG_KEY, STATE_TABLE_TAG } from '../../lib/runtime/spec';
import { createCanaryEndpoint, createEndpoint, createEndpointConfig, createModel, EMULATOR_ACCOUNT_ID, putVariantMetric, s3Client, sagemakerClient, setAlarmState, uniqueName } from '../support/emulator';
import { FaultProxy } from '../support/fault-proxy';
import { register } from '../../lib/runtime/rollout';
import { createStateTable, deployCanary, FakeClock, runtimeDeps } from '../runtime/fixture';

/**
 * The operator CLI as a user runs it: the built `dist/bin/cdk-sagemaker-rollout.js` in a
 * subprocess, against the emulator through AWS_ENDPOINT_URL, in both output modes.
 */
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'bin', 'cdk-sagemaker-rollout.js');
interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], env: Record<string, string> = {}, options: { cleanEnv?: boolean } = {}): Promise<Run> {
  const base = options.cleanEnv ? {} : process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...base, USER: 'oncall', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let tableName: string;
beforeAll(async () => {
  tableName = await createStateTable();
});

/** What moto's STS GetCallerIdentity answers: the identity every CLI write records. */
const MOTO_IDENTITY = `arn:aws:sts::${EMULATOR_ACCOUNT_ID}:user/moto`;
const arnOf = (kind: string, name: string) => `arn:aws:sagemaker:us-east-1:${EMULATOR_ACCOUNT_ID}:${kind}/${name}`;

/** A canary deployed and tagged the way the constructs tag it. */
async function managedCanary(promotion = { steps: [10, 25, 50, 100], intervalSeconds: 1800, minInvocations: 100, approvalAt: 50 }) {
  const deps = runtimeDeps({ tableName, clock: new FakeClock() });
  const canary = await deployCanary(deps, { promotion });
  await sagemakerClient().send(new AddTagsCommand({
    ResourceArn: arnOf('endpoint', canary.endpointName),
    Tags: [{ Key: MANAGED_BY_TAG_KEY, Value: 'cdk-sagemaker-rollout' }, { Key: STATE_TABLE_TAG, Value: tableName }],
  }));
  return { ...canary, deps };
}

describe('status', () => {
  test('for people: variants, rollout, alarms and history', async () => {
    const canary = await managedCanary();
    const run = await cli(['status', canary.endpointName]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Endpoint  ${canary.endpointName}: InService, config ${canary.endpointConfigName}`);
    expect(run.stdout).toMatch(/Rollout {3}canary candidate \(model canary-cand-[0-9a-f]+\) active; at 10%; step 1 of 4; next step at .* with at least 100 requests and all alarms OK/);
    expect(run.stdout).toMatch(/production +90 \/ 90 +1 \/ 1 +none +90%/);
    expect(run.stdout).toMatch(/candidate +10 \/ 10 +1 \/ 1 +none +10%/);
    expect(run.stdout).toMatch(new RegExp(`${canary.alarms[0]} +OK +rolls back`));
    expect(run.stdout).toMatch(/History \(newest first\):\n.*\n.*started +deployment +10% +new canary candidate/);
  });

  test('shows each variant\'s instance counts and scaling range, and what a rollback suspended', async () => {
    const deps = runtimeDeps({ tableName, clock: new FakeClock() });
    const canary = await deployCanary(deps, { candidateScaling: { minCapacity: 1, maxCapacity: 4, instanceCount: 2 } });
    await sagemakerClient().send(new AddTagsCommand({
      ResourceArn: arnOf('endpoint', canary.endpointName),
      Tags: [{ Key: MANAGED_BY_TAG_KEY, Value: 'cdk-sagemaker-rollout' }, { Key: STATE_TABLE_TAG, Value: tableName }],
    }));
    expect((await cli(['status', canary.endpointName])).stdout).toMatch(/candidate +10 \/ 10 +2 \/ 2 +1-4 +10%/);
    expect((await cli(['rollback', canary.endpointName, '--reason', 'slow'])).code).toBe(0);
    const report = JSON.parse((await cli(['status', canary.endpointName, '--json'])).stdout);
    const candidate = report.endpoint.variants.find((v: any) => v.name === 'candidate');
    expect(candidate.scaling).toEqual({ minCapacity: 1, maxCapacity: 1, suspended: ['DynamicScalingOutSuspended', 'ScheduledScalingSuspended'] });
    expect(report.endpoint.variants.find((v: any) => v.name === 'production').scaling).toBeUndefined();
  });

  test('as JSON: the same facts for scripts', async () => {
    const canary = await managedCanary();
    const run = await cli(['status', canary.endpointName, '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.endpoint).toEqual(expect.objectContaining({ name: canary.endpointName, status: 'InService', managed: true }));
    expect(report.endpoint.variants.map((v: any) => [v.name, v.trafficPercent])).toEqual([['production', 90], ['candidate', 10]]);
    expect(report.rollout).toEqual(expect.objectContaining({ kind: 'canary', status: 'active', holdsPercent: 10, livePercent: 10 }));
    expect(report.rollout.step).toEqual(expect.objectContaining({ index: 1, of: 4, percent: 10, minInvocations: 100, approvalAt: 50 }));
    expect(report.alarms).toEqual(canary.alarms.map((name) => ({ name, state: 'OK', role: 'rollback' })));
    expect(report.history[0].action).toBe('started');
  });

  test('an endpoint not made by this library is shown, and said to be unmanaged', async () => {
    const endpoint = await createCanaryEndpoint({ prefix: 'foreign' });
    const run = await cli(['status', endpoint.endpointName, '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.rollout).toBeUndefined();
    expect(report.history).toEqual([]);
    expect(report.endpoint.managed).toBe(false);
    expect((await cli(['status', endpoint.endpointName])).stdout).toContain('(not managed by cdk-sagemaker-rollout)');
  });
});

describe('promote, rollback, pause, resume', () => {
  test('promote moves to the next step; --wait reports progress on stderr; JSON on stdout', async () => {
    const canary = await managedCanary();
    const text = await cli(['promote', canary.endpointName, '--wait']);
    expect(text).toEqual(expect.objectContaining({ code: 0, stdout: `${canary.endpointName}: the canary now gets 25% of traffic (active).\n` }));
    expect(text.stderr).toContain(`waiting for ${canary.endpointName}: InService, weights applied`);

    const json = await cli(['promote', canary.endpointName, '--to', '50', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(expect.objectContaining({ action: 'promote', endpoint: canary.endpointName, state: expect.objectContaining({ percent: 50, stepIndex: 2 }) }));
    const history = await canary.deps.store.history(canary.endpointName, 1);
    // The caller's identity from STS, never a name from the environment.
    expect(history[0]).toEqual(expect.objectContaining({ action: 'promote', by: MOTO_IDENTITY, percentBefore: 25, percentAfter: 50 }));
  });

  test('promote is refused while an alarm fires: exit 6, nothing changed', async () => {
    const canary = await managedCanary();
    await setAlarmState(canary.alarms[0], 'ALARM');
    const run = await cli(['promote', canary.endpointName]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`error: alarm ${canary.alarms[0]} is in ALARM: an alarm always wins over a promotion; nothing was changed`);
    expect(JSON.parse((await cli(['status', canary.endpointName, '--json'])).stdout).rollout.livePercent).toBe(10);
  });

  test('rollback --reason, in both modes; a second rollback changes nothing', async () => {
    const canary = await managedCanary();
    const run = await cli(['rollback', canary.endpointName, '--reason', 'p99 looks odd', '--as', 'alice']);
    expect(run).toEqual(expect.objectContaining({ code: 0, stdout: `${canary.endpointName}: the canary gets 0% of traffic and stays there until "resume" or a new candidate.\n` }));
    const status = JSON.parse((await cli(['status', canary.endpointName, '--json'])).stdout);
    expect(status.rollout).toEqual(expect.objectContaining({ status: 'rolled-back', holdsPercent: 0, livePercent: 0 }));
    expect(status.rollout.rollback).toEqual(expect.objectContaining({ by: 'operator', reason: `rolled back by ${MOTO_IDENTITY} (as "alice"): p99 looks odd`, percentBefore: 10 }));
    expect((await canary.deps.store.history(canary.endpointName, 1))[0]).toEqual(expect.objectContaining({ action: 'rollback', by: `${MOTO_IDENTITY} (as "alice")` }));
    const again = await cli(['rollback', canary.endpointName, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ action: 'rollback', endpoint: canary.endpointName, outcome: 'already-rolled-back' });
    const text = await cli(['status', canary.endpointName]);
    expect(text.stdout).toContain('rolled-back; at 0% since');
    expect(text.stdout).toContain('run "resume" to try it again from its first step');
  });

  test('pause and resume, in both modes', async () => {
    const canary = await managedCanary();
    const paused = await cli(['pause', canary.endpointName]);
    expect(paused).toEqual(expect.objectContaining({ code: 0, stdout: `${canary.endpointName}: paused at 10%. Alarms still roll it back; "resume" to go on.\n` }));
    expect((await cli(['pause', canary.endpointName])).code).toBe(6);
    const resumed = await cli(['resume', canary.endpointName, '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).state).toEqual(expect.objectContaining({ status: 'active', percent: 10 }));
  });

  test('a change already in flight: exit 5, nothing changed', async () => {
    const canary = await managedCanary();
    const read = (await canary.deps.store.getState(canary.endpointName))!;
    await canary.deps.store.putState({ ...read.value, pending: { targetPercent: 25, targetStepIndex: 1, reason: 'step', since: new Date().toISOString() } }, read.version);
    const run = await cli(['promote', canary.endpointName]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('is in flight since');
  });

  test('a busy endpoint is retried until --timeout, then exit 5', async () => {
    const canary = await managedCanary();
    const proxy = await FaultProxy.start();
    try {
      proxy.failNext(100, { fault: 'busy-endpoint', operation: 'UpdateEndpointWeightsAndCapacities' });
      const run = await cli(['rollback', canary.endpointName, '--timeout', '3s'], { AWS_ENDPOINT_URL: proxy.url });
      expect(run.code).toBe(5);
      expect(run.stderr).toContain('Cannot update in-progress endpoint');
      expect(run.stderr).toContain('The rollback is recorded: the controller applies it as soon as the endpoint is back in service.');
      expect(proxy.calls.filter((c) => c.outcome === 'busy-endpoint').length).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});

describe('clear refusals', () => {
  test.each<[string, string[], number, string]>([
    ['no command', [], 2, 'Usage: npx cdk-sagemaker-rollout'],
    ['an unknown command', ['frobnicate', 'x'], 2, 'error: unknown command "frobnicate"'],
    ['promote without an endpoint', ['promote'], 2, 'error: promote needs an endpoint name: npx cdk-sagemaker-rollout promote <endpoint>'],
    ['an unknown option', ['status', 'x', '--colour'], 2, "Unknown option '--colour'"],
    ['a percent above 100', ['promote', 'x', '--to', '150'], 2, 'error: --to must be a whole percent from 1 to 100, got "150"'],
    ['a bad timeout', ['rollback', 'x', '--timeout', 'soon'], 2, 'error: --timeout must be a duration such as 90s, 10m or 2h, got "soon"'],
    ['an endpoint that does not exist', ['promote', 'no-such-endpoint-anywhere'], 3, 'error: endpoint "no-such-endpoint-anywhere" does not exist in this account and region: nothing was changed'],
  ])('%s', async (_name, args, code, message) => {
    const run = await cli(args);
    expect(run.code).toBe(code);
    expect(run.stdout + run.stderr).toContain(message);
  });

  test('an endpoint this library does not manage: exit 4, in both modes', async () => {
    const endpoint = await createCanaryEndpoint({ prefix: 'foreign' });
    const text = await cli(['rollback', endpoint.endpointName]);
    expect(text.code).toBe(4);
    expect(text.stderr).toContain(`error: endpoint "${endpoint.endpointName}" is not managed by cdk-sagemaker-rollout (it has no cdk-sagemaker-rollout:managed-by tag): nothing was changed`);
    const json = await cli(['rollback', endpoint.endpointName, '--json']);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toEqual({ error: expect.stringContaining('is not managed by cdk-sagemaker-rollout'), exitCode: 4 });
  });

  test('--help prints the usage and exits 0', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Exit codes: 0 done, 1 failed, 2 bad arguments or no region or credentials, 3 endpoint not found,');
  });
});

describe('help and version', () => {
  test.each([
    ['status --help', ['status', '--help'], 'Usage: npx cdk-sagemaker-rollout status <endpoint> [--history <n>] [options]', '--history <n>'],
    ['help promote', ['help', 'promote'], 'Usage: npx cdk-sagemaker-rollout promote <endpoint> [--to <pct>] [options]', '--to <pct>'],
    ['compare -h', ['compare', '-h'], 'Usage: npx cdk-sagemaker-rollout compare <endpoint> [--since <1h|ISO>] [options]', '--capture-uri <s3://bucket/prefix>'],
    ['list --help', ['list', '--help'], 'Usage: npx cdk-sagemaker-rollout list [options]', '--json'],
  ])('%s describes that one command, and exits 0', async (_name, args, usage, option) => {
    const run = await cli(args);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(usage);
    expect(run.stdout).toContain(option);
    expect(run.stdout).not.toContain('Commands:');
  });

  test('help for a command that does not exist: exit 2', async () => {
    const run = await cli(['frobnicate', '--help']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: unknown command "frobnicate"');
  });

  test('--version prints the package\'s version, alone or after a command', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf-8'));
    for (const args of [['--version'], ['status', '--version']]) {
      expect(await cli(args)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  test('the general usage lists every command, list included', async () => {
    const run = await cli(['--help']);
    for (const command of ['list', 'status', 'promote', 'rollback', 'pause', 'resume', 'compare', 'cleanup']) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });
});

describe('without a region or credentials: one line that says what to set', () => {
  // A machine with no AWS configuration at all: an empty home, no profile, no keys, no instance role.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-home-'));
  const bare = { PATH: process.env.PATH ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? '' };

  test.each<[string, Record<string, string>, string]>([
    ['no region', {}, 'error: no AWS region: pass --region <region>, or set AWS_REGION, or AWS_PROFILE to a profile of ~/.aws/config that has one'],
    ['no credentials', { AWS_REGION: 'us-east-1' }, 'error: no AWS credentials: set AWS_PROFILE to a profile of ~/.aws/config, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'],
    ['a profile that does not exist', { AWS_REGION: 'us-east-1', AWS_PROFILE: 'nosuchprofile' },
      'error: no AWS credentials from the profile "nosuchprofile" in AWS_PROFILE: check it in ~/.aws/config, run "aws sso login --profile nosuchprofile" '
      + 'if it uses SSO, or set AWS_PROFILE to another profile'],
  ])('%s: exit 2', async (_name, env, line) => {
    const run = await cli(['status', 'some-endpoint'], { ...bare, ...env }, { cleanEnv: true });
    expect(run).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
  });

  test('--region is enough for the region', async () => {
    const run = await cli(['list', '--region', 'eu-west-1'], bare, { cleanEnv: true });
    expect(run.stderr).toBe('error: no AWS credentials: set AWS_PROFILE to a profile of ~/.aws/config, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n');
  });

  test('no warning from the AWS SDK about the Node.js version (or anything else) on a normal run', async () => {
    const canary = await managedCanary();
    const run = await cli(['status', canary.endpointName]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  });
});

describe('list', () => {
  test('every managed endpoint with its strategy and rollout state; unmanaged ones are counted, not listed', async () => {
    const canary = await managedCanary({ steps: [10, 25, 50, 100], intervalSeconds: 1800, minInvocations: 100, approvalAt: 50 });
    await cli(['promote', canary.endpointName]);
    const rolledBack = await managedCanary();
    await cli(['rollback', rolledBack.endpointName, '--reason', 'bad p99']);

    // A shadow, registered as its deployment would register it.
    const shadow = await createCanaryEndpoint({ prefix: 'shadowed' });
    const deps = runtimeDeps({ tableName, clock: new FakeClock() });
    await register(deps, shadow.endpointName, {
      kind: 'shadow', productionVariant: 'production', candidateVariant: shadow.candidate.variantName, candidateModelName: shadow.candidate.modelName,
      candidateModelPath: 'TestStack/V2', initialPercent: 50, alarmNames: [],
    }, shadow.endpointConfigName, { final: new Date(Date.now() + 60_000) });
    await sagemakerClient().send(new AddTagsCommand({
      ResourceArn: arnOf('endpoint', shadow.endpointName),
      Tags: [{ Key: MANAGED_BY_TAG_KEY, Value: 'cdk-sagemaker-rollout' }, { Key: STATE_TABLE_TAG, Value: tableName }],
    }));
    // Blue/green: managed, no candidate, no table.
    const blueGreen = await createCanaryEndpoint({ prefix: 'bluegreen' });
    await sagemakerClient().send(new AddTagsCommand({ ResourceArn: arnOf('endpoint', blueGreen.endpointName), Tags: [{ Key: MANAGED_BY_TAG_KEY, Value: 'cdk-sagemaker-rollout' }] }));
    const foreign = await createCanaryEndpoint({ prefix: 'foreign' });

    const json = await cli(['list', '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    const listed = (name: string) => report.endpoints.find((e: any) => e.name === name);
    expect(listed(canary.endpointName)).toEqual({
      name: canary.endpointName, status: 'InService', strategy: 'canary', stateTable: tableName,
      rollout: { status: 'active', candidateVariant: 'candidate', candidateModel: canary.spec.candidateModelName, percent: 25, step: { index: 2, of: 4 }, since: expect.any(String) },
    });
    expect(listed(rolledBack.endpointName).rollout).toEqual(expect.objectContaining({ status: 'rolled-back', percent: 0 }));
    expect(listed(shadow.endpointName)).toEqual(expect.objectContaining({ strategy: 'shadow', rollout: expect.objectContaining({ status: 'active', percent: 50 }) }));
    expect(listed(blueGreen.endpointName)).toEqual({ name: blueGreen.endpointName, status: 'InService', strategy: 'blue/green' });
    expect(listed(foreign.endpointName)).toBeUndefined();
    expect(report.unmanaged).toBeGreaterThanOrEqual(1);

    const text = await cli(['list']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^ENDPOINT +STRATEGY +STATUS +ROLLOUT +SINCE$/);
    expect(text.stdout).toMatch(new RegExp(`^${canary.endpointName} +canary +InService +candidate \\(model ${canary.spec.candidateModelName}\\) active at 25%, step 2 of 4 +\\d{4}-`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^${rolledBack.endpointName} +canary +InService +candidate \\(model [^)]+\\) rolled-back at 0% +\\d{4}-`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^${shadow.endpointName} +shadow +InService +candidate \\(model [^)]+\\) gets a copy of 50% of requests `, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^${blueGreen.endpointName} +blue/green +InService +- +-$`, 'm'));
    expect(text.stdout).not.toContain(foreign.endpointName);
    expect(text.stdout).toMatch(/\n\d+ other endpoints? in this account and region (is|are) not managed by cdk-sagemaker-rollout\.\n$/);
  });

  test('an endpoint argument is refused: exit 2', async () => {
    const run = await cli(['list', 'some-endpoint']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: list takes no endpoint');
  });
});

describe('compare', () => {
  /** One capture record in SageMaker's format (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html). */
  const record = (eventId: string, input: string, output: string, time: string, inferenceId?: string) => JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: input, encoding: 'CSV' },
      endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: output, encoding: 'JSON' },
    },
    eventMetadata: { eventId, inferenceTime: time, ...(inferenceId ? { inferenceId } : {}) },
    eventVersion: '0',
  });

  test('pairs the two variants\' captures and reports agreement, exact and within tolerance, with examples', async () => {
    const bucket = uniqueName('captures');
    await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
    const endpointName = uniqueName('shadowed');
    const key = (variant: string) => `data-capture/${endpointName}/${variant}/2026/11/28/09/capture-0001.jsonl`;
    const t = '2026-11-28T09:15:00Z';
    // 4 requests: one paired by inference id, three by event id; answers: equal, close, close, different.
    const production = [
      record('e1', '1,2', '{"score": 0.5}', t, 'req-1'), record('e2', '3,4', '{"score": 0.7}', t), record('e3', '5,6', '[0.1, 0.9]', t), record('e4', '7,8', '{"label": "cat"}', t),
    ];
    const shadow = [
      record('x1', '1,2', '{"score": 0.5}', t, 'req-1'), record('e2', '3,4', '{"score": 0.7001}', t), record('e3', '5,6', '[0.1, 0.9004]', t), record('e4', '7,8', '{"label": "dog"}', t),
    ];
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key('production'), Body: production.join('\n') + '\n' }));
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key('shadow'), Body: shadow.join('\n') + '\n' }));
    const model = uniqueName('m');
    await createModel(model);
    const config = uniqueName('c');
    await createEndpointConfig({ name: config, variants: [{ variantName: 'production', modelName: model, weight: 1 }] });
    await createEndpoint({ name: endpointName, configName: config });
    // ModelLatency, in microseconds as SageMaker publishes it: production 10 and 30 ms, the shadow 50 ms.
    for (const [variantName, value] of [['production', 10_000], ['production', 30_000], ['shadow', 50_000]] as const) {
      await putVariantMetric({ endpointName, variantName, metricName: 'ModelLatency', value, unit: 'Microseconds', timestamp: new Date(t) });
    }

    const args = ['compare', endpointName, '--capture-uri', `s3://${bucket}/data-capture`, '--since', '2026-11-28T09:00:00Z', '--until', '2026-11-28T10:00:00Z', '--tolerance', '0.001'];
    const json = await cli([...args, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toEqual(expect.objectContaining({
      productionRecords: 4, shadowRecords: 4, pairs: 4, pairedBy: { inferenceId: 1, eventId: 3, input: 0 },
      exactAgreement: 1, toleranceAgreement: 3, exactAgreementPercent: 25, toleranceAgreementPercent: 75, unpairedProduction: 0, unpairedShadow: 0,
    }));
    expect(report.disagreements).toEqual([{ id: 'e4', input: '7,8', production: '{"label": "cat"}', shadow: '{"label": "dog"}' }]);
    expect(report.latencyMs).toEqual({ production: { mean: 20, max: 30 }, shadow: { mean: 50, max: 50 } });

    const text = await cli(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Agreement: 25% exact (1 of 4), 75% within a relative tolerance of 0.001 (3 of 4)');
    expect(text.stdout).toMatch(/captured requests +4 +4/);
    expect(text.stdout).toMatch(/mean latency \(ms\) +20 +50/);
  });

  test('without a capture destination it says what to pass: exit 2', async () => {
    const endpoint = await createCanaryEndpoint({ prefix: 'nocapture' });
    const run = await cli(['compare', endpoint.endpointName]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`endpoint "${endpoint.endpointName}" reports no data capture destination: pass --capture-uri s3://bucket/prefix`);
  });
});

describe('cleanup', () => {
  test('lists, then deletes, the managed configs and models no endpoint uses; leaves used and unmanaged ones', async () => {
    const sm = sagemakerClient();
    const tag = [{ Key: MANAGED_BY_TAG_KEY, Value: 'cdk-sagemaker-rollout' }];
    const usedModel = uniqueName('used-model');
    const oldModel = uniqueName('old-model');
    const foreignModel = uniqueName('foreign-model');
    for (const m of [usedModel, oldModel, foreignModel]) await createModel(m);
    const usedConfig = uniqueName('used-config');
    const oldConfig = uniqueName('old-config');
    await createEndpointConfig({ name: usedConfig, variants: [{ variantName: 'production', modelName: usedModel, weight: 1 }] });
    await createEndpointConfig({ name: oldConfig, variants: [{ variantName: 'production', modelName: oldModel, weight: 1 }] });
    await createEndpoint({ name: uniqueName('live'), configName: usedConfig });
    for (const [kind, name] of [['model', usedModel], ['model', oldModel], ['endpoint-config', usedConfig], ['endpoint-config', oldConfig]]) {
      await sm.send(new AddTagsCommand({ ResourceArn: arnOf(kind, name), Tags: tag }));
    }

    const listed = await cli(['cleanup', '--min-age', '0.001s', '--json']);
    expect(listed.code).toBe(0);
    const names = JSON.parse(listed.stdout).unused.map((l: any) => l.name);
    expect(names).toEqual(expect.arrayContaining([oldConfig, oldModel]));
    expect(names).not.toContain(usedConfig);
    expect(names).not.toContain(usedModel);
    expect(names).not.toContain(foreignModel);

    const recent = await cli(['cleanup', '--json']);
    expect(JSON.parse(recent.stdout).tooRecent.map((l: any) => l.name)).toEqual(expect.arrayContaining([oldConfig, oldModel]));

    const deleted = await cli(['cleanup', '--min-age', '0.001s', '--delete']);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain(`Deleted by ${MOTO_IDENTITY}:`);
    expect(deleted.stdout).toContain(oldConfig);
    const after = JSON.parse((await cli(['cleanup', '--min-age', '0.001s', '--json'])).stdout).unused.map((l: any) => l.name);
    expect(after).not.toContain(oldConfig);
    expect(after).not.toContain(oldModel);
  });
});
