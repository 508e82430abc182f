/**
 * The public API as every jsii language sees it: the `.jsii` assembly that `npm run build` writes.
 * API.md must be what jsii-docgen makes of it today, and `npm run api-diff` must catch a breaking
 * change. Needs `npm run build` first, which `npm test` does.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const assembly = () => JSON.parse(fs.readFileSync(path.join(ROOT, '.jsii'), 'utf-8'));

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf-8', timeout: 300_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('the assembly exports the contract for every target language', () => {
  const jsii = assembly();
  expect(jsii.targets).toEqual(expect.objectContaining({
    python: { distName: 'cdk-sagemaker-rollout', module: 'cdk_sagemaker_rollout' },
    java: expect.objectContaining({ package: expect.any(String), maven: expect.any(Object) }),
    dotnet: expect.objectContaining({ namespace: expect.any(String), packageId: expect.any(String) }),
    go: expect.objectContaining({ moduleName: expect.any(String) }),
  }));
  const types = Object.keys(jsii.types).map((fqn) => fqn.replace('cdk-sagemaker-rollout.', ''));
  expect(types).toEqual(expect.arrayContaining([
    'Model', 'ContainerImage', 'ModelData', 'InstanceType', 'ModelEndpoint', 'Candidate', 'TrafficShift', 'RollbackAlarms', 'CanaryPromotion',
  ]));
  // Presets are constants (static readonly with an initializer), never getters.
  const shift = jsii.types['cdk-sagemaker-rollout.TrafficShift'];
  expect(shift.properties.find((p: any) => p.name === 'LINEAR_20PERCENT_EVERY_5MINUTES')).toEqual(expect.objectContaining({ const: true, static: true, immutable: true }));
  // No strategy class can be subclassed from another language with internal methods it cannot write.
  for (const name of ['TrafficShift', 'RollbackAlarms', 'Candidate', 'CanaryPromotion']) {
    expect({ name, abstract: jsii.types[`cdk-sagemaker-rollout.${name}`].abstract ?? false, initializer: jsii.types[`cdk-sagemaker-rollout.${name}`].initializer })
      .toEqual({ name, abstract: false, initializer: undefined });
  }
});

test('API.md is what jsii-docgen generates from the current API (run "npm run docgen")', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-docgen-')), 'API.md');
  const docgen = run(path.join(ROOT, 'node_modules', '.bin', 'jsii-docgen'), ['-o', out]);
  expect(docgen.status).toBe(0);
  const committed = fs.readFileSync(path.join(ROOT, 'API.md'), 'utf-8');
  const current = fs.readFileSync(out, 'utf-8');
  // toBe on the text would print both whole files; the first differing line says enough.
  const a = committed.split('\n');
  const b = current.split('\n');
  const line = a.findIndex((l, i) => l !== b[i]);
  expect(line === -1 && a.length === b.length ? 'current' : `API.md line ${line + 1}: ${JSON.stringify(a[line])} != ${JSON.stringify(b[line])}`).toBe('current');
}, 300_000);

describe('npm run api-diff', () => {
  test('passes against the same API', () => {
    const diff = run(process.execPath, [path.join(ROOT, 'scripts', 'api-diff.js'), path.join(ROOT, '.jsii')]);
    expect(diff).toEqual({ status: 0, output: expect.stringContaining('api-diff:') });
  }, 300_000);

  test('fails when a public member is gone, and names it', () => {
    // A baseline that had one more preset: the working tree "removed" it.
    const baseline = assembly();
    const shift = baseline.types['cdk-sagemaker-rollout.TrafficShift'];
    const preset = shift.properties.find((p: any) => p.name === 'CANARY_10PERCENT_5MINUTES');
    shift.properties.push({ ...preset, name: 'CANARY_20PERCENT_5MINUTES' });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-api-diff-')), '.jsii');
    fs.writeFileSync(file, JSON.stringify(baseline));
    const diff = run(process.execPath, [path.join(ROOT, 'scripts', 'api-diff.js'), file]);
    expect(diff.status).not.toBe(0);
    expect(diff.output).toContain('CANARY_20PERCENT_5MINUTES');
  }, 300_000);
});
