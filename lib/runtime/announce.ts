import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { RolloutEventType } from './spec';

/** The detail-types of the events this library puts on the default bus (published as `RolloutEvents`). */
export type AnnouncementType = RolloutEventType;

export interface Announcement {
  readonly type: AnnouncementType;
  readonly endpointName: string;
  /** A one-line summary (the SNS subject, cut to SNS's 100 characters). */
  readonly summary: string;
  /** What happened and what to do, for people. */
  readonly message: string;
  /** The EventBridge detail, for machines. */
  readonly detail: Record<string, unknown>;
  readonly topicArn?: string;
}

export interface AnnounceDeps {
  readonly events: EventBridgeClient;
  readonly sns: SNSClient;
  readonly eventSource: string;
}

/**
 * Puts the event on the default bus and, with a topic, publishes the message. Both are attempted;
 * a failure of either is raised afterwards so that the caller can retry the announcement.
 */
export async function announce(deps: AnnounceDeps, a: Announcement): Promise<void> {
  const detail = { endpointName: a.endpointName, summary: a.summary, ...a.detail };
  const failures: string[] = [];
  try {
    const out = await deps.events.send(new PutEventsCommand({
      Entries: [{ Source: deps.eventSource, DetailType: a.type, Resources: [], Detail: JSON.stringify(detail) }],
    }));
    if ((out.FailedEntryCount ?? 0) > 0) failures.push(`EventBridge refused the event: ${out.Entries?.[0]?.ErrorMessage ?? 'no reason given'}`);
  } catch (error) {
    failures.push(`EventBridge: ${(error as Error).message}`);
  }
  if (a.topicArn) {
    try {
      await deps.sns.send(new PublishCommand({
        TopicArn: a.topicArn,
        Subject: `[${a.type}] ${a.endpointName}: ${a.summary}`.slice(0, 100).replace(/[\r\n]/g, ' '),
        Message: `${a.message}\n\n${JSON.stringify(detail, null, 2)}`,
      }));
    } catch (error) {
      failures.push(`SNS: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) throw new Error(`announcing "${a.type}" for ${a.endpointName} failed: ${failures.join('; ')}`);
}
