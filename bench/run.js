#!/usr/bin/env node
// The benchmark: synth time, peak memory and template economy of N canary endpoints with the
// recommended alarms, this library against the same stack hand-written with L1 classes.
// Each synthesis runs in its own process; the two implementations alternate, RUNS times each.
// Prints one table and writes BENCHMARKS.md (the controller section is kept from bench/controller.js).
//
//   npm run bench                 # N = 1, 10, 50, 100; 7 runs each
//   RUNS=9 NS=50 npm run bench    # other settings
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 7);
const NS = (process.env.NS ?? '1,10,50,100').split(',').map(Number);
const LIMIT = 500;

if (!fs.existsSync(path.join(ROOT, 'dist', 'lib', 'index.js')) || !fs.existsSync(path.join(ROOT, 'assets', 'rollout-controller', 'index.js'))) {
  console.error('bench: build first (npm run build, which npm ci runs for you)');
  process.exit(2);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function synthOnce(impl, n, extraEnv = {}) {
  const start = process.hrtime.bigint();
  // Above 500 resources CDK refuses to synthesize; the limit is lifted here to measure past it.
  const out = execFileSync(process.execPath, [path.join(__dirname, 'synth-one.js'), impl, String(n)], {
    cwd: ROOT, encoding: 'utf-8', env: { ...process.env, ...extraEnv, CDK_CONTEXT_JSON: JSON.stringify({ '@aws-cdk/core:stackResourceLimit': 0 }) },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { ...JSON.parse(out.trim().split('\n').pop()), wallMs };
}

const results = [];
for (const n of NS) {
  const runs = { ours: [], handwritten: [] };
  for (let i = 0; i < RUNS; i++) {
    // Alternate, and swap who goes first each round, so that drift in the machine hits both alike.
    const order = i % 2 === 0 ? ['ours', 'handwritten'] : ['handwritten', 'ours'];
    for (const impl of order) runs[impl].push(synthOnce(impl, n));
  }
  const summary = (impl) => ({
    wallMs: median(runs[impl].map((r) => r.wallMs)),
    peakRssMb: median(runs[impl].map((r) => r.peakRssMb)),
    resources: runs[impl][0].resources,
    types: runs[impl][0].types,
    templateBytes: runs[impl][0].templateBytes,
  });
  const row = { n, ours: summary('ours'), handwritten: summary('handwritten') };
  row.ratio = row.ours.wallMs / row.handwritten.wallMs;
  results.push(row);
  console.error(`bench: N=${n} ours ${row.ours.wallMs.toFixed(0)} ms, hand-written ${row.handwritten.wallMs.toFixed(0)} ms, ratio ${row.ratio.toFixed(2)}`);
}

/**
 * The same comparison at N = 50 with CDK's template validator turned off (CDK_VALIDATION=false): the
 * validator checks both templates alike and is most of the time, so this isolates the library's own
 * cost (building L2 constructs and resolving their tokens).
 */
const withoutValidator = { ours: [], handwritten: [] };
for (let i = 0; i < RUNS; i++) {
  for (const impl of i % 2 === 0 ? ['ours', 'handwritten'] : ['handwritten', 'ours']) {
    withoutValidator[impl].push(synthOnce(impl, 50, { CDK_VALIDATION: 'false' }).wallMs);
  }
}
const noValidation = { ours: median(withoutValidator.ours), handwritten: median(withoutValidator.handwritten) };
console.error(`bench: N=50 without the validator: ours ${noValidation.ours.toFixed(0)} ms, hand-written ${noValidation.handwritten.toFixed(0)} ms`);

// Resources and bytes per endpoint and per stack, from the two smallest and largest N.
const economy = (impl) => {
  const [a, b] = [results[0], results[results.length - 1]];
  const perEndpoint = (b[impl].resources - a[impl].resources) / (b.n - a.n);
  const bytesPerEndpoint = (b[impl].templateBytes - a[impl].templateBytes) / (b.n - a.n);
  return {
    perEndpoint,
    shared: a[impl].resources - perEndpoint * a.n,
    bytesPerEndpoint,
    sharedBytes: a[impl].templateBytes - bytesPerEndpoint * a.n,
  };
};
/** The largest N whose synthesized stack has at most 500 resources (measured, not extrapolated). */
function largestN(impl, extraEnv = {}) {
  let lo = 1;
  let hi = 80;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (synthOnce(impl, mid, extraEnv).resources <= LIMIT) lo = mid; else hi = mid - 1;
  }
  return lo;
}
const ours = { ...economy('ours'), largestN: largestN('ours') };
// The same canary endpoints with both variants autoscaling (ours only: the hand-written stack has no scaling).
const SCALING = { BENCH_SCALING: '1' };
const scaledOne = synthOnce('ours', 1, SCALING);
const scaledTen = synthOnce('ours', 10, SCALING);
const scaled = {
  perEndpoint: (scaledTen.resources - scaledOne.resources) / 9,
  roles: scaledTen.types['AWS::IAM::Role'] ?? 0,
  rolesWithout: results[0].ours.types['AWS::IAM::Role'] ?? 0,
  largestN: largestN('ours', SCALING),
};
console.error(`bench: with autoscaling ${scaled.perEndpoint.toFixed(2)} resources per endpoint, largest N ${scaled.largestN}`);
const hand = { ...economy('handwritten'), largestN: largestN('handwritten') };
const bundleBytes = fs.statSync(path.join(ROOT, 'assets', 'rollout-controller', 'index.js')).size;
/** The controller's resources (function, rules, table, queue) must not grow with the number of endpoints. */
const CONTROLLER_TYPES = ['AWS::Lambda::Function', 'AWS::Lambda::EventInvokeConfig', 'AWS::Events::Rule', 'AWS::Lambda::Permission', 'AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::SQS::QueuePolicy', 'AWS::Logs::LogGroup', 'AWS::IAM::Role'];
const controllerCounts = results.map((r) => CONTROLLER_TYPES.map((t) => r.ours.types[t] ?? 0).join(','));
const controllerConstant = controllerCounts.every((c) => c === controllerCounts[0]);
const controllerTotal = CONTROLLER_TYPES.reduce((sum, t) => sum + (results[0].ours.types[t] ?? 0), 0);
const overflow = results.map((r) => `${r.ours.types['AWS::IAM::ManagedPolicy'] ?? 0} at N=${r.n}`).join(', ');

const versions = {
  node: process.version,
  'aws-cdk-lib': require('aws-cdk-lib/package.json').version,
  'cdk-sagemaker-rollout': require(path.join(ROOT, 'package.json')).version,
};
const machine = `${os.cpus().length} x ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`;
const ratio50 = results.find((r) => r.n === 50)?.ratio;

const table = [
  '| N endpoints | ours: median synth (ms) | hand-written: median synth (ms) | ratio ours / hand-written | ours: peak RSS (MB) | hand-written: peak RSS (MB) | ours: resources | hand-written: resources | ours: template (KB) | hand-written: template (KB) |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.n} | ${r.ours.wallMs.toFixed(0)} | ${r.handwritten.wallMs.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.ours.peakRssMb.toFixed(0)} | ${r.handwritten.peakRssMb.toFixed(0)} | ${r.ours.resources}${r.ours.resources > LIMIT ? ' (over 500)' : ''} | ${r.handwritten.resources}${r.handwritten.resources > LIMIT ? ' (over 500)' : ''} | ${(r.ours.templateBytes / 1024).toFixed(0)} | ${(r.handwritten.templateBytes / 1024).toFixed(0)} |`),
].join('\n');

const validatorTable = [
  '| N = 50, CDK_VALIDATION=false | ours (ms) | hand-written (ms) | difference (ms) | ratio |',
  '|---|---:|---:|---:|---:|',
  `| median of ${RUNS} | ${noValidation.ours.toFixed(0)} | ${noValidation.handwritten.toFixed(0)} | ${(noValidation.ours - noValidation.handwritten).toFixed(0)} | ${(noValidation.ours / noValidation.handwritten).toFixed(2)} |`,
].join('\n');

const economyTable = [
  '| | ours | hand-written |',
  '|---|---:|---:|',
  `| resources per endpoint | ${ours.perEndpoint.toFixed(2)} | ${hand.perEndpoint.toFixed(2)} |`,
  `| resources shared per stack (at N=${results[0].n}) | ${ours.shared.toFixed(0)} | ${hand.shared.toFixed(0)} |`,
  `| template bytes per endpoint | ${ours.bytesPerEndpoint.toFixed(0)} | ${hand.bytesPerEndpoint.toFixed(0)} |`,
  `| largest N within 500 resources (synthesized) | ${ours.largestN} | ${hand.largestN} |`,
  `| IAM overflow managed policies (CDK splits a role's policy past IAM's size limit) | ${overflow} | ${results.map((r) => `${r.handwritten.types['AWS::IAM::ManagedPolicy'] ?? 0}`).join(', ')} |`,
  `| controller handler bundle | ${(bundleBytes / 1024).toFixed(0)} KB | same bundle |`,
  `| with autoscaling on both variants: resources per endpoint | ${scaled.perEndpoint.toFixed(2)} (a scalable target and a policy per variant, and the scaling guard) | - |`,
  `| with autoscaling: IAM roles in the stack (at N=10; without scaling at N=${results[0].n}) | ${scaled.roles} (${scaled.rolesWithout} without): none per target | - |`,
  `| with autoscaling: largest N within 500 resources (synthesized) | ${scaled.largestN} | - |`,
].join('\n');

console.log(table);
console.log();
console.log(validatorTable);
console.log();
console.log(economyTable);

const benchFile = path.join(ROOT, 'BENCHMARKS.md');
const previous = fs.existsSync(benchFile) ? fs.readFileSync(benchFile, 'utf-8') : '';
const controllerSection = previous.includes('<!-- controller -->') ? previous.slice(previous.indexOf('<!-- controller -->')) : '<!-- controller -->\n## Controller cost per rollback\n\nRun `npm run bench:controller` (needs the emulator venv that `npm test` creates).\n';
const synthSection = `# Benchmarks

Measured by \`npm run bench\` (bench/run.js), never by a timed test. Each synthesis runs in its own
Node.js process (module loading included, as in \`cdk synth\`); ours and the hand-written L1
equivalent (bench/handwritten.js: the same models, configs, endpoints, alarms, custom resources,
dashboards, controller function, rules, table, queue and roles) alternate, ${RUNS} runs each; the
table shows medians. CDK's built-in template validator runs in both, as it does for users.

- Date: ${new Date().toISOString().slice(0, 10)}
- Machine: ${machine}
- Versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}

## Synthesis

${table}

The library's own cost, without the template validator (same runs, alternating):

${validatorTable}

## Template economy

${economyTable}

## Targets

| target | result |
|---|---|
| synth time ratio ours / hand-written at most 1.10 at N = 50 | ${ratio50 === undefined ? 'not measured' : `${ratio50.toFixed(2)}: ${ratio50 <= 1.1 ? 'met' : 'MISSED, see below'}`} |
| shared resources per stack constant in N (one controller) | ${controllerConstant ? 'met' : 'MISSED'}: the controller is ${controllerTotal} resources (function, its invoke config and log group, 2 rules and their permissions, table, queue and its policy, 2 roles) at every N; the roles' IAM overflow policies grow past about 40 endpoints (${overflow}) |
| at least 60 canary endpoints per stack within 500 resources | ${ours.largestN}: ${ours.largestN >= 60 ? 'met' : 'MISSED'} |
| handler bundle under 1 MB | ${(bundleBytes / 1024).toFixed(0)} KB: ${bundleBytes < 1024 * 1024 ? 'met' : 'MISSED'} |

<!-- notes -->
`;
const notes = previous.includes('<!-- notes -->') && previous.includes('<!-- controller -->')
  ? previous.slice(previous.indexOf('<!-- notes -->') + '<!-- notes -->\n'.length, previous.indexOf('<!-- controller -->'))
  : '';
fs.writeFileSync(benchFile, `${synthSection}${notes}${controllerSection}`);
console.error(`bench: wrote ${path.relative(ROOT, benchFile)}`);
