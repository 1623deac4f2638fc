import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contract/state-table.ts';
import {
  type AutomaticExportSettings,
  type AutomaticExportStatus,
  NEVER_RAN,
  type StoredAutomaticExport,
} from '../../core/automatic-export/automatic-export.ts';
import type { AutomaticExportStore, AutomaticRunClaim } from '../../ports/automatic-export-store.ts';

/**
 * Every environment's settings live in one partition of their own, so the daily
 * dispatcher finds them with one Query instead of scanning the whole table (which
 * holds every job and catalog item): a handful of items per environment at most.
 */
const PARTITION = 'AUTOMATIC_EXPORT';
const key = (environmentId: string) => ({
  [STATE_TABLE.partitionKey]: PARTITION,
  [STATE_TABLE.sortKey]: `ENV#${environmentId}`,
});

type Item = Record<string, unknown>;

const SETTINGS_FIELDS = [
  'environment_id',
  'enabled',
  'cadence',
  'destination',
  'access_key_id',
  'secret',
  'updated_at',
] as const satisfies readonly (keyof AutomaticExportSettings)[];

/** Status fields other than the date guard, which is absent (not null) until a first run. */
const STATUS_FIELDS = [
  'last_status',
  'last_run_at',
  'last_snapshot_at',
  'last_finished_at',
  'last_error',
  'last_job_id',
] as const satisfies readonly (keyof AutomaticExportStatus)[];

/** The automatic export settings in the state table (DynamoDB on AWS, dynalite locally). */
export class DynamoDbAutomaticExportStore implements AutomaticExportStore {
  constructor(private readonly options: { readonly client: DynamoDBDocumentClient; readonly tableName: string }) {}

  async get(environmentId: string): Promise<StoredAutomaticExport | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: key(environmentId), ConsistentRead: true }),
    );
    return Item ? toStored(Item) : undefined;
  }

  async saveSettings(settings: AutomaticExportSettings): Promise<void> {
    const set = SETTINGS_FIELDS.map((_, i) => `#s${i} = :s${i}`);
    // A first save starts with "never ran before"; a later one keeps the runs' status.
    const init = STATUS_FIELDS.map((_, i) => `#t${i} = if_not_exists(#t${i}, :t${i})`);
    await this.update(environmentId(settings), {
      UpdateExpression: `SET ${[...set, ...init, '#created = if_not_exists(#created, :created)'].join(', ')}`,
      ExpressionAttributeNames: {
        ...Object.fromEntries(SETTINGS_FIELDS.map((field, i) => [`#s${i}`, field])),
        ...Object.fromEntries(STATUS_FIELDS.map((field, i) => [`#t${i}`, field])),
        '#created': 'created_at',
      },
      ExpressionAttributeValues: {
        ...Object.fromEntries(SETTINGS_FIELDS.map((field, i) => [`:s${i}`, settings[field]])),
        ...Object.fromEntries(STATUS_FIELDS.map((field, i) => [`:t${i}`, NEVER_RAN[field]])),
        ':created': settings.created_at,
      },
    });
  }

  async setEnabled(environmentId: string, enabled: boolean, updatedAt: string): Promise<boolean> {
    return this.conditional(() =>
      this.update(environmentId, {
        UpdateExpression: 'SET #enabled = :enabled, #updated = :updated',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#enabled': 'enabled', '#updated': 'updated_at' },
        ExpressionAttributeValues: { ':enabled': enabled, ':updated': updatedAt },
      }),
    );
  }

  async listEnabled(): Promise<StoredAutomaticExport[]> {
    const found: StoredAutomaticExport[] = [];
    const pages = paginateQuery(
      { client: this.options.client },
      {
        TableName: this.options.tableName,
        KeyConditionExpression: '#pk = :pk',
        FilterExpression: '#enabled = :true',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#enabled': 'enabled' },
        ExpressionAttributeValues: { ':pk': PARTITION, ':true': true },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) found.push(toStored(item));
    return found;
  }

  async claimRun(environmentId: string, claim: AutomaticRunClaim): Promise<AutomaticExportStatus | undefined> {
    try {
      const { Attributes } = await this.update(environmentId, {
        UpdateExpression:
          'SET #status = :running, #run = :run, #snapshot = :snapshot, #finished = :null, #error = :null, #job = :job, #date = :date',
        // The guard that makes a second fire for the same date a no-op, also where the
        // execution name cannot (the local runner forgets names when it restarts).
        ConditionExpression:
          'attribute_exists(#pk) AND #enabled = :true AND (attribute_not_exists(#date) OR #date <> :date)',
        ExpressionAttributeNames: {
          '#pk': STATE_TABLE.partitionKey,
          '#enabled': 'enabled',
          '#status': 'last_status',
          '#run': 'last_run_at',
          '#snapshot': 'last_snapshot_at',
          '#finished': 'last_finished_at',
          '#error': 'last_error',
          '#job': 'last_job_id',
          '#date': 'last_dispatched_date',
        },
        ExpressionAttributeValues: {
          ':running': 'running',
          ':run': claim.run_at,
          ':snapshot': claim.snapshot_at,
          ':null': null,
          ':job': claim.job_id,
          ':date': claim.date,
          ':true': true,
        },
        ReturnValues: 'ALL_OLD',
      });
      return statusOf(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async releaseRun(environmentId: string, jobId: string, previous: AutomaticExportStatus): Promise<void> {
    const set = STATUS_FIELDS.map((_, i) => `#t${i} = :t${i}`);
    const hadDate = previous.last_dispatched_date !== null;
    if (hadDate) set.push('#date = :date');
    await this.conditional(() =>
      this.update(environmentId, {
        UpdateExpression: `SET ${set.join(', ')}${hadDate ? '' : ' REMOVE #date'}`,
        ConditionExpression: '#job = :job',
        ExpressionAttributeNames: {
          ...Object.fromEntries(STATUS_FIELDS.map((field, i) => [`#t${i}`, field])),
          '#date': 'last_dispatched_date',
          '#job': 'last_job_id',
        },
        ExpressionAttributeValues: {
          ...Object.fromEntries(STATUS_FIELDS.map((field, i) => [`:t${i}`, previous[field]])),
          ...(hadDate ? { ':date': previous.last_dispatched_date } : {}),
          ':job': jobId,
        },
      }),
    );
  }

  async recordRun(
    environmentId: string,
    jobId: string,
    outcome: { status: 'successful' | 'failed'; error: string | null; finished_at: string },
  ): Promise<boolean> {
    return this.conditional(() =>
      this.update(environmentId, {
        UpdateExpression: 'SET #status = :status, #error = :error, #finished = :finished',
        ConditionExpression: '#job = :job',
        ExpressionAttributeNames: {
          '#status': 'last_status',
          '#error': 'last_error',
          '#finished': 'last_finished_at',
          '#job': 'last_job_id',
        },
        ExpressionAttributeValues: {
          ':status': outcome.status,
          ':error': outcome.error,
          ':finished': outcome.finished_at,
          ':job': jobId,
        },
      }),
    );
  }

  private update(
    environmentId: string,
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
  ) {
    return this.options.client.send(
      new UpdateCommand({ TableName: this.options.tableName, Key: key(environmentId), ...input }),
    );
  }

  /** True when the write happened, false when its condition refused it. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

const environmentId = (settings: AutomaticExportSettings) => settings.environment_id;

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function statusOf(item: Item): AutomaticExportStatus {
  return {
    last_status: (item.last_status as AutomaticExportStatus['last_status'] | undefined) ?? NEVER_RAN.last_status,
    last_run_at: stringOrNull(item.last_run_at),
    last_snapshot_at: stringOrNull(item.last_snapshot_at),
    last_finished_at: stringOrNull(item.last_finished_at),
    last_error: stringOrNull(item.last_error),
    last_job_id: stringOrNull(item.last_job_id),
    last_dispatched_date: stringOrNull(item.last_dispatched_date),
  };
}

function toStored(item: Item): StoredAutomaticExport {
  return {
    environment_id: String(item.environment_id),
    enabled: item.enabled === true,
    cadence: item.cadence as StoredAutomaticExport['cadence'],
    destination: item.destination as StoredAutomaticExport['destination'],
    access_key_id: String(item.access_key_id),
    secret: item.secret as StoredAutomaticExport['secret'],
    created_at: String(item.created_at),
    updated_at: String(item.updated_at),
    ...statusOf(item),
  };
}
