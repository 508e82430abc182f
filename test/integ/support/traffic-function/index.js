'use strict';
/**
 * Traffic for the integration cases: invokes a SageMaker endpoint at a steady rate for a bounded
 * time, optionally on one variant (InvokeEndpoint's TargetVariant), and returns what happened.
 *
 * Event: { endpointName, ratePerSecond (0 < r <= 50), durationSeconds (1..840), maxRequests?,
 *          targetVariant?, failRequests?, inferenceIdPrefix? }
 * Result: { sent, ok, failed, errors: {name: count}, variants: {variant: count}, startedAt, endedAt, stoppedBy }
 *
 * Requests are scheduled at start + i / rate and never sent late in a burst: a slow answer delays
 * the next request instead of piling them up (at most MAX_IN_FLIGHT run at once). The run stops at
 * whichever comes first: maxRequests sent, durationSeconds elapsed, or the Lambda's remaining time
 * below a safety margin. The AWS SDK v3 is part of the Lambda Node.js runtime.
 */
const { SageMakerRuntimeClient, InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');

const MAX_RATE_PER_SECOND = 50;
const MAX_DURATION_SECONDS = 840; // below Lambda's 15-minute limit
const MAX_IN_FLIGHT = 10;
const SAFETY_MARGIN_MS = 3000;

let sharedClient;

/** Validates the event; throws with the property, the value and the allowed range. */
function parseRequest(event) {
  const request = event || {};
  if (typeof request.endpointName !== 'string' || request.endpointName === '') {
    throw new Error(`endpointName must be a non-empty string, got ${JSON.stringify(request.endpointName)}`);
  }
  const rate = Number(request.ratePerSecond);
  if (!(rate > 0 && rate <= MAX_RATE_PER_SECOND)) {
    throw new Error(`ratePerSecond must be above 0 and at most ${MAX_RATE_PER_SECOND}, got ${JSON.stringify(request.ratePerSecond)}`);
  }
  const duration = Number(request.durationSeconds);
  if (!(Number.isInteger(duration) && duration >= 1 && duration <= MAX_DURATION_SECONDS)) {
    throw new Error(`durationSeconds must be a whole number between 1 and ${MAX_DURATION_SECONDS}, got ${JSON.stringify(request.durationSeconds)}`);
  }
  let maxRequests;
  if (request.maxRequests !== undefined) {
    maxRequests = Number(request.maxRequests);
    if (!(Number.isInteger(maxRequests) && maxRequests >= 1)) {
      throw new Error(`maxRequests must be a whole number of at least 1, got ${JSON.stringify(request.maxRequests)}`);
    }
  }
  return {
    endpointName: request.endpointName,
    ratePerSecond: rate,
    durationSeconds: duration,
    maxRequests,
    targetVariant: request.targetVariant || undefined,
    failRequests: request.failRequests === true,
    inferenceIdPrefix: request.inferenceIdPrefix || undefined,
  };
}

/**
 * Sends the traffic. `deps`: { client, now(): ms, sleep(ms), remainingMs(): ms }, so that tests
 * can run it against an emulator with a real clock and small bounds.
 */
async function runTraffic(request, deps) {
  const startedAt = deps.now();
  const deadline = startedAt + request.durationSeconds * 1000;
  const intervalMs = 1000 / request.ratePerSecond;
  const result = { sent: 0, ok: 0, failed: 0, errors: {}, variants: {}, startedAt: new Date(startedAt).toISOString(), endedAt: '', stoppedBy: '' };
  const inFlight = new Set();

  for (let i = 0; ; i++) {
    if (request.maxRequests !== undefined && i >= request.maxRequests) { result.stoppedBy = 'maxRequests'; break; }
    const due = startedAt + i * intervalMs;
    if (due >= deadline) { result.stoppedBy = 'duration'; break; }
    if (deps.remainingMs() - (due - deps.now()) < SAFETY_MARGIN_MS) { result.stoppedBy = 'lambdaTimeout'; break; }
    const wait = due - deps.now();
    if (wait > 0) await deps.sleep(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    result.sent++;
    const call = invokeOnce(request, deps.client, i).then((outcome) => {
      if (outcome.ok) {
        result.ok++;
        const variant = outcome.variant || 'unknown';
        result.variants[variant] = (result.variants[variant] || 0) + 1;
      } else {
        result.failed++;
        result.errors[outcome.error] = (result.errors[outcome.error] || 0) + 1;
      }
    });
    inFlight.add(call);
    call.finally(() => inFlight.delete(call));
  }
  await Promise.all(inFlight);
  result.endedAt = new Date(deps.now()).toISOString();
  return result;
}

async function invokeOnce(request, client, index) {
  const body = request.failRequests ? { x: [index], fail: true } : { x: [index, 1] };
  try {
    const response = await client.send(new InvokeEndpointCommand({
      EndpointName: request.endpointName,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: Buffer.from(JSON.stringify(body)),
      TargetVariant: request.targetVariant,
      InferenceId: request.inferenceIdPrefix ? `${request.inferenceIdPrefix}-${index}` : undefined,
    }));
    return { ok: true, variant: response.InvokedProductionVariant };
  } catch (error) {
    // A failing model answers ModelError (HTTP 424): expected in the broken cases, so counted, not thrown.
    return { ok: false, error: (error && error.name) || 'Error' };
  }
}

exports.parseRequest = parseRequest;
exports.runTraffic = runTraffic;
exports.handler = async (event, context) => {
  const request = parseRequest(event);
  sharedClient = sharedClient || new SageMakerRuntimeClient({});
  const result = await runTraffic(request, {
    client: sharedClient,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  console.log(JSON.stringify({ traffic: result }));
  return result;
};
