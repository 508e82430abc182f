/**
 * The integration tests' traffic function, against moto's SageMaker runtime through the real SDK.
 *
 * moto 5.2 implements runtime InvokeEndpoint, but as a canned answer: it accepts any endpoint
 * name, ignores TargetVariant and InferenceId, and returns the next result queued through
 * `/moto-api/static/sagemaker/endpoint-results` (or a fixed "body"). So moto proves the real HTTP
 * round trip, the bounds (how many requests, for how long, at what pace) and the per-variant
 * accounting of its answers. What the function puts in each request (TargetVariant, InferenceId,
 * the body that asks the model to fail) is checked against a loopback stub that only records
 * requests and answers each with SageMaker's "endpoint not found" error: it never invents a
 * successful answer.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { emulatorEndpoint, uniqueName } from '../support/emulator';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const traffic = require('../integ/support/traffic-function/index.js');

// A region no other test uses: moto's runtime results queue is per account and region.
const REGION = 'eu-north-1';
const realClock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), remainingMs: () => 60_000 };

async function queueResults(variants: string[]): Promise<void> {
  const response = await fetch(`${emulatorEndpoint()}/moto-api/static/sagemaker/endpoint-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ region: REGION, results: variants.map((v) => ({ Body: '{"sum":1}', ContentType: 'application/json', InvokedProductionVariant: v })) }),
  });
  expect(response.status).toBe(201);
}

function motoRuntime(): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({ endpoint: emulatorEndpoint(), region: REGION, maxAttempts: 1 });
}

describe('traffic function against moto', () => {
  test('stops at maxRequests and counts the answers per invoked variant', async () => {
    await queueResults(['production', 'candidate', 'production', 'production', 'candidate', 'production']);
    const request = traffic.parseRequest({ endpointName: uniqueName('traffic'), ratePerSecond: 20, durationSeconds: 30, maxRequests: 6 });
    const result = await traffic.runTraffic(request, { client: motoRuntime(), ...realClock });
    expect(result).toMatchObject({ sent: 6, ok: 6, failed: 0, stoppedBy: 'maxRequests', variants: { production: 4, candidate: 2 } });
  });

  test('keeps a steady pace and stops when its time is up', async () => {
    const request = traffic.parseRequest({ endpointName: uniqueName('traffic'), ratePerSecond: 8, durationSeconds: 2 });
    const started = Date.now();
    const result = await traffic.runTraffic(request, { client: motoRuntime(), ...realClock });
    const elapsed = Date.now() - started;
    // 8 per second for 2 seconds: requests due at 0, 125, ..., 1875 ms, none at or after 2000 ms.
    expect(result).toMatchObject({ sent: 16, ok: 16, stoppedBy: 'duration' });
    expect(elapsed).toBeGreaterThanOrEqual(1875);
    expect(elapsed).toBeLessThan(4000);
  });

  test('stops early when the Lambda would run out of time', async () => {
    const request = traffic.parseRequest({ endpointName: uniqueName('traffic'), ratePerSecond: 10, durationSeconds: 60 });
    let remaining = 4_000;
    const result = await traffic.runTraffic(request, { client: motoRuntime(), ...realClock, remainingMs: () => (remaining -= 100) });
    expect(result.stoppedBy).toBe('lambdaTimeout');
    expect(result.sent).toBeLessThan(15);
  });
});

describe('traffic function requests, recorded by a loopback stub that answers every call with an error', () => {
  let server: http.Server;
  const recorded: Array<{ path: string; headers: http.IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        recorded.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationError' });
        res.end(JSON.stringify({ message: 'Endpoint integ of account 123456789012 not found.' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => { await new Promise((resolve) => server.close(resolve)); });

  test('sends TargetVariant, an InferenceId per request and, when asked, the failure flag; counts the errors', async () => {
    const { port } = server.address() as AddressInfo;
    const client = new SageMakerRuntimeClient({ endpoint: `http://127.0.0.1:${port}`, region: REGION, maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const request = traffic.parseRequest({ endpointName: 'integ', ratePerSecond: 50, durationSeconds: 5, maxRequests: 3, targetVariant: 'candidate', failRequests: true, inferenceIdPrefix: 'run1' });
    const result = await traffic.runTraffic(request, { client, ...realClock });
    expect(result).toMatchObject({ sent: 3, ok: 0, failed: 3, errors: { ValidationError: 3 }, stoppedBy: 'maxRequests' });
    expect(recorded.map((r) => r.path)).toEqual(Array(3).fill('/endpoints/integ/invocations'));
    expect(recorded.map((r) => r.headers['x-amzn-sagemaker-target-variant'])).toEqual(['candidate', 'candidate', 'candidate']);
    expect(recorded.map((r) => r.headers['x-amzn-sagemaker-inference-id']).sort()).toEqual(['run1-0', 'run1-1', 'run1-2']);
    expect(recorded.map((r) => JSON.parse(r.body)).sort((a, b) => a.x[0] - b.x[0])).toEqual([{ x: [0], fail: true }, { x: [1], fail: true }, { x: [2], fail: true }]);
  });
});

describe('traffic function input', () => {
  test.each([
    [{ ratePerSecond: 1, durationSeconds: 1 }, 'endpointName must be a non-empty string, got undefined'],
    [{ endpointName: 'e', ratePerSecond: 0, durationSeconds: 1 }, 'ratePerSecond must be above 0 and at most 50, got 0'],
    [{ endpointName: 'e', ratePerSecond: 51, durationSeconds: 1 }, 'ratePerSecond must be above 0 and at most 50, got 51'],
    [{ endpointName: 'e', ratePerSecond: 1, durationSeconds: 841 }, 'durationSeconds must be a whole number between 1 and 840, got 841'],
    [{ endpointName: 'e', ratePerSecond: 1, durationSeconds: 10, maxRequests: 0 }, 'maxRequests must be a whole number of at least 1, got 0'],
  ])('refuses %j', (event, message) => {
    expect(() => traffic.parseRequest(event)).toThrow(message);
  });
});
