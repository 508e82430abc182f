/**
 * Gate: checkov over every stack of the example app. Zero failed checks; the only exceptions are
 * checks skipped in .checkov.yaml (wrong for CDK output in general, each with its reason) and checks
 * a resource skips in its own `Metadata: checkov: skip` (each with its comment).
 *
 * checkov takes seconds just to start, so it runs once, over the example app's templates and the
 * broken fixture together; the results are told apart by file.
 */
import * as path from 'node:path';
import { PROJECT_ROOT, venvExecutable } from '../support/python-tools';
import { FIXTURES_DIR, inFiles, listEntriesWithReasons, runTool, shortName, synthesizeExampleApp, SynthesizedExampleApp, ToolRun, userWildcardStack } from './gate-support';

const CHECKOV = venvExecutable('checkov', 'checkov');
const CONFIG_FILE = path.join(PROJECT_ROOT, '.checkov.yaml');
const BROKEN_FIXTURE = path.join(FIXTURES_DIR, 'broken-checkov.template.json');

/** One check result of `checkov -o json`. */
interface CheckovResult {
  readonly check_id: string;
  readonly check_name: string;
  readonly file_abs_path: string;
  readonly file_line_range: [number, number];
  readonly resource: string;
  readonly check_result: { readonly result: 'PASSED' | 'FAILED' | 'SKIPPED'; readonly suppress_comment?: string };
}

/** The cloudformation part of `checkov -o json`. */
interface CheckovReport {
  readonly check_type: string;
  readonly results: {
    readonly passed_checks?: CheckovResult[];
    readonly failed_checks?: CheckovResult[];
    readonly skipped_checks?: CheckovResult[];
    readonly parsing_errors?: string[];
  };
  readonly summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count: number; checkov_version: string };
}

async function scan(files: string[]): Promise<{ run: ToolRun; report: CheckovReport }> {
  const args = [
    '--config-file', CONFIG_FILE,
    // Also in .checkov.yaml; repeated so that the gate stays offline and on CloudFormation whatever the config says.
    '--framework', 'cloudformation', '--skip-download',
    // No --quiet: with JSON output it drops the passed and skipped checks, and the gate prints every
    // skip with its reason. --compact leaves out the code blocks.
    '--compact', '--output', 'json',
    ...files.flatMap((file) => ['--file', file]),
  ];
  const run = await runTool(CHECKOV, args);
  let parsed: CheckovReport | CheckovReport[];
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    throw new Error(`checkov exited with ${run.exitCode} without a JSON report:\n${run.stdout.slice(-5000)}\n${run.stderr.slice(-5000)}`);
  }
  // One framework gives one report; several (or none) give a list.
  const report = (Array.isArray(parsed) ? parsed : [parsed]).find((r) => r.check_type === 'cloudformation');
  if (!report) {
    throw new Error(`checkov found nothing to scan as CloudFormation in ${files.join(', ')}:\n${run.stdout.slice(0, 2000)}\n${run.stderr.slice(-2000)}`);
  }
  return { run, report };
}

/** Where checkov found it. */
const fileOf = (r: CheckovResult): string => r.file_abs_path;

function formatResult(r: CheckovResult): string {
  return `${r.check_id} ${r.check_name}\n  ${r.check_result.result} for ${r.resource} (${shortName(r.file_abs_path)}:${r.file_line_range.join('-')})`;
}

/** Skipped checks, one line per check and reason, with the resources they apply to. */
function formatSkipped(results: CheckovResult[]): string[] {
  const groups = new Map<string, CheckovResult[]>();
  for (const r of results) {
    const key = `${r.check_id}\u0000${r.check_result.suppress_comment ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => {
    const r = group[0];
    const where = group.map((g) => `${shortName(g.file_abs_path).replace(/\.template\.json$/, '')}/${g.resource.split('.').pop()}`);
    return `${r.check_id} skipped on ${where.join(', ')}\n  reason: ${r.check_result.suppress_comment ?? '(none)'}`;
  });
}

describe('checkov (3.3, from .venvs/checkov) over every stack of the example app', () => {
  let example: SynthesizedExampleApp;
  let result: { run: ToolRun; report: CheckovReport };

  let userWildcard: string;

  beforeAll(async () => {
    example = synthesizeExampleApp();
    userWildcard = userWildcardStack(path.join(example.outdir, 'user-wildcard')).template!;
    result = await scan([...example.templates, BROKEN_FIXTURE, userWildcard]);
  }, 180_000);

  afterAll(() => example?.cleanup());

  test('reports a wildcard the user adds to Model.role, and nothing of the library\'s grants to that role', () => {
    const failed = inFiles(result.report.results.failed_checks, [userWildcard], fileOf);
    const onRole = failed.filter((r) => r.resource.startsWith('AWS::IAM::'));
    expect(onRole.map((r) => r.resource)).toEqual(expect.arrayContaining([expect.stringMatching(/^AWS::IAM::Policy\.SageMakerModelExecutionRoleDefaultPolicy/)]));
    expect(onRole.filter((r) => r.resource.includes('SageMakerRolloutGrants'))).toEqual([]);
  });

  test('zero failed checks', () => {
    const { run, report } = result;
    const templates = example.templates;
    const passed = inFiles(report.results.passed_checks, templates, fileOf);
    const failed = inFiles(report.results.failed_checks, templates, fileOf);
    const skipped = inFiles(report.results.skipped_checks, templates, fileOf);
    const skippedInConfig = listEntriesWithReasons(CONFIG_FILE, 'skip-check').map((e) => e.id);
    console.log([
      `checkov ${report.summary.checkov_version}: ${templates.length} templates (${example.stacks.map((s) => s.stackName).join(', ')}), `
        + `${passed.length} passed, ${failed.length} failed, ${skipped.length} skipped by resource metadata `
        + `(one run with the broken fixture, ${run.seconds.toFixed(1)} s); skipped in .checkov.yaml: ${skippedInConfig.join(', ') || 'none'}`,
      ...failed.map(formatResult),
      ...formatSkipped(skipped),
    ].join('\n'));

    expect(report.results.parsing_errors ?? []).toEqual([]);
    // Every template was scanned: a template checkov did not recognise would pass with no results at all.
    for (const template of templates) {
      expect({ template: shortName(template), checked: inFiles([...passed, ...failed, ...skipped], [template], fileOf).length > 0 })
        .toEqual({ template: shortName(template), checked: true });
    }
    expect(failed.map(formatResult)).toEqual([]);
  });

  test('every skip has a written reason', () => {
    const templates = example.templates;
    // Skips a resource declares in its metadata: checkov fills in "No comment provided" when there is none.
    for (const r of inFiles(result.report.results.skipped_checks, templates, fileOf)) {
      const reason = r.check_result.suppress_comment ?? '';
      expect({ check: `${r.check_id} on ${r.resource}`, reasonGiven: reason !== 'No comment provided' && reason.length >= 20 })
        .toEqual({ check: `${r.check_id} on ${r.resource}`, reasonGiven: true });
    }
    for (const entry of listEntriesWithReasons(CONFIG_FILE, 'skip-check')) {
      expect({ id: entry.id, reasonGiven: entry.reason.length >= 20 }).toEqual({ id: entry.id, reasonGiven: true });
    }
  });

  test('flags a broken template (proof that the gate can fail)', () => {
    const failed = inFiles(result.report.results.failed_checks, [BROKEN_FIXTURE], fileOf);
    // A SageMaker model without network isolation, a log group without KMS encryption.
    expect(failed.map((r) => `${r.check_id} ${r.resource}`)).toEqual(expect.arrayContaining([
      'CKV_AWS_370 AWS::SageMaker::Model.Model',
      'CKV_AWS_158 AWS::Logs::LogGroup.Logs',
    ]));
    // checkov exits 1 when any check failed.
    expect(result.run.exitCode).toBe(1);
  });
});
