/**
 * The integration cases' snapshots, checked offline: every case under test/integ/ is synthesized
 * (all in one process) and compared with its committed `<case>.snapshot/`, asset hashes blanked.
 * A change to a deployed template fails here, so it shows in review; `npm run integ:snapshot`
 * accepts it. A modified copy of a case proves the check catches a one-number change.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { caseFiles, compareSnapshot, INTEG_DIR, normalize, snapshotDirOf, synthCases } from '../integ/runner/snapshots';

const CHANGED_CASE = 'integ.describe-alarms-scope.ts';
let outRoot: string;
let copyDir: string;

beforeAll(() => {
  // The copy sits at the same depth as test/integ/, so its relative imports still resolve.
  copyDir = fs.mkdtempSync(path.join(INTEG_DIR, '..', '.integ-copy-'));
  fs.symlinkSync(path.join(INTEG_DIR, 'support'), path.join(copyDir, 'support'));
  const source = fs.readFileSync(path.join(INTEG_DIR, CHANGED_CASE), 'utf8');
  expect(source).toContain('threshold: 1,');
  fs.writeFileSync(path.join(copyDir, 'integ.changed.ts'), source.replace('threshold: 1,', 'threshold: 2,'));
  outRoot = synthCases([...caseFiles(), path.join(copyDir, 'integ.changed.ts')], fs.mkdtempSync(path.join(os.tmpdir(), 'integ-snapshots-')));
}, 300_000);

afterAll(() => {
  for (const dir of [copyDir, outRoot]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('there are integration cases, each with a committed snapshot', () => {
  const files = caseFiles();
  expect(files.length).toBeGreaterThanOrEqual(7);
  for (const file of files) expect(fs.existsSync(path.join(snapshotDirOf(file), 'integ.json'))).toBe(true);
});

test.each(caseFiles().map((f) => path.basename(f)))('%s matches its snapshot', (name) => {
  expect(compareSnapshot(snapshotDirOf(path.join(INTEG_DIR, name)), path.join(outRoot, name))).toEqual([]);
});

test.each(caseFiles().map((f) => path.basename(f)))('%s: every assertion is in a stack that its test case deploys', (name) => {
  // integ-tests-alpha can put assertions in a DeployAssert stack no test case names (an
  // IntegTestCaseStack's own `assertions`): they would never run, and the case would pass untested.
  const dir = snapshotDirOf(path.join(INTEG_DIR, name));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'integ.json'), 'utf8'));
  const deployed = new Set(Object.values<{ assertionStackName?: string }>(manifest.testCases).map((t) => t.assertionStackName));
  const withAssertions = fs.readdirSync(dir).filter((f) => f.endsWith('.template.json'))
    .filter((f) => Object.keys(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).Resources ?? {}).some((id) => /^(LambdaInvoke|AwsApiCall)/.test(id)))
    .map((f) => f.replace('.template.json', ''));
  expect(withAssertions.length).toBeGreaterThan(0);
  expect(withAssertions.filter((stack) => !deployed.has(stack))).toEqual([]);
});

test('blue/green: step 2 updates the endpoint of step 1 in place, with a broken model under guardrails', () => {
  const dir = snapshotDirOf(path.join(INTEG_DIR, 'integ.blue-green.ts'));
  const read = (stack: string) => JSON.parse(fs.readFileSync(path.join(dir, `${stack}.template.json`), 'utf8')).Resources as Record<string, any>;
  const ofType = (resources: Record<string, any>, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const [v1, v2] = [read('V1'), read('V2Broken')];
  const [[v1EndpointId, v1Endpoint]] = ofType(v1, 'AWS::SageMaker::Endpoint');
  const [[v2EndpointId, v2Endpoint]] = ofType(v2, 'AWS::SageMaker::Endpoint');
  expect(v2EndpointId).toBe(v1EndpointId);
  expect(v2Endpoint.Properties.EndpointName).toBe(v1Endpoint.Properties.EndpointName);
  expect(v2Endpoint.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms.length).toBeGreaterThan(0);
  // Same logical ids, different model data: CloudFormation replaces the model, hence the config
  // that names it, and updates the endpoint to the new config.
  expect(ofType(v2, 'AWS::SageMaker::Model')[0][1].Properties.PrimaryContainer.ModelDataUrl)
    .not.toEqual(ofType(v1, 'AWS::SageMaker::Model')[0][1].Properties.PrimaryContainer.ModelDataUrl);
});

test('a case whose template changed is reported, at the property that changed', () => {
  const differences = compareSnapshot(snapshotDirOf(path.join(INTEG_DIR, CHANGED_CASE)), path.join(outRoot, 'integ.changed.ts'));
  expect(differences).toEqual([{
    file: 'IntegRolloutDescribeAlarms.template.json',
    change: 'changed',
    at: expect.stringMatching(/^\$\.Resources\.Alarmfirst[0-9A-F]{8}\.Properties\.Threshold$/),
  }]);
});

test('a missing or extra stack template is reported', () => {
  const snapshot = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-snapshot-copy-'));
  try {
    const source = snapshotDirOf(path.join(INTEG_DIR, CHANGED_CASE));
    for (const f of fs.readdirSync(source)) fs.copyFileSync(path.join(source, f), path.join(snapshot, f));
    fs.renameSync(path.join(snapshot, 'IntegRolloutDescribeAlarms.template.json'), path.join(snapshot, 'Gone.template.json'));
    expect(compareSnapshot(snapshot, path.join(outRoot, CHANGED_CASE))).toEqual([
      { file: 'Gone.template.json', change: 'removed' },
      { file: 'IntegRolloutDescribeAlarms.template.json', change: 'added' },
    ]);
  } finally {
    fs.rmSync(snapshot, { recursive: true, force: true });
  }
});

test('asset hashes and assertion salts are not differences: handler code can change without a snapshot update', () => {
  const a = '{"S3Key":"' + 'a'.repeat(64) + '.zip","salt": "1764480000000"}';
  const b = '{"S3Key":"' + 'b'.repeat(64) + '.zip","salt": "1764480099999"}';
  expect(normalize(a)).toEqual(normalize(b));
  expect(normalize('{"Threshold":1}')).not.toEqual(normalize('{"Threshold":2}'));
});
