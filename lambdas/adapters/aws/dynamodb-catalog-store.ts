import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contract/state-table.ts';
import {
  type Exclusions,
  type Feature,
  type FeatureDefinition,
  type Segment,
  type SegmentDefinition,
  type Stamps,
  type StoredExclusions,
  toFeature,
  toSegment,
} from '../../core/catalog/catalog.ts';
import type { Filter, JsonValue } from '../../core/shared/filters.ts';
import type { CatalogStore, PutResult } from '../../ports/catalog-store.ts';

const pk = (environmentId: string) => `ENV#${environmentId}`;
const FEATURE_PREFIX = 'FEATURE#';
const SEGMENT_PREFIX = 'SEGMENT#';
const EXCLUSIONS_SK = 'EXCLUSIONS';

type Item = Record<string, unknown>;

/**
 * Filter values are kept as JSON text: a DynamoDB number holds 38 digits within
 * ±1E125 and a JSON number need not, and text round-trips every JSON value
 * (nested objects, `null`, empty strings) exactly as the client sent it.
 */
interface StoredFilter {
  attribute: string;
  operator: Filter['operator'];
  value_json: string;
}

const storeFilter = (filter: Filter): StoredFilter => ({
  attribute: filter.attribute,
  operator: filter.operator,
  value_json: JSON.stringify(filter.value),
});

const loadFilter = (stored: StoredFilter): Filter =>
  ({
    attribute: stored.attribute,
    operator: stored.operator,
    value: JSON.parse(stored.value_json) as JsonValue,
  }) as Filter;

/** Attributes a feature of one type holds and the other must not keep after a replace. */
const EVENT_FEATURE_FIELDS = ['event_names', 'flag_checks'];
const ATTRIBUTE_FEATURE_FIELDS = ['attribute', 'operator', 'value_json'];

/**
 * The catalog in the state table, under the environment's partition
 * (`ENV#<environment_id>`): `FEATURE#<id>`, `SEGMENT#<id>`, `EXCLUSIONS`.
 * DynamoDB on AWS, dynalite locally: the same adapter.
 */
export class DynamoDbCatalogStore implements CatalogStore {
  constructor(private readonly options: { readonly client: DynamoDBDocumentClient; readonly tableName: string }) {}

  async putFeature(
    environmentId: string,
    id: string,
    definition: FeatureDefinition,
    now: Date,
  ): Promise<PutResult<Feature>> {
    const fields: Item = {
      id,
      name: definition.name,
      type: definition.type,
      adoption: { ...definition.adoption },
      retention: { ...definition.retention },
    };
    if (definition.type === 'event') {
      fields.event_names = [...definition.event_names];
      fields.flag_checks = definition.flag_checks;
    } else Object.assign(fields, storeFilter(definition));
    const remove = definition.type === 'event' ? ATTRIBUTE_FEATURE_FIELDS : EVENT_FEATURE_FIELDS;
    const { stamps, created } = await this.upsert(environmentId, `${FEATURE_PREFIX}${id}`, fields, remove, now);
    return { item: toFeature(id, definition, stamps), created };
  }

  async getFeature(environmentId: string, id: string): Promise<Feature | undefined> {
    const item = await this.get(environmentId, `${FEATURE_PREFIX}${id}`);
    return item ? itemToFeature(item) : undefined;
  }

  async listFeatures(environmentId: string): Promise<Feature[]> {
    return (await this.list(environmentId, FEATURE_PREFIX)).map(itemToFeature);
  }

  deleteFeature(environmentId: string, id: string): Promise<boolean> {
    return this.delete(environmentId, `${FEATURE_PREFIX}${id}`);
  }

  async putSegment(
    environmentId: string,
    id: string,
    definition: SegmentDefinition,
    now: Date,
  ): Promise<PutResult<Segment>> {
    const fields: Item = { id, name: definition.name, filters: definition.filters.map(storeFilter) };
    const { stamps, created } = await this.upsert(environmentId, `${SEGMENT_PREFIX}${id}`, fields, [], now);
    return { item: toSegment(id, definition, stamps), created };
  }

  async getSegment(environmentId: string, id: string): Promise<Segment | undefined> {
    const item = await this.get(environmentId, `${SEGMENT_PREFIX}${id}`);
    return item ? itemToSegment(item) : undefined;
  }

  async listSegments(environmentId: string): Promise<Segment[]> {
    return (await this.list(environmentId, SEGMENT_PREFIX)).map(itemToSegment);
  }

  deleteSegment(environmentId: string, id: string): Promise<boolean> {
    return this.delete(environmentId, `${SEGMENT_PREFIX}${id}`);
  }

  async getExclusions(environmentId: string): Promise<StoredExclusions | undefined> {
    const item = await this.get(environmentId, EXCLUSIONS_SK);
    if (!item) return undefined;
    return {
      user_ids: (item.user_ids as string[] | undefined) ?? [],
      company_ids: (item.company_ids as string[] | undefined) ?? [],
      ...itemStamps(item),
    };
  }

  async putExclusions(environmentId: string, exclusions: Exclusions, now: Date): Promise<StoredExclusions> {
    const fields: Item = { user_ids: [...exclusions.user_ids], company_ids: [...exclusions.company_ids] };
    const { stamps } = await this.upsert(environmentId, EXCLUSIONS_SK, fields, [], now);
    return { user_ids: [...exclusions.user_ids], company_ids: [...exclusions.company_ids], ...stamps };
  }

  /**
   * One UpdateItem: replaces `fields`, drops `remove`, keeps `created_at` if the
   * item existed. The old image tells whether it did, with no read before the
   * write and no race between two PUTs of the same id.
   */
  private async upsert(
    environmentId: string,
    sk: string,
    fields: Item,
    remove: readonly string[],
    now: Date,
  ): Promise<{ stamps: Stamps; created: boolean }> {
    const names: Record<string, string> = {
      '#created_at': 'created_at',
      '#updated_at': 'updated_at',
      '#env': 'environment_id',
    };
    const values: Record<string, unknown> = { ':now': now.toISOString(), ':env': environmentId };
    const sets = ['#created_at = if_not_exists(#created_at, :now)', '#updated_at = :now', '#env = :env'];
    Object.entries(fields).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    const removes = remove.map((field, i) => {
      names[`#r${i}`] = field;
      return `#r${i}`;
    });
    const { Attributes } = await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { [STATE_TABLE.partitionKey]: pk(environmentId), [STATE_TABLE.sortKey]: sk },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    );
    const nowIso = now.toISOString();
    const previous = typeof Attributes?.created_at === 'string' ? Attributes.created_at : undefined;
    return { stamps: { created_at: previous ?? nowIso, updated_at: nowIso }, created: previous === undefined };
  }

  private async get(environmentId: string, sk: string): Promise<Item | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: { [STATE_TABLE.partitionKey]: pk(environmentId), [STATE_TABLE.sortKey]: sk },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  /** Every item under the prefix, page by page; DynamoDB returns them in sort-key (so id) order. */
  private async list(environmentId: string, prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    const pages = paginateQuery(
      { client: this.options.client },
      {
        TableName: this.options.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': pk(environmentId), ':prefix': prefix },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    return items;
  }

  private async delete(environmentId: string, sk: string): Promise<boolean> {
    const { Attributes } = await this.options.client.send(
      new DeleteCommand({
        TableName: this.options.tableName,
        Key: { [STATE_TABLE.partitionKey]: pk(environmentId), [STATE_TABLE.sortKey]: sk },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }
}

function itemStamps(item: Item): Stamps {
  return { created_at: String(item.created_at), updated_at: String(item.updated_at) };
}

function itemToFeature(item: Item): Feature {
  const common = {
    name: String(item.name),
    adoption: item.adoption as FeatureDefinition['adoption'],
    retention: item.retention as FeatureDefinition['retention'],
  };
  const definition: FeatureDefinition =
    item.type === 'attribute'
      ? { ...common, type: 'attribute', ...loadFilter(item as unknown as StoredFilter) }
      : {
          ...common,
          type: 'event',
          event_names: (item.event_names as string[] | undefined) ?? [],
          // Features stored before the option existed have none.
          flag_checks: item.flag_checks === true,
        };
  return toFeature(String(item.id), definition, itemStamps(item));
}

function itemToSegment(item: Item): Segment {
  const filters = ((item.filters as StoredFilter[] | undefined) ?? []).map(loadFilter);
  return toSegment(String(item.id), { name: String(item.name), filters }, itemStamps(item));
}
