#!/usr/bin/env node
// Shows the changes of the public API (the jsii assembly, `.jsii`) against a baseline, and fails on
// a breaking one, in any language jsii targets: `npm run build && npm run api-diff [-- <baseline>]`.
//
// <baseline> is one of:
//   - a git ref (branch, tag, commit): the ref is checked out into a temporary worktree and compiled
//     with jsii, using this checkout's node_modules; the assembly is cached per commit in
//     node_modules/.cache/api-diff/. Default: `main`.
//   - a `.jsii` file, or a directory holding a built jsii package;
//   - `npm:cdk-sagemaker-rollout@<version>`: a published version (none yet; use this from the
//     first release on).
// Every API is experimental while the package is 0.x, so every breaking change is an error here
// (`--error-on all`); jsii-diff's other options can follow the baseline.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const baseline = args[0] && !args[0].startsWith('-') ? args.shift() : 'main';

function bin(name) {
  return path.join(root, 'node_modules', '.bin', name);
}

function git(...gitArgs) {
  return execFileSync('git', gitArgs, { cwd: root, encoding: 'utf-8' }).trim();
}

/**
 * A package directory around an assembly, as jsii-diff loads it: the `.jsii`, a package.json, and
 * our node_modules, where it finds the assemblies of aws-cdk-lib and constructs.
 */
function packageAround(assemblyFile, dir) {
  fs.mkdirSync(dir, { recursive: true });
  if (path.resolve(assemblyFile) !== path.join(dir, '.jsii')) fs.copyFileSync(assemblyFile, path.join(dir, '.jsii'));
  const assembly = JSON.parse(fs.readFileSync(path.join(dir, '.jsii'), 'utf-8'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: assembly.name, version: assembly.version, peerDependencies: assembly.dependencies, jsii: {} }));
  if (!fs.existsSync(path.join(dir, 'node_modules'))) fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** The assembly of a git ref, compiled once per commit. */
function assemblyOfRef(ref) {
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const cacheDir = path.join(root, 'node_modules', '.cache', 'api-diff');
  const cached = path.join(cacheDir, commit);
  if (fs.existsSync(path.join(cached, '.jsii'))) return cached;
  const manifest = JSON.parse(git('show', `${commit}:package.json`));
  if (!manifest.jsii) {
    throw new Error(`${ref} (${commit.slice(0, 12)}) is not built with jsii (no "jsii" in its package.json): choose a later baseline`);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'api-diff-'));
  const tree = path.join(work, 'tree');
  git('worktree', 'add', '--detach', tree, commit);
  try {
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'));
    process.stderr.write(`api-diff: compiling ${ref} (${commit.slice(0, 12)}) with jsii ...\n`);
    execFileSync(bin('jsii'), [], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
    packageAround(path.join(tree, '.jsii'), cached);
  } finally {
    git('worktree', 'remove', '--force', tree);
    fs.rmSync(work, { recursive: true, force: true });
  }
  return cached;
}

function resolveBaseline(spec) {
  if (spec.startsWith('npm:')) return spec;
  const local = path.resolve(spec);
  if (fs.existsSync(local) && fs.statSync(local).isDirectory()) return local;
  if (fs.existsSync(local)) return packageAround(local, fs.mkdtempSync(path.join(os.tmpdir(), 'api-diff-baseline-')));
  return assemblyOfRef(spec);
}

try {
  if (!fs.existsSync(path.join(root, '.jsii'))) throw new Error('no .jsii in the project: run "npm run build" first');
  const original = resolveBaseline(baseline);
  process.stderr.write(`api-diff: ${baseline} -> working tree\n`);
  execFileSync(bin('jsii-diff'), ['--error-on', 'all', '--keys', ...args, original, root], { stdio: 'inherit' });
} catch (error) {
  if (error.status !== undefined) process.exit(error.status);
  process.stderr.write(`api-diff: ${error.message}\n`);
  process.exit(1);
}
