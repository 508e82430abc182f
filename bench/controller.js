#!/usr/bin/env node
// The controller's cost per rollback, measured against the moto emulator on loopback: API calls
// by service and operation (counted by a loopback proxy in front of moto) and the handler's latency
// from alarm event to weights changed and announced. Writes the "Controller" section of BENCHMARKS.md.
//
//   npm run bench:controller      (needs .venvs/moto, which `npm test` creates)
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const ROLLBACKS = Number(process.env.ROLLBACKS ?? 20);
const motoBin = path.join(ROOT, '.venvs', 'moto', 'bin', 'moto_server');
if (!fs.existsSync(motoBin) || !fs.existsSync(path.join(ROOT, 'dist', 'lib', 'runtime', 'handler.js'))) {
  console.error('bench:controller: run `npm test` once first (it builds dist/ and creates .venvs/moto)');
  process.exit(2);
}

function startMoto() {
  return new Promise((resolve, reject) => {
    const child = spawn(motoBin, ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => reject(new Error('moto did not start in 60 s')), 60_000);
    const onData = (chunk) => {
      const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(String(chunk));
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${match[1]}` });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`moto exited with ${code}`)));
  });
}

/** Forwards everything to moto and counts operations; `busy` answers the next N weight updates as SageMaker does for an updating endpoint. */
function startCountingProxy(target) {
  const counts = new Map();
  const state = { busy: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const op = req.headers['x-amz-target'] ? String(req.headers['x-amz-target']) : `${req.method} ${new URL(req.url, 'http://x').searchParams.get('Action') ?? req.url.split('?')[0]}`;
      const fault = state.busy > 0 && op === 'SageMaker.UpdateEndpointWeightsAndCapacities';
      const key = fault ? `${op} (busy)` : op;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (fault) {
        state.busy--;
        const name = JSON.parse(body.toString()).EndpointName;
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ValidationException' });
        res.end(JSON.stringify({ __type: 'ValidationException', message: `Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/${name}".` }));
        return;
      }
      const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      });
      upstream.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, counts, state, url: `http://127.0.0.1:${server.address().port}` })));
}

async function main() {
  const moto = await startMoto();
  const proxy = await startCountingProxy(moto.url);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  // Loaded after the environment points at the proxy.
  const sm = require('@aws-sdk/client-sagemaker');
  const cw = require('@aws-sdk/client-cloudwatch');
  const ddb = require('@aws-sdk/client-dynamodb');
  const { makeHandler } = require('../dist/lib/runtime/handler');
  const { register } = require('../dist/lib/runtime/rollout');
  const { StateStore } = require('../dist/lib/runtime/state-store');
  const { SNSClient } = require('@aws-sdk/client-sns');
  const { EventBridgeClient } = require('@aws-sdk/client-eventbridge');

  const sagemaker = new sm.SageMakerClient({});
  const cloudwatch = new cw.CloudWatchClient({});
  const dynamo = new ddb.DynamoDBClient({});
  const table = 'bench-rollout-state';
  await dynamo.send(new ddb.CreateTableCommand({
    TableName: table, BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
  }));
  const deps = {
    sagemaker, cloudwatch, sns: new SNSClient({}), events: new EventBridgeClient({}), store: new StateStore(dynamo, table),
    eventSource: 'cdk-sagemaker-rollout', now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)), log: () => undefined,
    retryBaseDelayMs: 200,
  };
  const handler = makeHandler(() => deps);
  const context = { getRemainingTimeInMillis: () => 600_000 };

  async function canary(i) {
    const name = `bench-canary-${i}`;
    for (const m of [`${name}-v1`, `${name}-v2`]) {
      await sagemaker.send(new sm.CreateModelCommand({ ModelName: m, ExecutionRoleArn: 'arn:aws:iam::123456789012:role/r', PrimaryContainer: { Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1' } }));
    }
    await sagemaker.send(new sm.CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-config`,
      ProductionVariants: [
        { VariantName: 'production', ModelName: `${name}-v1`, InitialVariantWeight: 90, InitialInstanceCount: 2, InstanceType: 'ml.m5.large' },
        { VariantName: 'candidate', ModelName: `${name}-v2`, InitialVariantWeight: 10, InitialInstanceCount: 2, InstanceType: 'ml.m5.large' },
      ],
    }));
    await sagemaker.send(new sm.CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
    const alarm = `Bench-rollout-${name}-candidate-5xx-error-rate`;
    await cloudwatch.send(new cw.PutMetricAlarmCommand({ AlarmName: alarm, Namespace: 'AWS/SageMaker', MetricName: 'Invocation5XXErrors', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
    await register(deps, name, {
      kind: 'canary', productionVariant: 'production', candidateVariant: 'candidate', candidateModelName: `${name}-v2`, candidateModelPath: 'Bench/V2',
      initialPercent: 10, alarmNames: [alarm],
    }, `${name}-config`, { final: new Date(Date.now() + 60_000) });
    return { name, alarm };
  }
  const event = (alarm) => ({
    'detail-type': 'CloudWatch Alarm State Change', 'source': 'aws.cloudwatch', 'time': new Date().toISOString(),
    'detail': { alarmName: alarm, state: { value: 'ALARM', reason: 'benchmark' } },
  });
  const measure = async (label, runs, prepare) => {
    const latencies = [];
    const calls = new Map();
    for (let i = 0; i < runs; i++) {
      const { alarm, before } = await prepare(i);
      proxy.counts.clear();
      const start = process.hrtime.bigint();
      await handler(event(alarm), context);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      for (const [op, n] of proxy.counts) calls.set(op, (calls.get(op) ?? 0) + n);
      if (before) await before();
    }
    latencies.sort((a, b) => a - b);
    const per = [...calls].map(([op, n]) => [op, n / runs]).sort();
    return { label, runs, p50: latencies[Math.floor(runs / 2)], p95: latencies[Math.min(runs - 1, Math.ceil(runs * 0.95) - 1)], per };
  };

  const results = [];
  results.push(await measure('rollback (alarm fires)', ROLLBACKS, async (i) => canary(`a${i}`)));
  const dup = await canary('dup');
  await handler(event(dup.alarm), context);
  results.push(await measure('duplicate event (already rolled back)', ROLLBACKS, async () => ({ alarm: dup.alarm })));
  results.push(await measure('rollback, endpoint busy twice', Math.max(5, Math.floor(ROLLBACKS / 4)), async (i) => {
    const c = await canary(`b${i}`);
    proxy.state.busy = 2;
    return c;
  }));

  proxy.server.close();
  moto.child.kill();

  const lines = [];
  for (const r of results) {
    const sagemakerCalls = r.per.filter(([op]) => op.startsWith('SageMaker.'));
    lines.push(`### ${r.label} (${r.runs} runs)`, '', `Handler latency against the emulator: median ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms.`, '',
      '| API call | per event |', '|---|---:|',
      ...r.per.map(([op, n]) => `| ${op} | ${Number.isInteger(n) ? n : n.toFixed(2)} |`),
      '', `SageMaker calls per event: ${sagemakerCalls.reduce((a, [, n]) => a + n, 0)}.`, '');
  }
  const section = `<!-- controller -->
## Controller cost per rollback

Measured by \`npm run bench:controller\` (bench/controller.js) on ${new Date().toISOString().slice(0, 10)}: the
built handler (dist/lib/runtime/handler.js) against the moto emulator on loopback, through a proxy
that counts every call. Latency includes every DynamoDB, SNS and EventBridge call, not only SageMaker's;
on AWS each call crosses the network, so expect tens of milliseconds each instead of the emulator's few.
The busy case backs off 200 ms first (the Lambda uses 1 s).

${lines.join('\n')}`;
  console.log(section);
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf-8') : '';
  const head = previous.includes('<!-- controller -->') ? previous.slice(0, previous.indexOf('<!-- controller -->')) : previous;
  fs.writeFileSync(file, `${head}${section}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
