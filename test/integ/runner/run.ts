/**
 * `npm run integ`: runs the integration cases of test/integ/ against a real AWS account.
 *
 *   npm run integ                          every case: synth, deploy, assert, tear down, clean up
 *   npm run integ -- integ.shadow.ts       only these cases
 *   npm run integ -- --snapshot-only       compare fresh synths with the committed snapshots (no AWS)
 *   npm run integ -- --update-snapshots    rewrite the snapshots (no AWS)
 *   options: --concurrency N (cases at once, default 2), --keep (no teardown, to inspect)
 *
 * It follows the test cases that @aws-cdk/integ-tests-alpha writes into each assembly's
 * integ.json, the way @aws-cdk/integ-runner does (which cannot read aws-cdk-lib 2.276's assemblies
 * yet; see snapshots.ts): per test case, in order, `cdk deploy` its stacks (an expected error is
 * accepted), then its assertion stack without rollback, reading the `AssertionResults*` outputs;
 * then `cdk destroy --all` unless the case disables it. Deploys use this repository's aws-cdk CLI
 * from the synthesized assembly, so what is deployed is exactly what the snapshot check compared.
 * After the run it prints the probes' settled answers, deletes their log groups and runs the
 * library's `cleanup --delete` for the endpoint configs and models the stacks retained.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CloudWatchLogsClient, DeleteLogGroupCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { caseFiles, compareSnapshot, INTEG_DIR, snapshotDirOf, synthCases, writeSnapshot } from './snapshots';

const ROOT = path.resolve(INTEG_DIR, '..', '..');
const CDK = path.join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const CLI = path.join(ROOT, 'dist', 'bin', 'cdk-sagemaker-rollout.js');

interface TestCase {
  readonly stacks: string[];
  readonly assertionStack?: string;
  readonly assertionStackName?: string;
  readonly cdkCommandOptions?: { deploy?: { enabled?: boolean; expectError?: boolean }; destroy?: { enabled?: boolean } };
}

interface CaseResult { readonly file: string; readonly ok: boolean; readonly lines: string[]; readonly seconds: number }

function parseArgs(argv: string[]) {
  const flags = new Set(argv.filter((a) => a.startsWith('--') && !a.startsWith('--concurrency')));
  const concurrencyArg = argv.find((a) => a.startsWith('--concurrency'));
  const concurrency = concurrencyArg ? Number(concurrencyArg.split('=')[1] ?? argv[argv.indexOf(concurrencyArg) + 1]) : 2;
  const names = argv.filter((a) => a.startsWith('integ.'));
  const all = caseFiles();
  const files = names.length ? names.map((n) => path.join(INTEG_DIR, n)) : all;
  for (const f of files) if (!all.includes(f)) throw new Error(`no integration case ${path.basename(f)} in ${INTEG_DIR}`);
  return { files, concurrency, snapshotOnly: flags.has('--snapshot-only'), update: flags.has('--update-snapshots'), keep: flags.has('--keep') };
}

function cdk(args: string[], log: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CDK, ...args, '--require-approval', 'never', '--ci'], { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('close', (code) => {
      log.push(`$ cdk ${args.join(' ')} -> exit ${code}`);
      resolve({ code: code ?? 1, output });
    });
  });
}

async function runCase(file: string, assemblyDir: string, keep: boolean): Promise<CaseResult> {
  const started = Date.now();
  const name = path.basename(file);
  const lines: string[] = [];
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'integ.json'), 'utf8')) as { testCases: Record<string, TestCase> };
  let ok = true;
  const app = ['--app', assemblyDir];
  for (const [caseName, testCase] of Object.entries(manifest.testCases)) {
    if (testCase.stacks.length === 0) continue; // integ-tests-alpha's empty DefaultTest of files made of IntegTestCaseStacks
    try {
      if (testCase.cdkCommandOptions?.deploy?.enabled !== false) {
        const deployed = await cdk(['deploy', ...app, ...testCase.stacks], lines);
        if (deployed.code !== 0 && !testCase.cdkCommandOptions?.deploy?.expectError) {
          ok = false;
          lines.push(`${caseName}: deploy failed\n${tail(deployed.output)}`);
          break;
        }
        lines.push(`${caseName}: deployed${deployed.code !== 0 ? ' (failed, as expected)' : ''}`);
        if (testCase.assertionStack) {
          const outputsFile = path.join(assemblyDir, `${testCase.assertionStackName}.outputs.json`);
          const asserted = await cdk(['deploy', ...app, testCase.assertionStack, '--no-rollback', '--outputs-file', outputsFile], lines);
          const results = readAssertionResults(outputsFile, testCase.assertionStackName!);
          for (const [id, result] of Object.entries(results)) {
            lines.push(`${caseName}: ${id} ${result.status}${result.message ? `: ${result.message}` : ''}`);
            if (result.status !== 'success') ok = false;
          }
          if (asserted.code !== 0) {
            ok = false;
            lines.push(`${caseName}: assertion stack failed\n${tail(asserted.output)}`);
          }
        }
      }
    } finally {
      if (!keep && testCase.cdkCommandOptions?.destroy?.enabled !== false) {
        const destroyed = await cdk(['destroy', ...app, '--all', '--force'], lines);
        if (destroyed.code !== 0) { ok = false; lines.push(`${caseName}: destroy failed\n${tail(destroyed.output)}`); }
      }
    }
    if (!ok) break;
  }
  if (!ok && !keep) await cdk(['destroy', ...app, '--all', '--force'], lines); // never leave a failed case's stacks behind
  return { file: name, ok, lines, seconds: Math.round((Date.now() - started) / 1000) };
}

function readAssertionResults(outputsFile: string, stackName: string): Record<string, { status: string; message?: string }> {
  if (!fs.existsSync(outputsFile)) return {};
  const outputs = JSON.parse(fs.readFileSync(outputsFile, 'utf8'))[stackName] ?? {};
  const results: Record<string, { status: string; message?: string }> = {};
  for (const [id, value] of Object.entries<string>(outputs)) {
    if (id.startsWith('AssertionResults')) results[id] = JSON.parse(value.replace(/\n/g, '\\n'));
  }
  return results;
}

/** Probe functions are named `integ-rollout-...-probe` (see support/kit.ts); their names are in the templates. */
function probeFunctionNames(assemblyDir: string): string[] {
  const names = new Set<string>();
  for (const f of fs.readdirSync(assemblyDir).filter((x) => x.endsWith('.template.json'))) {
    const resources = JSON.parse(fs.readFileSync(path.join(assemblyDir, f), 'utf8')).Resources ?? {};
    for (const r of Object.values<any>(resources)) {
      const fn = r.Properties?.FunctionName;
      if (r.Type === 'AWS::Lambda::Function' && typeof fn === 'string' && /^integ-rollout-.*-probe$/.test(fn)) names.add(fn);
    }
  }
  return [...names];
}

async function settledAnswers(functionNames: string[], since: number): Promise<string[]> {
  const logs = new CloudWatchLogsClient({});
  const out: string[] = [];
  for (const name of functionNames) {
    const logGroupName = `/aws/lambda/${name}`;
    try {
      let nextToken: string | undefined;
      do {
        const page = await logs.send(new FilterLogEventsCommand({ logGroupName, startTime: since, filterPattern: '"SETTLED"', nextToken }));
        for (const e of page.events ?? []) out.push(`${name}: ${e.message!.slice(e.message!.indexOf('SETTLED ') + 8).trim()}`);
        nextToken = page.nextToken;
      } while (nextToken);
      // Lambda creates these groups itself, outside the stacks: delete them once read.
      await logs.send(new DeleteLogGroupCommand({ logGroupName }));
    } catch (error) {
      out.push(`${name}: no settled answer read (${(error as Error).name})`);
    }
  }
  return out;
}

function tail(text: string, lines = 25): string {
  return text.trim().split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const outRoot = synthCases(options.files);
  let changed = 0;
  for (const file of options.files) {
    const assemblyDir = path.join(outRoot, path.basename(file));
    const differences = compareSnapshot(snapshotDirOf(file), assemblyDir);
    // Only changed cases are rewritten: a rewrite always changes the assertions' salts.
    if (options.update) { if (differences.length) writeSnapshot(snapshotDirOf(file), assemblyDir); }
    changed += differences.length > 0 ? 1 : 0;
    console.log(`  ${differences.length ? 'CHANGED  ' : 'UNCHANGED'} ${path.basename(file)}`);
    for (const d of differences) console.log(`      ${d.change} ${d.file}${d.at ? ` at ${d.at}` : ''}`);
  }
  if (options.update || options.snapshotOnly) {
    fs.rmSync(outRoot, { recursive: true, force: true });
    if (options.update) console.log(`snapshots rewritten for ${changed} of ${options.files.length} cases`);
    return options.snapshotOnly && changed ? 1 : 0;
  }
  if (changed) console.log('snapshots differ: deploying the fresh synth; run with --update-snapshots after a passing run');

  const since = Date.now();
  const results: CaseResult[] = [];
  const queue = [...options.files];
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      console.log(`  RUNNING  ${path.basename(file)}`);
      const result = await runCase(file, path.join(outRoot, path.basename(file)), options.keep);
      console.log(`  ${result.ok ? 'SUCCESS' : 'FAILED '}  ${result.file} ${result.seconds}s\n${result.lines.map((l) => `      ${l}`).join('\n')}`);
      results.push(result);
    }
  }));

  console.log('\nSettled answers:');
  const probes = options.files.flatMap((f) => probeFunctionNames(path.join(outRoot, path.basename(f))));
  for (const line of await settledAnswers(probes, since)) console.log(`  ${line}`);
  if (!options.keep) {
    console.log('\nRetained endpoint configs and models:');
    const cleanup = spawn(process.execPath, [CLI, 'cleanup', '--delete', '--min-age', '1m'], { cwd: ROOT, stdio: 'inherit' });
    await new Promise((resolve) => cleanup.on('close', resolve));
  }
  const failed = results.filter((r) => !r.ok);
  console.log(`\nTests: ${results.length - failed.length} passed, ${failed.length} failed, ${results.length} total`);
  return failed.length ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => { console.error(error); process.exit(1); });
