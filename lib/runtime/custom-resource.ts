import * as https from 'https';
import { URL } from 'url';

/** The parts of a CloudFormation custom resource event the controller reads. */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceType: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

export function isCustomResourceEvent(event: unknown): event is CustomResourceEvent {
  const e = event as Partial<CustomResourceEvent>;
  return typeof e === 'object' && e !== null && typeof e.RequestType === 'string' && typeof e.ResponseURL === 'string';
}

export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** Sends the answer to CloudFormation's URL; injectable so that tests can receive it on loopback. */
export type ResponseSender = (url: URL, body: string) => Promise<void>;

/**
 * The URLs CloudFormation gives custom resources to answer on: HTTPS, pre-signed, on an Amazon S3
 * endpoint of any partition and region, for example
 * `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/...?X-Amz-Signature=...`
 * or `https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/...`
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/crpg-ref-requests.html,
 * `ResponseURL`: "a pre-signed S3 bucket"). The host is `<bucket>.s3[.-]<region>.<suffix>`, or
 * `s3[.-]<region>.<suffix>` with the bucket in the path, where the suffix is `amazonaws.com`,
 * `amazonaws.com.cn` or the domain of another AWS partition (`c2s.ic.gov`, `sc2s.sgov.gov`,
 * `cloud.adc-e.uk`, `csp.hci.ic.gov`, `amazonaws.eu`); the query must carry a signature.
 */
const S3_HOST = /^(?:[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\.)?s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.(?:amazonaws\.com|amazonaws\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov|amazonaws\.eu)$/;

/** Why CloudFormation cannot have sent this response URL, or undefined when it could have. */
export function refuseResponseUrl(responseUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'https:') return `its scheme is ${url.protocol.replace(/:$/, '')}, not https`;
  if (url.username || url.password) return 'it carries credentials';
  if (url.port !== '' && url.port !== '443') return `its port is ${url.port}, not 443`;
  if (!S3_HOST.test(url.hostname)) return `its host ${url.hostname} is not an Amazon S3 endpoint`;
  if (!url.searchParams.has('Signature') && !url.searchParams.has('X-Amz-Signature')) return 'it is not pre-signed (no Signature or X-Amz-Signature)';
  return undefined;
}

/**
 * Answers CloudFormation through the pre-signed S3 URL of the event. CloudFormation waits up to an
 * hour for this answer, so the handler must send it on every path, failures included. A URL that
 * CloudFormation cannot have sent gets no request at all: an invoker that is not CloudFormation
 * could otherwise make the controller send requests (with the endpoint's status) to any host.
 */
export async function respond(event: CustomResourceEvent, response: CustomResourceResponse, send: ResponseSender = httpsPut): Promise<void> {
  const refused = refuseResponseUrl(event.ResponseURL);
  if (refused) {
    throw new Error(`refused to answer on ResponseURL ${JSON.stringify(event.ResponseURL.slice(0, 200))}: ${refused}; CloudFormation sends HTTPS pre-signed Amazon S3 URLs only`);
  }
  const body = JSON.stringify({
    Status: response.Status,
    // CloudFormation shows the reason in the stack events; it keeps about 4 KB of it.
    Reason: (response.Reason ?? '').slice(0, 3500),
    PhysicalResourceId: response.PhysicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: response.Data ?? {},
  });
  await send(new URL(event.ResponseURL), body);
}

/** PUT over HTTPS, as the pre-signed URL expects. */
async function httpsPut(url: URL, body: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = https.request(url, {
      method: 'PUT',
      // The URL is signed without a content type: sending one would break the signature.
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode && res.statusCode < 300 ? resolve() : reject(new Error(`CloudFormation's response URL answered HTTP ${res.statusCode}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
}
