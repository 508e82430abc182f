#!/usr/bin/env node
// Detection times of the rollback alarms, default vs fast: synthesizes a canary endpoint with each
// detection, then runs its alarms (as synthesized) through the tests' CloudWatch alarm evaluator
// (test/support/metric-math.ts) on synthetic traffic, for a candidate that starts failing every
// request at each second of a minute. Writes the "Detection" section of BENCHMARKS.md.
//
//   npm run bench:detection
//
// The evaluator makes a datapoint available the moment its period ends (no publishing delay): the
// numbers are the alarms' own share of the time, which the real-account suite must add to.
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
require('ts-node').register({ project: path.join(ROOT, 'tsconfig.dev.json'), transpileOnly: true });
const { App, Stack } = require('aws-cdk-lib');
const { Template } = require('aws-cdk-lib/assertions');
const lib = require(path.join(ROOT, 'lib'));
const { simulate } = require(path.join(ROOT, 'test', 'support', 'metric-math'));

function endpointAlarms(detection) {
  const stack = new Stack(new App(), 'Bench');
  const model = (id, version) => new lib.Model(stack, id, {
    image: lib.ContainerImage.fromImageUri(`123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:${version}`),
    modelData: lib.ModelData.fromS3Url(`s3://my-model-artifacts/recommender/${version}/model.tar.gz`),
  });
  const endpoint = new lib.ModelEndpoint(stack, 'E', {
    endpointName: 'recommender',
    production: { model: model('V1', '1.0'), instanceCount: 2 },
    candidate: lib.Candidate.canary({ model: model('V2', '2.0'), trafficPercent: 10 }),
    rollbackAlarms: lib.RollbackAlarms.recommended({ detection }),
  });
  const template = Template.fromStack(stack);
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties)
    .filter((p) => endpoint.rollbackAlarmNames.includes(p.AlarmName));
  return { alarms, timeToDetect: endpoint.timeToDetect.toSeconds() };
}

/** Candidate at `perMinute` requests a minute, every one failing from `brokenFrom` on. */
function traffic(perMinute, brokenFrom) {
  const every = 60 / perMinute;
  return (variant, second) => {
    const n = every >= 1 ? (second % every === 0 ? 1 : 0) : Math.round(1 / every);
    const failing = variant === 'candidate' && second >= brokenFrom;
    return { requests: Array.from({ length: n }, () => (failing ? { error5xx: true, modelError: true, latencyMicros: 50_000 } : { latencyMicros: 50_000 })) };
  };
}

function detectionTimes(alarms, perMinute, options) {
  const times = [];
  for (let offset = 0; offset < 60; offset++) {
    const brokenFrom = 600 + offset;
    const first = alarms
      .map((alarm) => simulate(alarm, traffic(perMinute, brokenFrom), 1200, options).firstAlarmAt)
      .filter((t) => t !== undefined);
    times.push(first.length > 0 ? Math.min(...first) - brokenFrom : Infinity);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], max: times[times.length - 1] };
}

const fmt = (s) => (Number.isFinite(s) ? `${s} s` : 'never');
const rows = [];
for (const [label, detection] of [['`Detection.STANDARD` (default)', lib.Detection.STANDARD], ['`Detection.FAST`', lib.Detection.FAST]]) {
  const { alarms, timeToDetect } = endpointAlarms(detection);
  for (const perMinute of [600, 60, 10]) {
    const t = detectionTimes(alarms, perMinute);
    rows.push(`| ${label} | ${perMinute} | ${fmt(t.median)} | ${fmt(t.max)} | ${timeToDetect} s |`);
  }
  if (detection === lib.Detection.FAST) {
    const t = detectionTimes(alarms, 600, { storageResolutionSeconds: 60 });
    rows.push(`| ${label}, datapoints stored per minute | 600 | ${fmt(t.median)} | ${fmt(t.max)} | ${timeToDetect} s |`);
  }
}

const section = [
  '<!-- detection -->',
  '## Detection: default vs fast',
  '',
  'Measured by `npm run bench:detection` (bench/detection.js): the alarms of a canary endpoint, as',
  'synthesized, run through the tests\' CloudWatch alarm evaluator on synthetic traffic; the candidate',
  'starts failing every request at each of the 60 seconds of a minute; the time is from the first',
  'failing request to the first rollback alarm in ALARM. Datapoints count as available when their',
  'period ends: SageMaker\'s publishing delay and the time to move traffic come on top (UNCONFIRMED,',
  'for the real-account suite). `endpoint.timeToDetect` is the documented worst case of the slowest',
  'alarm (README, "How fast a bad model is caught").',
  '',
  `- Date: ${new Date().toISOString().slice(0, 10)}`,
  '',
  '| detection | candidate requests a minute | median | worst of 60 | endpoint.timeToDetect |',
  '|---|---:|---:|---:|---:|',
  ...rows,
  '',
  'For `Detection.FAST`, `endpoint.timeToDetect` stays 240 s, the one-minute alarms\' worst case (they',
  'are the net); the fast alarms\' own worst case is 10 x 3 + 10 = 40 s. The evaluator reaches alarms',
  'sooner than the formula because its periods end on evaluation ticks (the formula adds an interval).',
  '',
  'With `Detection.FAST` a broken candidate is caught within the 40-second target at 60 requests a',
  'minute or more; at 10 a minute the 10-second periods hold too few errors for the low-traffic guard',
  'and the one-minute alarms catch it. If CloudWatch keeps the 10-second datapoints per minute, the',
  'fast alarms never fire and detection is the default\'s.',
  '<!-- /detection -->',
].join('\n');

const file = path.join(ROOT, 'BENCHMARKS.md');
let text = fs.readFileSync(file, 'utf-8');
const start = text.indexOf('<!-- detection -->');
const end = text.indexOf('<!-- /detection -->');
text = start >= 0 && end > start
  ? text.slice(0, start) + section + text.slice(end + '<!-- /detection -->'.length)
  : `${text.trimEnd()}\n\n${section}\n`;
fs.writeFileSync(file, text);
console.log(section);
