/**
 * A loopback HTTP proxy in front of moto that injects AWS faults, for runtime tests.
 *
 *   const proxy = await FaultProxy.start();                 // in front of AWS_ENDPOINT_URL
 *   const sagemaker = sagemakerClient({ endpoint: proxy.url });
 *   proxy.failNext(2, { fault: 'throttling', operation: 'UpdateEndpointWeightsAndCapacities' });
 *
 * Faults are answered the way AWS answers them, so the SDK turns them into the same errors as in
 * production. Every other request goes to moto byte for byte and moto's answer comes back unchanged:
 * the proxy never invents a successful answer.
 *
 * Only AWS JSON protocol requests (those with an X-Amz-Target header: SageMaker, CloudWatch,
 * DynamoDB, EventBridge, SQS) can be faulted, since the fault bodies are JSON. SNS (query protocol)
 * and S3 (REST-XML) requests pass through, and show in `calls`.
 *
 * The SDK retries throttling by itself (3 attempts in all by default, with a randomized backoff of
 * up to ~1 s then ~2 s): `failNext(2, { fault: 'throttling' })` is absorbed by one `send()` that
 * then succeeds. Create the client with `{ maxAttempts: 1 }` to see each fault as an error.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { emulatorEndpoint, EMULATOR_ACCOUNT_ID } from './emulator';

/**
 * - `throttling`: HTTP 400 ThrottlingException "Rate exceeded", as any rate-limited AWS API answers.
 * - `busy-endpoint`: HTTP 400 ValidationException `Cannot update in-progress endpoint "<arn>".`,
 *   as SageMaker answers an update of an endpoint that is Creating or Updating. Applies only to
 *   requests whose body has an EndpointName.
 */
export type Fault = 'throttling' | 'busy-endpoint';

/** Which calls {@link FaultProxy.failNext} faults, and how. */
export interface FaultOptions {
  readonly fault: Fault;
  /** Operation name as in the X-Amz-Target header after the dot, e.g. 'UpdateEndpointWeightsAndCapacities'. @default - any operation */
  readonly operation?: string;
}

/** One request the proxy received. */
export interface ProxyCall {
  /** Signing name of the service, from the SigV4 credential scope: 'sagemaker', 'monitoring', 's3', ... */
  readonly service: string;
  /** Operation: from X-Amz-Target, or the query `Action`, or `METHOD /path` for REST calls. */
  readonly operation: string;
  /** 'forwarded' when moto answered, the fault when the proxy did, 'unreachable' when moto could not be reached. */
  readonly outcome: 'forwarded' | Fault | 'refused' | 'unreachable';
  /** HTTP status returned to the client. */
  readonly statusCode: number;
}

/** Decides from a request's JSON body whether to refuse it: the refusal's message, or undefined to forward it. */
export type Refusal = (body: Record<string, any>) => Promise<string | undefined>;

interface FaultRule {
  readonly fault: Fault;
  readonly operation?: string;
  remaining: number;
}

interface JsonRequest {
  readonly contentType: string;
  readonly endpointName?: string;
}

interface RequestInfo {
  readonly service: string;
  readonly region: string;
  readonly operation: string;
  /** Set for AWS JSON protocol requests only. */
  readonly json?: JsonRequest;
}

/** Fault-injecting proxy on 127.0.0.1 in front of a moto server. */
export class FaultProxy {
  /** Starts a proxy on 127.0.0.1 and a free port, in front of `target` (default: AWS_ENDPOINT_URL). */
  static async start(target: string = emulatorEndpoint()): Promise<FaultProxy> {
    const proxy = new FaultProxy(new URL(target));
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  private readonly server: http.Server;
  // Own agent, so that stop() can close the keep-alive connections to moto.
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly rules: FaultRule[] = [];
  private readonly refusals: { readonly operation: string; readonly check: Refusal }[] = [];
  private readonly log: ProxyCall[] = [];

  private constructor(private readonly target: URL) {
    this.server = http.createServer((request, response) => {
      // Only reading the request can fail (the client went away): drop the connection.
      this.handle(request, response).catch(() => response.destroy());
    });
  }

  /** The proxy's base URL, to use as a client's `endpoint`. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The requests received so far, in order. */
  get calls(): readonly ProxyCall[] {
    return [...this.log];
  }

  /**
   * Answers the next `count` matching requests with `fault` instead of forwarding them. Rules are
   * used in the order they were added; a request consumes at most one fault.
   */
  failNext(count: number, options: FaultOptions): void {
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`failNext count must be a positive integer, got ${count}`);
    }
    this.rules.push({ fault: options.fault, operation: options.operation, remaining: count });
  }

  /**
   * Refuses `operation` with a ValidationException whenever `check` (given the request's JSON body)
   * returns a message, the way a service refuses a request its current state does not allow (for
   * example SageMaker refusing an instance-type change of a variant registered with Application
   * Auto Scaling). When it returns undefined, the request goes to moto unchanged.
   */
  refuseWhen(operation: string, check: Refusal): void {
    this.refusals.push({ operation, check });
  }

  /** Drops every fault not yet used, and every refusal. */
  clearFaults(): void {
    this.rules.length = 0;
    this.refusals.length = 0;
  }

  /** Stops listening and closes all connections. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const info = describeRequest(request, body);

    // Only AWS JSON protocol requests can be faulted: the fault bodies are JSON.
    const json = info.json;
    const refusal = json && this.refusals.find((r) => r.operation === info.operation);
    if (json && refusal) {
      const message = await refusal.check(JSON.parse(body.toString() || '{}'));
      if (message !== undefined) {
        const payload = JSON.stringify({ __type: 'ValidationException', message });
        response.writeHead(400, {
          'content-type': json.contentType, 'content-length': Buffer.byteLength(payload), 'x-amzn-requestid': randomUUID(), 'x-amzn-errortype': 'ValidationException',
        });
        response.end(payload);
        this.log.push({ service: info.service, operation: info.operation, outcome: 'refused', statusCode: 400 });
        return;
      }
    }
    const rule = json && this.rules.find((candidate) => candidate.remaining > 0 && matches(candidate, info.operation, json));
    if (rule) {
      rule.remaining -= 1;
      const statusCode = answerFault(response, rule.fault, info.region, json);
      this.log.push({ service: info.service, operation: info.operation, outcome: rule.fault, statusCode });
      return;
    }
    this.forward(request, body, response, info);
  }

  private forward(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse, info: RequestInfo): void {
    const headers = { ...request.headers };
    // The whole body is already here, so there is nothing to wait for.
    delete headers.expect;
    const upstream = http.request({
      host: this.target.hostname,
      port: this.target.port,
      method: request.method,
      path: request.url,
      headers,
      agent: this.agent,
    }, (upstreamResponse) => {
      const statusCode = upstreamResponse.statusCode ?? 502;
      this.log.push({ service: info.service, operation: info.operation, outcome: 'forwarded', statusCode });
      // rawHeaders keeps moto's header names, order and repeats as they were.
      response.writeHead(statusCode, upstreamResponse.statusMessage, upstreamResponse.rawHeaders);
      upstreamResponse.pipe(response);
    });
    upstream.on('error', (error) => {
      this.log.push({ service: info.service, operation: info.operation, outcome: 'unreachable', statusCode: 502 });
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'text/plain' });
      }
      response.end(`fault proxy could not reach ${this.target.origin}: ${error.message}`);
    });
    upstream.end(body);
  }
}

function matches(rule: FaultRule, operation: string, json: JsonRequest): boolean {
  if (rule.operation !== undefined && rule.operation !== operation) return false;
  if (rule.fault === 'busy-endpoint' && json.endpointName === undefined) return false;
  return true;
}

function describeRequest(request: http.IncomingMessage, body: Buffer): RequestInfo {
  // Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...
  const scope = /Credential=[^/]+\/\d+\/([^/]+)\/([^/]+)\//.exec(request.headers.authorization ?? '');
  const region = scope?.[1] ?? 'us-east-1';
  const service = scope?.[2] ?? 'unknown';

  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') {
    return {
      service,
      region,
      operation: target.slice(target.lastIndexOf('.') + 1),
      json: { contentType: request.headers['content-type'] ?? 'application/x-amz-json-1.1', endpointName: endpointNameOf(body) },
    };
  }
  const action = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(body.toString()).get('Action')
    : null;
  const pathname = new URL(request.url ?? '/', 'http://proxy').pathname;
  return { service, region, operation: action ?? `${request.method} ${pathname}` };
}

function endpointNameOf(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString());
    const name = (parsed as { EndpointName?: unknown } | null)?.EndpointName;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the AWS JSON protocol error for `fault`; returns the HTTP status. */
function answerFault(response: http.ServerResponse, fault: Fault, region: string, json: JsonRequest): number {
  let type: string;
  let message: string;
  if (fault === 'throttling') {
    type = 'ThrottlingException';
    message = 'Rate exceeded';
  } else {
    type = 'ValidationException';
    // SageMaker puts the endpoint name in lower case in ARNs, whatever case it was created with.
    const arn = `arn:aws:sagemaker:${region}:${EMULATOR_ACCOUNT_ID}:endpoint/${(json.endpointName ?? '').toLowerCase()}`;
    message = `Cannot update in-progress endpoint "${arn}".`;
  }
  const body = JSON.stringify({ __type: type, message });
  response.writeHead(400, {
    'content-type': json.contentType,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': type,
  });
  response.end(body);
  return 400;
}
