/**
 * The library from Python, the way a Python CDK user gets it: the jsii assembly packed into a wheel
 * by jsii-pacmak, installed beside aws-cdk-lib for Python (the peer floor), running
 * bin/example_app.py, the Python twin of bin/example-app.ts. Both apps must synthesize the same
 * templates, resource for resource.
 *
 * Needs `npm run build` first (the `.jsii` assembly and the handler bundle), which `npm test` does.
 * The aws-cdk-lib venv (.venvs/cdk-python) is cached like the other tool venvs; the wheel is built
 * and installed on every run, so the test always sees the code under test.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CDK_CONTEXT, synthesizeExampleApp, SynthesizedExampleApp } from '../gates/gate-support';
import { ensureVenv, PROJECT_ROOT } from '../support/python-tools';

const run = promisify(execFile);
const PYTHON_PACKAGE_DIR = path.join(PROJECT_ROOT, 'dist', 'packages', 'python');
const STACKS = ['SingleModelStack', 'BlueGreenStack', 'CanaryStack', 'ShadowStack'];

let venvBin: string;
let pyOutdir: string;
let ts: SynthesizedExampleApp;
const timings: string[] = [];

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } finally {
    timings.push(`${label} ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }
}

/** The wheel jsii-pacmak builds from the current `.jsii` (it skips the build when nothing changed). */
async function buildWheel(): Promise<string> {
  if (!fs.existsSync(path.join(PROJECT_ROOT, '.jsii'))) {
    throw new Error('no .jsii assembly: run "npm run build" first');
  }
  // npm pack (inside pacmak) would run the `prepare` script, a second full build: the build is done.
  await run('npm', ['run', 'package:python'], { cwd: PROJECT_ROOT, env: { ...process.env, npm_config_ignore_scripts: 'true' }, maxBuffer: 64 * 1024 * 1024 });
  const version = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf-8')).version;
  const wheel = path.join(PYTHON_PACKAGE_DIR, `cdk_sagemaker_rollout-${version}-py3-none-any.whl`);
  if (!fs.existsSync(wheel)) throw new Error(`jsii-pacmak did not produce ${wheel}`);
  return wheel;
}

beforeAll(async () => {
  // The venv install (aws-cdk-lib is a 60 MB wheel) and the pacmak build overlap.
  const [bin, wheel] = await Promise.all([
    timed('venv', () => ensureVenv('cdk-python')),
    timed('jsii-pacmak', buildWheel),
  ]);
  venvBin = bin;
  await timed('pip install wheel', () => run(path.join(venvBin, 'python'), [
    '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--no-deps', '--force-reinstall', wheel,
  ]));
  // The wheel's own requirements (jsii, constructs, aws-cdk-lib, publication, typeguard) must be
  // met by what requirements/cdk-python.txt installed: --no-deps above installs none of them.
  await run(path.join(venvBin, 'python'), ['-m', 'pip', 'check', '--disable-pip-version-check']);

  pyOutdir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-python-app-'));
  await timed('python synth', () => run(path.join(venvBin, 'python'), [path.join(PROJECT_ROOT, 'bin', 'example_app.py')], {
    cwd: PROJECT_ROOT,
    // The same context as the TypeScript app (cdk.json's, as `npx cdk synth` gives it).
    env: { ...process.env, CDK_OUTDIR: pyOutdir, CDK_CONTEXT_JSON: JSON.stringify(CDK_CONTEXT), PYTHONDONTWRITEBYTECODE: '1' },
    maxBuffer: 64 * 1024 * 1024,
  }));
  ts = synthesizeExampleApp();
}, 15 * 60_000);

afterAll(() => {
  process.stderr.write(`python app: ${timings.join(', ')}\n`);
  ts?.cleanup();
  if (pyOutdir) fs.rmSync(pyOutdir, { recursive: true, force: true });
});

function template(outdir: string, stack: string): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(outdir, `${stack}.template.json`), 'utf-8'));
}

test('the Python app synthesizes the four example stacks', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(pyOutdir, 'manifest.json'), 'utf-8'));
  const stacks = Object.entries(manifest.artifacts).filter(([, a]: [string, any]) => a.type === 'aws:cloudformation:stack').map(([id]) => id);
  expect(stacks).toEqual(STACKS);
  expect(ts.stacks.map((s) => s.stackName)).toEqual(STACKS);
});

describe.each(STACKS)('%s', (stack) => {
  test('has the same resources, with the same logical IDs and properties, as the TypeScript app', () => {
    const py = template(pyOutdir, stack);
    const expected = template(ts.outdir, stack);
    expect(Object.keys(py.Resources).sort()).toEqual(Object.keys(expected.Resources).sort());
    for (const [logicalId, resource] of Object.entries(expected.Resources)) {
      // One assertion per resource, so a difference names the resource.
      expect({ [logicalId]: py.Resources[logicalId] }).toEqual({ [logicalId]: resource });
    }
  });

  test('has the same parameters, conditions, rules and outputs', () => {
    const { Resources: _py, ...pyRest } = template(pyOutdir, stack);
    const { Resources: _ts, ...tsRest } = template(ts.outdir, stack);
    expect(pyRest).toEqual(tsRest);
  });
});

test('the wheel ships the controller bundle and synthesis finds it', () => {
  // The Lambda code asset of the Python app is the bundle the package built, byte for byte.
  const assets = JSON.parse(fs.readFileSync(path.join(pyOutdir, 'CanaryStack.assets.json'), 'utf-8'));
  const dirs = Object.values(assets.files).map((f: any) => f.source.path as string).filter((p) => p.startsWith('asset.'));
  const bundled = fs.readFileSync(path.join(PROJECT_ROOT, 'assets', 'rollout-controller', 'index.js'));
  expect(dirs.some((dir) => {
    const file = path.join(pyOutdir, dir, 'index.js');
    return fs.existsSync(file) && fs.readFileSync(file).equals(bundled);
  })).toBe(true);
});

test('the operator CLI runs from the Python package (jsii runs it on Node.js)', async () => {
  const { stdout } = await run(path.join(venvBin, 'cdk-sagemaker-rollout'), ['--help'], { env: process.env });
  expect(stdout).toContain('Usage: npx cdk-sagemaker-rollout <command> [options]');
}, 120_000);

test('every Python example of the README synthesizes', async () => {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf-8');
  const blocks = [...readme.matchAll(/^```python\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-readme-python-'));
  try {
    const stacks = await Promise.all(blocks.map(async (code, i) => {
      const file = path.join(work, `block${i + 1}.py`);
      const outdir = path.join(work, `out${i + 1}`);
      fs.writeFileSync(file, code);
      await run(path.join(venvBin, 'python'), [file], { cwd: work, env: { ...process.env, CDK_OUTDIR: outdir, PYTHONDONTWRITEBYTECODE: '1' }, maxBuffer: 64 * 1024 * 1024 });
      const template = JSON.parse(fs.readFileSync(path.join(outdir, 'Recommender.template.json'), 'utf-8'));
      return Object.values(template.Resources as Record<string, { Type: string }>).filter((r) => r.Type === 'AWS::SageMaker::Endpoint').length;
    }));
    expect(stacks).toEqual(blocks.map(() => 1));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}, 10 * 60_000);
