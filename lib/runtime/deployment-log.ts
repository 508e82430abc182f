import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DeploymentRecord, RevertRecord } from './deployment-record';
import { VariantModel } from './spec';
import { Versioned, VersionConflictError } from './state-store';

/**
 * Deployments and reverts in the stack's state table, in the endpoint's partition beside its
 * rollout: `DEPLOYMENT#<time>#<config>` items (sorted by time), `CONFIG#<config>` items (the models
 * of each config deployed) and one `REVERT` item while a revert stands. The revert is written with compare-and-set on a version, like the rollout state.
 */
const endpointKey = (endpointName: string) => `ENDPOINT#${endpointName}`;

export class DeploymentLog {
  constructor(private readonly dynamo: DynamoDBClient, public readonly tableName: string) {}

  /**
   * Records a deployment, unless the newest record already has its config (a custom resource that
   * ran again for another reason). Returns whether it wrote.
   */
  public async record(r: DeploymentRecord): Promise<boolean> {
    const [newest] = await this.recent(r.endpointName, 1);
    if (newest?.configName === r.configName) return false;
    await this.dynamo.send(new PutItemCommand({
      TableName: this.tableName,
      Item: { pk: { S: endpointKey(r.endpointName) }, sk: { S: `DEPLOYMENT#${r.at}#${r.configName}` }, doc: { S: JSON.stringify(r) } },
    }));
    return true;
  }

  /** The endpoint's recorded deployments, newest first. */
  public async recent(endpointName: string, limit: number = 50): Promise<DeploymentRecord[]> {
    const out = await this.dynamo.send(new QueryCommand({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :deployment)',
      ExpressionAttributeValues: { ':pk': { S: endpointKey(endpointName) }, ':deployment': { S: 'DEPLOYMENT#' } },
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: limit,
    }));
    return (out.Items ?? []).map((item) => JSON.parse(item.doc.S!) as DeploymentRecord);
  }

  /**
   * Remembers the models of a config a deployment is about to put on the endpoint (the revert
   * guard writes it before the update; the post-deploy check reads it for the record), so that
   * the template need not carry the models twice.
   */
  public async putConfigModels(endpointName: string, configName: string, models: VariantModel[]): Promise<void> {
    await this.dynamo.send(new PutItemCommand({
      TableName: this.tableName,
      Item: { pk: { S: endpointKey(endpointName) }, sk: { S: `CONFIG#${configName}` }, doc: { S: JSON.stringify(models) } },
    }));
  }

  public async configModels(endpointName: string, configName: string): Promise<VariantModel[] | undefined> {
    const out = await this.dynamo.send(new GetItemCommand({
      TableName: this.tableName, Key: { pk: { S: endpointKey(endpointName) }, sk: { S: `CONFIG#${configName}` } }, ConsistentRead: true,
    }));
    return out.Item ? JSON.parse(out.Item.doc.S!) as VariantModel[] : undefined;
  }

  /**
   * The last two entries of the revert guard that let a deployment of this endpoint through (JSON),
   * newest first: when CloudFormation rolls a stack back, it sends the guard the entry from before
   * the failed deployment again, which must pass.
   */
  public async acceptGuardEntry(endpointName: string, entryJson: string): Promise<void> {
    const [newest] = await this.acceptedGuardEntries(endpointName);
    if (newest === entryJson) return;
    await this.dynamo.send(new PutItemCommand({
      TableName: this.tableName,
      Item: { pk: { S: endpointKey(endpointName) }, sk: { S: 'GUARD' }, doc: { S: JSON.stringify([entryJson, newest].filter((e) => e !== undefined)) } },
    }));
  }

  public async acceptedGuardEntries(endpointName: string): Promise<string[]> {
    const out = await this.dynamo.send(new GetItemCommand({
      TableName: this.tableName, Key: { pk: { S: endpointKey(endpointName) }, sk: { S: 'GUARD' } }, ConsistentRead: true,
    }));
    return out.Item ? JSON.parse(out.Item.doc.S!) as string[] : [];
  }

  /** The standing revert of the endpoint, if any. */
  public async getRevert(endpointName: string): Promise<Versioned<RevertRecord> | undefined> {
    const out = await this.dynamo.send(new GetItemCommand({
      TableName: this.tableName, Key: { pk: { S: endpointKey(endpointName) }, sk: { S: 'REVERT' } }, ConsistentRead: true,
    }));
    if (!out.Item) return undefined;
    return { value: JSON.parse(out.Item.doc.S!) as RevertRecord, version: Number(out.Item.version?.N ?? '0') };
  }

  /** Writes the revert if nobody wrote it since `expectedVersion` (undefined: only if none stands). */
  public async putRevert(r: RevertRecord, expectedVersion: number | undefined): Promise<number> {
    const version = (expectedVersion ?? 0) + 1;
    await this.conditional(`the revert of ${r.endpointName}`, () => this.dynamo.send(new PutItemCommand({
      TableName: this.tableName,
      Item: { pk: { S: endpointKey(r.endpointName) }, sk: { S: 'REVERT' }, doc: { S: JSON.stringify(r) }, version: { N: String(version) } },
      ...expectedCondition(expectedVersion),
    })));
    return version;
  }

  /** Ends a standing revert, if nobody changed it since `expectedVersion`. */
  public async deleteRevert(endpointName: string, expectedVersion: number): Promise<void> {
    await this.conditional(`the revert of ${endpointName}`, () => this.dynamo.send(new DeleteItemCommand({
      TableName: this.tableName,
      Key: { pk: { S: endpointKey(endpointName) }, sk: { S: 'REVERT' } },
      ...expectedCondition(expectedVersion),
    })));
  }

  private async conditional(what: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException') {
        throw new VersionConflictError(what);
      }
      throw error;
    }
  }
}

function expectedCondition(expectedVersion: number | undefined) {
  return expectedVersion === undefined
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } } };
}
