import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * A consumer's view: the package as `npm pack` ships it (built JavaScript, .d.ts and the handler
 * bundle), installed into an empty project and used from JavaScript and from TypeScript. Needs
 * `npm run build` first, which `npm test` does.
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

test('the package ships the compiled library, its types, the CLI and the handler bundle, and no sources or tests', () => {
  const files = execFileSync('find', ['.', '-type', 'f'], { cwd: path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout'), encoding: 'utf-8' }).split('\n');
  expect(files).toEqual(expect.arrayContaining([
    './package.json', './README.md', './dist/lib/index.js', './dist/lib/index.d.ts', './dist/bin/cdk-sagemaker-rollout.js', './assets/rollout-controller/index.js',
  ]));
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files.filter((f) => f.startsWith('./test') || f.includes('example-app'))).toEqual([]);
});

test('the CLI runs from the installed package', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout', 'package.json'), 'utf-8'));
  const cli = path.join(consumer, 'node_modules', 'cdk-sagemaker-rollout', pkg.bin['cdk-sagemaker-rollout']);
  // The CLI needs the AWS SDK, a dependency the consumer's install brings; ours stands in.
  const out = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf-8', env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') } });
  expect(out).toContain('Usage: npx cdk-sagemaker-rollout <command> [options]');
});

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
