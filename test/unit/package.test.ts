import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * A consumer's view: the package as `npm pack` ships it (built JavaScript, .d.ts, the jsii
 * assembly, the CLI and handler bundles), installed into an empty project and used from JavaScript
 * and from TypeScript. Needs `npm run build` first, which `npm test` does.
 */
const ROOT = path.resolve(__dirname, '..', '..');
let consumer: string;

beforeAll(() => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-consumer-'));
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: ROOT, encoding: 'utf-8' }).trim().split('\n').pop()!;
  consumer = path.join(work, 'app');
  const installed = path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout');
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(work, packed), '-C', installed, '--strip-components=1']);
  // The peer dependencies come from the consumer's own node_modules; ours stand in for them.
  for (const dep of ['aws-cdk-lib', 'constructs', '@types/node']) {
    fs.mkdirSync(path.dirname(path.join(consumer, 'node_modules', dep)), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(consumer, 'node_modules', dep));
  }
}, 120_000);

function installedFiles(): string[] {
  return execFileSync('find', ['.', '-type', 'f'], { cwd: path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout'), encoding: 'utf-8' }).split('\n').filter(Boolean);
}

function installedManifest(): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout', 'package.json'), 'utf-8'));
}

test('the package ships the compiled library, its types, the jsii assembly, the CLI, the handler bundle and its license, and no sources or tests', () => {
  const files = installedFiles();
  expect(files).toEqual(expect.arrayContaining([
    './package.json', './README.md', './LICENSE', './API.md', './.jsii', './dist/lib/index.js', './dist/lib/index.d.ts',
    './dist/bin/cdk-sagemaker-rollout.js', './assets/rollout-controller/index.js',
  ]));
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files.filter((f) => f.startsWith('./test') || f.includes('example-app') || f.includes('example_app'))).toEqual([]);
  // The runtime and the CLI reach users only as bundles.
  expect(files.filter((f) => f.startsWith('./dist/lib/cli/') || (f.startsWith('./dist/lib/runtime/') && !f.includes('/spec.')))).toEqual([]);
  expect(fs.readFileSync(path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout', 'LICENSE'), 'utf-8')).toContain('Apache License\n                           Version 2.0, January 2004');
  expect(installedManifest().license).toBe('Apache-2.0');
});

test('every source map it ships carries its sources: lib/*.ts is not in the package', () => {
  const maps = installedFiles().filter((f) => f.endsWith('.js')).flatMap((f) => {
    const text = fs.readFileSync(path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout', f), 'utf-8');
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
    if (!url) return [];
    // Only inline maps: a map file beside the code would have to be listed in `files` too.
    expect({ file: f, inline: url.startsWith('data:application/json;base64,') }).toEqual({ file: f, inline: true });
    const map = JSON.parse(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64').toString('utf-8'));
    return [{ file: f, sources: map.sources.length, withContent: (map.sourcesContent ?? []).filter((c: unknown) => typeof c === 'string').length }];
  });
  expect(maps.length).toBeGreaterThan(0);
  for (const m of maps) expect(m).toEqual({ ...m, withContent: m.sources });
});

test('depends on nothing at run time but its peers: the AWS SDK is bundled (jsii allows only jsii dependencies)', () => {
  const pkg = installedManifest();
  expect(pkg.dependencies ?? {}).toEqual({});
  expect(pkg.bundledDependencies ?? pkg.bundleDependencies ?? []).toEqual([]);
  expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
});

/** The installed CLI, run the way `npx cdk-sagemaker-rollout` runs it: no SDK anywhere but in the bundle. */
function runInstalledCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const cli = path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout', installedManifest().bin['cdk-sagemaker-rollout']);
  const env = { ...process.env };
  // The test setup silences the SDK's Node-version notice for the test processes; the CLI must
  // silence it itself, so the variable is not passed on.
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  delete env.NODE_PATH;
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: consumer, encoding: 'utf-8', env, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the CLI runs from the installed package, with its SDK bundled', () => {
  const run = runInstalledCli(['--help']);
  expect(run.stdout).toContain('Usage: npx cdk-sagemaker-rollout <command> [options]');
  expect(run.status).toBe(0);
});

test('the CLI prints no deprecation notice of the AWS SDK (or any other warning) when it calls AWS', () => {
  // A real SDK call against the emulator (AWS_ENDPOINT_URL comes from the test setup): the SDK
  // emits its Node-version notice when a client is made.
  const run = runInstalledCli(['status', `no-such-endpoint-${process.pid}`]);
  expect(run.status).toBe(3);
  expect(run.stderr).not.toMatch(/Warning|deprecat/i);
}, 60_000);

test('a JavaScript app synthesizes an endpoint from the installed package', () => {
  fs.writeFileSync(path.join(consumer, 'app.js'), `
    const { App, Stack } = require('aws-cdk-lib');
    const { Model, ModelEndpoint, ContainerImage, ModelData, Candidate } = require('cdk-sagemaker-rollout');
    const app = new App();
    const stack = new Stack(app, 'Consumer');
    const v1 = new Model(stack, 'V1', { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1'), modelData: ModelData.fromS3Url('s3://bucket-name/m/1/model.tar.gz') });
    const v2 = new Model(stack, 'V2', { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/m:2') });
    new ModelEndpoint(stack, 'E', { production: { model: v1, instanceCount: 2 }, candidate: Candidate.canary({ model: v2, trafficPercent: 10 }) });
    const template = app.synth().getStackByName('Consumer').template;
    console.log(JSON.stringify(Object.values(template.Resources).map((r) => r.Type).sort()));
  `);
  const types = JSON.parse(execFileSync('node', ['app.js'], { cwd: consumer, encoding: 'utf-8' }));
  expect(types).toEqual(expect.arrayContaining(['AWS::SageMaker::Endpoint', 'AWS::SageMaker::EndpointConfig', 'AWS::Lambda::Function', 'Custom::SageMakerRolloutDeployment']));
}, 60_000);

test('a TypeScript app type-checks against the shipped declarations', () => {
  fs.writeFileSync(path.join(consumer, 'app.ts'), `
    import { App, Duration, Stack } from 'aws-cdk-lib';
    import { ContainerImage, InstanceType, Model, ModelData, ModelEndpoint, RollbackAlarms, TrafficShift } from 'cdk-sagemaker-rollout';
    const stack = new Stack(new App(), 'Consumer');
    const model = new Model(stack, 'V1', { image: ContainerImage.fromImageUri('repo/image:1'), modelData: ModelData.fromS3Url('s3://bucket-name/k/model.tar.gz') });
    const endpoint: ModelEndpoint = new ModelEndpoint(stack, 'E', {
      production: { model, instanceType: InstanceType.ML_M5_XLARGE, instanceCount: 2 },
      trafficShift: TrafficShift.allAtOnce({ bake: Duration.minutes(10) }),
      rollbackAlarms: RollbackAlarms.recommended({ maxErrorRatePercent: 1, maxLatency: Duration.millis(250) }),
    });
    const name: string = endpoint.endpointName;
    export { name };
  `);
  fs.writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'commonjs', target: 'ES2022', skipLibCheck: true, types: ['node'] }, files: ['app.ts'] }));
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf-8' });
}, 60_000);
