import {
  ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand,
  ScanCommand, TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { RegisteredRollout } from './spec';
import { HistoryEntry, RolloutState } from './state';

/**
 * The stack's rollout table. One partition per endpoint (its spec, its state, its history) plus one
 * item per guarded alarm that points at its endpoint. Documents are stored as JSON next to a
 * version number: every state change is a compare-and-set on that version, so concurrent triggers
 * (an alarm, a scheduled step, an operator) can never both win.
 */

const endpointKey = (endpointName: string) => `ENDPOINT#${endpointName}`;
const alarmKey = (alarmName: string) => `ALARM#${alarmName}`;

/** A document and the version it was read at. */
export interface Versioned<T> {
  readonly value: T;
  readonly version: number;
}

/** Another writer changed the item since it was read. */
export class VersionConflictError extends Error {
  constructor(what: string) {
    super(`${what} was changed by someone else meanwhile`);
    this.name = 'VersionConflictError';
  }
}

let historySequence = 0;

export class StateStore {
  constructor(private readonly dynamo: DynamoDBClient, private readonly tableName: string) {}

  public async getSpec(endpointName: string): Promise<RegisteredRollout | undefined> {
    return (await this.getDoc<RegisteredRollout>(endpointKey(endpointName), 'SPEC'))?.value;
  }

  public async putSpec(endpointName: string, spec: RegisteredRollout): Promise<void> {
    await this.dynamo.send(new PutItemCommand({
      TableName: this.tableName,
      Item: { pk: { S: endpointKey(endpointName) }, sk: { S: 'SPEC' }, doc: { S: JSON.stringify(spec) }, version: { N: '0' } },
    }));
  }

  public async deleteSpec(endpointName: string): Promise<void> {
    await this.dynamo.send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: endpointKey(endpointName) }, sk: { S: 'SPEC' } } }));
  }

  public async getState(endpointName: string): Promise<Versioned<RolloutState> | undefined> {
    return this.getDoc<RolloutState>(endpointKey(endpointName), 'STATE');
  }

  /**
   * Writes the state if nobody wrote it since `expectedVersion` was read (undefined: only if there is
   * none yet). Returns the new version; throws VersionConflictError otherwise.
   */
  public async putState(state: RolloutState, expectedVersion: number | undefined): Promise<number> {
    const version = (expectedVersion ?? 0) + 1;
    try {
      await this.dynamo.send(new PutItemCommand({
        TableName: this.tableName,
        Item: { pk: { S: endpointKey(state.endpointName) }, sk: { S: 'STATE' }, doc: { S: JSON.stringify(state) }, version: { N: String(version) } },
        ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :expected',
        ExpressionAttributeValues: expectedVersion === undefined ? undefined : { ':expected': { N: String(expectedVersion) } },
      }));
      return version;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || error instanceof TransactionCanceledException
        || (error as { name?: string }).name === 'ConditionalCheckFailedException') {
        throw new VersionConflictError(`the rollout state of ${state.endpointName}`);
      }
      throw error;
    }
  }

  /**
   * Appends an entry to the endpoint's audit trail. Keys sort by time, then by the order of writes
   * within this process (two decisions can share a millisecond), then by a random tail that keeps
   * writers in different processes apart.
   */
  public async appendHistory(endpointName: string, entry: HistoryEntry): Promise<void> {
    const sequence = String(++historySequence).padStart(8, '0');
    const unique = Math.random().toString(36).slice(2, 6);
    await this.dynamo.send(new PutItemCommand({
      TableName: this.tableName,
      Item: { pk: { S: endpointKey(endpointName) }, sk: { S: `HISTORY#${entry.at}#${sequence}#${unique}` }, doc: { S: JSON.stringify(entry) } },
    }));
  }

  /** The most recent entries of the audit trail, newest first. */
  public async history(endpointName: string, limit: number): Promise<HistoryEntry[]> {
    const out = await this.dynamo.send(new QueryCommand({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :history)',
      ExpressionAttributeValues: { ':pk': { S: endpointKey(endpointName) }, ':history': { S: 'HISTORY#' } },
      ScanIndexForward: false,
      Limit: limit,
    }));
    return (out.Items ?? []).map((item) => JSON.parse(item.doc.S!) as HistoryEntry);
  }

  /** The endpoint a guarded alarm belongs to. */
  public async endpointOfAlarm(alarmName: string): Promise<string | undefined> {
    const out = await this.dynamo.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: alarmKey(alarmName) }, sk: { S: 'GUARD' } }, ConsistentRead: true }));
    return out.Item?.endpoint?.S;
  }

  public async putAlarmIndex(alarmName: string, endpointName: string): Promise<void> {
    await this.dynamo.send(new PutItemCommand({
      TableName: this.tableName,
      Item: { pk: { S: alarmKey(alarmName) }, sk: { S: 'GUARD' }, endpoint: { S: endpointName } },
    }));
  }

  public async deleteAlarmIndex(alarmName: string): Promise<void> {
    await this.dynamo.send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: alarmKey(alarmName) }, sk: { S: 'GUARD' } } }));
  }

  /** Every endpoint with a registered rollout (the scheduled step visits them). */
  public async registeredEndpoints(): Promise<string[]> {
    const names: string[] = [];
    let start: Record<string, any> | undefined;
    do {
      const out = await this.dynamo.send(new ScanCommand({
        TableName: this.tableName,
        FilterExpression: 'sk = :spec',
        ExpressionAttributeValues: { ':spec': { S: 'SPEC' } },
        ProjectionExpression: 'pk',
        ExclusiveStartKey: start,
      }));
      for (const item of out.Items ?? []) names.push(item.pk.S!.slice('ENDPOINT#'.length));
      start = out.LastEvaluatedKey;
    } while (start);
    return names.sort();
  }

  private async getDoc<T>(pk: string, sk: string): Promise<Versioned<T> | undefined> {
    const out = await this.dynamo.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    return { value: JSON.parse(out.Item.doc.S!) as T, version: Number(out.Item.version?.N ?? '0') };
  }
}
