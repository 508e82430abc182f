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

/**
 * Answers CloudFormation through the pre-signed S3 URL of the event. CloudFormation waits up to an
 * hour for this answer, so the handler must send it on every path, failures included.
 */
export async function respond(event: CustomResourceEvent, response: CustomResourceResponse): Promise<void> {
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
  const url = new URL(event.ResponseURL);
  const client = url.protocol === 'http:' ? await import('http') : https;
  await new Promise<void>((resolve, reject) => {
    const request = client.request(url, {
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
