import type {
  Exclusions,
  Feature,
  FeatureDefinition,
  Segment,
  SegmentDefinition,
  StoredExclusions,
} from '../core/catalog/catalog.ts';

/** The result of an upsert: the item as stored, and whether the id was new. */
export interface PutResult<T> {
  readonly item: T;
  readonly created: boolean;
}

/**
 * An environment's feature and segment catalog and its exclusions. Every call is
 * scoped by environment id; nothing here can reach another environment's items.
 * Reads are strongly consistent, so a snapshot taken right after a PUT sees it.
 */
export interface CatalogStore {
  /** Creates or replaces the feature; `created_at` survives a replace. */
  putFeature(environmentId: string, id: string, definition: FeatureDefinition, now: Date): Promise<PutResult<Feature>>;
  getFeature(environmentId: string, id: string): Promise<Feature | undefined>;
  /** Every feature of the environment, ordered by id (byte order, which for the id alphabet is ASCII order). */
  listFeatures(environmentId: string): Promise<Feature[]>;
  /** False when there was no such feature. */
  deleteFeature(environmentId: string, id: string): Promise<boolean>;

  putSegment(environmentId: string, id: string, definition: SegmentDefinition, now: Date): Promise<PutResult<Segment>>;
  getSegment(environmentId: string, id: string): Promise<Segment | undefined>;
  listSegments(environmentId: string): Promise<Segment[]>;
  deleteSegment(environmentId: string, id: string): Promise<boolean>;

  /** Undefined when the environment never set exclusions. */
  getExclusions(environmentId: string): Promise<StoredExclusions | undefined>;
  /** Replaces both lists. */
  putExclusions(environmentId: string, exclusions: Exclusions, now: Date): Promise<StoredExclusions>;
}
