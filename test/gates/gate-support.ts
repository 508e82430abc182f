/**
 * Shared by the template gates (cfn-lint, checkov, cdk-nag): synthesizes the example app exactly as
 * `npx cdk synth` does (cdk.json's context, so CDK's built-in validator runs in strict mode), and
 * runs the Python tools from their venvs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildExampleApp, PLACEHOLDER_INPUTS } from '../../bin/example-app';
import { ContainerImage, Model, ModelData, ModelEndpoint } from '../../lib';
import { PROJECT_ROOT } from '../support/python-tools';

/** The context of cdk.json: the gates see the same app as `npx cdk synth`. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf-8')).context;

/** Committed fixtures of the "proves it can fail" tests. */
export const FIXTURES_DIR = path.join(__dirname, 'fixtures');

/** The example app, synthesized into a temporary directory. */
export interface SynthesizedExampleApp {
  readonly app: App;
  /** What `buildExampleApp` returned: every stack the gates must cover. */
  readonly stacks: Stack[];
  /** The cloud assembly directory. */
  readonly outdir: string;
  /** Absolute paths of every stack's `*.template.json`, in the order of `stacks`. */
  readonly templates: string[];
  /** Deletes the assembly directory. */
  cleanup(): void;
}

/**
 * Synthesizes the example app once. Every stack `buildExampleApp` returns must come out as a
 * template: a stack the gates did not see would pass unchecked.
 */
export function synthesizeExampleApp(): SynthesizedExampleApp {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-gates-'));
  const app = new App({ context: CDK_CONTEXT, outdir });
  const stacks = buildExampleApp(app);
  const assembly = app.synth();
  const templates = stacks.map((stack) => {
    const artifact = assembly.getStackArtifact(stack.artifactId);
    return artifact.templateFullPath;
  });
  const synthesized = assembly.stacksRecursively.map((s) => s.templateFullPath).sort();
  if (stacks.length === 0 || JSON.stringify([...templates].sort()) !== JSON.stringify(synthesized)) {
    throw new Error(`the example app's stacks (${stacks.map((s) => s.stackName).join(', ')}) and the synthesized templates (${synthesized.join(', ')}) differ`);
  }
  return {
    app,
    stacks,
    outdir,
    templates,
    cleanup: () => fs.rmSync(outdir, { recursive: true, force: true }),
  };
}

/**
 * A stack where the user adds a wildcard of their own to a model's role (`Model.role`): the
 * scanners must report it, although the library's own grants to that role are acknowledged.
 */
export function userWildcardStack(outdir?: string): { app: App; stack: Stack; template?: string } {
  const app = new App({ context: CDK_CONTEXT, outdir });
  const stack = new Stack(app, 'UserWildcard');
  const model = new Model(stack, 'Recommender', {
    image: ContainerImage.fromImageUri(PLACEHOLDER_INPUTS.image),
    modelData: ModelData.fromS3Url(PLACEHOLDER_INPUTS.modelData),
    networkIsolation: true,
  });
  model.role!.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
  new ModelEndpoint(stack, 'Endpoint', { production: { model } });
  if (!outdir) return { app, stack };
  const template = app.synth().getStackArtifact(stack.artifactId).templateFullPath;
  return { app, stack, template };
}

/** What a finished process printed and how it ended. */
export interface ToolRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/**
 * Runs a tool to completion and returns its output whatever its exit code: linters exit non-zero
 * when they find something, and the tests read the findings from the output. Rejects only when the
 * tool cannot be started.
 */
export function runTool(executable: string, args: string[], options: { cwd?: string } = {}): Promise<ToolRun> {
  if (!fs.existsSync(executable)) {
    return Promise.reject(new Error(`${executable} is missing: jest's globalSetup installs it (test/support/python-tools.ts); delete .venvs/ to rebuild`));
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, {
      cwd: options.cwd ?? PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

/** The findings (of any tool) that point into one of the files; the tools report other paths for the fixtures. */
export function inFiles<T>(findings: readonly T[] | undefined, files: string[], fileOf: (finding: T) => string): T[] {
  const wanted = new Set(files.map((f) => path.resolve(f)));
  return (findings ?? []).filter((f) => wanted.has(path.resolve(fileOf(f))));
}

/** A template path as the logs show it: relative to the directory it was synthesized or written to. */
export function shortName(file: string): string {
  return path.basename(file);
}

/**
 * The entries of a YAML list under `key` in a committed tool config, each with the comment that
 * gives its reason (`- ID  # reason`, or the comment lines right above the entry). Used to enforce
 * "every switched-off rule has a written reason".
 */
export function listEntriesWithReasons(file: string, key: string): Array<{ id: string; reason: string }> {
  const lines = fs.readFileSync(file, 'utf-8').split('\n');
  const start = lines.findIndex((line) => new RegExp(`^${key}:`).test(line));
  if (start === -1) return [];
  const entries: Array<{ id: string; reason: string }> = [];
  let pendingComment: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // the next top-level key
    const comment = /^\s*#\s?(.*)$/.exec(line);
    if (comment) {
      pendingComment.push(comment[1].trim());
      continue;
    }
    const entry = /^\s*-\s*['"]?([\w.-]+)['"]?\s*(?:#\s*(.*))?$/.exec(line);
    if (entry) {
      entries.push({ id: entry[1], reason: [...pendingComment, entry[2] ?? ''].join(' ').trim() });
    }
    pendingComment = [];
  }
  return entries;
}
