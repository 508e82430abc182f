/**
 * Gate: cfn-lint over every stack of the example app. Zero errors and zero warnings; the only
 * exceptions are rules switched off in .cfnlintrc.yaml, each with its reason.
 *
 * cfn-lint runs once, over the example app's templates and the broken fixture together; the
 * findings are told apart by file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT, VENVS_DIR, venvExecutable } from '../support/python-tools';
import { FIXTURES_DIR, inFiles, listEntriesWithReasons, runTool, shortName, synthesizeExampleApp, SynthesizedExampleApp, ToolRun } from './gate-support';

const CFN_LINT = venvExecutable('cfn-lint', 'cfn-lint');
const CONFIG_FILE = path.join(PROJECT_ROOT, '.cfnlintrc.yaml');
const BROKEN_FIXTURE = path.join(FIXTURES_DIR, 'broken-cfn-lint.template.json');

/** One finding of `cfn-lint --format json`. */
interface CfnLintFinding {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Location: { readonly Start: { readonly LineNumber: number } };
  readonly Rule: { readonly Id: string };
}

/** Runs cfn-lint once over the templates, with the committed config; returns its findings. */
async function lint(templates: string[]): Promise<{ run: ToolRun; findings: CfnLintFinding[] }> {
  const run = await runTool(CFN_LINT, ['--config-file', CONFIG_FILE, '--format', 'json', '--', ...templates]);
  let findings: CfnLintFinding[];
  try {
    findings = JSON.parse(run.stdout);
  } catch {
    // cfn-lint did not get to linting (bad config, crash): its own words say why.
    throw new Error(`cfn-lint exited with ${run.exitCode} without a JSON report:\n${run.stdout}\n${run.stderr}`);
  }
  return { run, findings };
}

/** The installed cfn-lint's version, from its package metadata (cheaper than starting it with --version). */
function cfnLintVersion(): string {
  const libDir = path.join(VENVS_DIR, 'cfn-lint', 'lib');
  for (const python of fs.existsSync(libDir) ? fs.readdirSync(libDir) : []) {
    const sitePackages = path.join(libDir, python, 'site-packages');
    const distInfo = fs.existsSync(sitePackages) ? fs.readdirSync(sitePackages).find((d) => /^cfn_lint-.*\.dist-info$/.test(d)) : undefined;
    if (distInfo) return distInfo.replace(/^cfn_lint-(.*)\.dist-info$/, '$1');
  }
  return 'unknown';
}

/** Where cfn-lint found it. */
const fileOf = (f: CfnLintFinding): string => f.Filename;

/** A finding as cfn-lint prints it in its default format. */
function formatFinding(f: CfnLintFinding): string {
  return `${f.Rule.Id} ${f.Message}\n  ${shortName(f.Filename)}:${f.Location.Start.LineNumber}`;
}

describe('cfn-lint (1.58, from .venvs/cfn-lint) over every stack of the example app', () => {
  let example: SynthesizedExampleApp;
  let result: { run: ToolRun; findings: CfnLintFinding[] };

  beforeAll(async () => {
    example = synthesizeExampleApp();
    result = await lint([...example.templates, BROKEN_FIXTURE]);
  }, 120_000);

  afterAll(() => example?.cleanup());

  test('zero errors and zero warnings', () => {
    const { run } = result;
    const findings = inFiles(result.findings, example.templates, fileOf);
    const errors = findings.filter((f) => f.Level === 'Error');
    const warnings = findings.filter((f) => f.Level === 'Warning');
    const switchedOff = listEntriesWithReasons(CONFIG_FILE, 'ignore_checks').map((e) => e.id);
    // The CI log shows that the gate ran, over what, and what it found.
    console.log([
      `cfn-lint ${cfnLintVersion()}: ${example.templates.length} templates (${example.stacks.map((s) => s.stackName).join(', ')}), `
        + `${errors.length} errors, ${warnings.length} warnings, ${findings.length - errors.length - warnings.length} informational `
        + `(one run with the broken fixture, ${run.seconds.toFixed(1)} s); switched off in .cfnlintrc.yaml: ${switchedOff.join(', ') || 'none'}`,
      ...findings.map(formatFinding),
    ].join('\n'));

    expect(result.findings.length).toBeGreaterThan(0); // the fixture's, at least: proof that the run linted something
    expect(findings.filter((f) => f.Level !== 'Informational').map(formatFinding)).toEqual([]);
  });

  test('every rule switched off in .cfnlintrc.yaml has a reason', () => {
    const entries = listEntriesWithReasons(CONFIG_FILE, 'ignore_checks');
    for (const entry of entries) {
      expect({ id: entry.id, reasonGiven: entry.reason.length >= 20 }).toEqual({ id: entry.id, reasonGiven: true });
    }
  });

  test('rejects a broken template (proof that the gate can fail)', () => {
    const { run } = result;
    const findings = inFiles(result.findings, [BROKEN_FIXTURE], fileOf);
    const ids = findings.map((f) => f.Rule.Id);
    // A misspelt property, a string where a number belongs, and a GetAtt of a resource that does not exist.
    expect(ids).toEqual(expect.arrayContaining(['E3002', 'E3012', 'E1010']));
    expect(findings.find((f) => f.Rule.Id === 'E3002')?.Message).toMatch(/'InstanceTyp' was unexpected/);
    // Exit code with bit 2 set: errors were found.
    expect(run.exitCode! & 2).toBe(2);
  });
});
