/**
 * Snapshots of the integration cases, in the layout `@aws-cdk/integ-runner` uses
 * (`test/integ/<case file>.snapshot/`: the templates, `integ.json` and `manifest.json`), and the
 * offline check that compares a fresh synth with them.
 *
 * Why not integ-runner itself: the newest @aws-cdk/integ-runner on npm (2.197.10) bundles a toolkit
 * that reads cloud-assembly schema 53 at most, and aws-cdk-lib 2.276 writes schema 55, so it stops
 * with "AssemblyVersionMismatch" before comparing anything. The layout stays integ-runner's, so
 * `integ-runner --directory test/integ` (without --update-on-failed: compare only) can take over
 * as soon as a release reads schema 55.
 *
 * Like integ-runner's default (`diffAssets: false`), asset hashes are blanked before comparing:
 * a change to a handler's code is not a template change.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The folder of the integration cases. */
export const INTEG_DIR = path.resolve(__dirname, '..');

/** `integ.<name>.ts` files in a folder, sorted. */
export function caseFiles(dir = INTEG_DIR): string[] {
  return fs.readdirSync(dir).filter((f) => /^integ\..+(?<!\.d)\.ts$/.test(f)).sort().map((f) => path.join(dir, f));
}

/** The snapshot folder of a case file. */
export function snapshotDirOf(caseFile: string): string {
  return `${caseFile}.snapshot`;
}

/** Synthesizes the cases into `<outRoot>/<case file name>/`, all in one process. */
export function synthCases(files: string[], outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-synth-'))): string {
  const root = path.resolve(__dirname, '..', '..', '..');
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'synth-all.ts'), outRoot, ...files], {
    cwd: root, encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.dev.json') },
  });
  if (result.status !== 0) {
    throw new Error(`synthesizing ${files.map((f) => path.basename(f)).join(', ')} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return outRoot;
}

/** The files a snapshot keeps: every template, the integ manifest and the assembly manifest. */
function snapshotFiles(assemblyDir: string): string[] {
  return fs.readdirSync(assemblyDir).filter((f) => f.endsWith('.template.json') || f === 'integ.json' || f === 'manifest.json').sort();
}

/**
 * Blanks what changes without a template change: asset hashes (64 hex digits, they follow handler
 * code) and the `salt` integ-tests-alpha stamps on every assertion with the synth time (so that
 * assertions run again on each deployment).
 */
export function normalize(text: string): unknown {
  return JSON.parse(text.replace(/[0-9a-f]{64}/g, '<asset-hash>').replace(/"salt": ?"\d+"/g, '"salt": "<synth-time>"'));
}

/** One difference between a snapshot and a fresh synth. */
export interface SnapshotDifference {
  readonly file: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** For a changed file: the first JSON path that differs. */
  readonly at?: string;
}

/** Compares a case's snapshot folder with a fresh cloud assembly; empty when they match. */
export function compareSnapshot(snapshotDir: string, assemblyDir: string): SnapshotDifference[] {
  const expected = fs.existsSync(snapshotDir) ? snapshotFiles(snapshotDir) : [];
  const actual = snapshotFiles(assemblyDir);
  const differences: SnapshotDifference[] = [];
  for (const file of expected.filter((f) => !actual.includes(f))) differences.push({ file, change: 'removed' });
  for (const file of actual.filter((f) => !expected.includes(f))) differences.push({ file, change: 'added' });
  for (const file of actual.filter((f) => expected.includes(f) && f !== 'manifest.json')) {
    const at = firstDifference(
      normalize(fs.readFileSync(path.join(snapshotDir, file), 'utf8')),
      normalize(fs.readFileSync(path.join(assemblyDir, file), 'utf8')),
      '$',
    );
    if (at) differences.push({ file, change: 'changed', at });
  }
  return differences;
}

/** Replaces a case's snapshot with the files of a fresh cloud assembly. */
export function writeSnapshot(snapshotDir: string, assemblyDir: string): void {
  fs.rmSync(snapshotDir, { recursive: true, force: true });
  fs.mkdirSync(snapshotDir, { recursive: true });
  for (const file of snapshotFiles(assemblyDir)) {
    fs.copyFileSync(path.join(assemblyDir, file), path.join(snapshotDir, file));
  }
}

function firstDifference(a: unknown, b: unknown, at: string): string | undefined {
  if (a === b) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return at;
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  for (const key of [...keys].sort()) {
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
    if (found) return found;
  }
  return undefined;
}
