import type { Thresholds } from '../../catalog/catalog.ts';
import type { Filter } from '../../shared/filters.ts';

export { DEFAULT_ADOPTION, DEFAULT_RETENTION, type Thresholds } from '../../catalog/catalog.ts';

/**
 * The catalog as the rollup reads it. The catalog store's `Feature` and `Segment`
 * (lambdas/core/catalog.ts) fit these shapes; the extra fields they carry (stamps)
 * are ignored, and thresholds left out take DESIGN's defaults.
 */

interface RollupFeatureCommon {
  readonly id: string;
  readonly name: string;
  readonly adoption?: Thresholds;
  readonly retention?: Thresholds;
}

/** Used by a `track` whose `event_name` is in the list. */
export interface RollupEventFeature extends RollupFeatureCommon {
  readonly type: 'event';
  readonly event_names: readonly string[];
  /**
   * Whether a `feature_flag` row is a use: its `feature_id` is the feature's id, its
   * `event_name` is `check` or `check-is-enabled`, and its attributes' `evalResult`
   * is `true` (docs/rollup.md). Absent: false.
   */
  readonly flag_checks?: boolean;
}

/** Used while the company's merged attributes match the filter. */
export type RollupAttributeFeature = RollupFeatureCommon & { readonly type: 'attribute' } & Filter;

export type RollupFeature = RollupEventFeature | RollupAttributeFeature;

export interface RollupSegment {
  readonly id: string;
  readonly name: string;
  readonly filters: readonly Filter[];
}

export interface RollupCatalog {
  readonly features: readonly RollupFeature[];
  readonly segments: readonly RollupSegment[];
}

export const ROLLUP_AGGREGATIONS = ['today', '30d_daily', '3m_weekly', '6m_weekly'] as const;
export type RollupAggregation = (typeof ROLLUP_AGGREGATIONS)[number];

/**
 * One output date: `date` is the CSV's Date column, `d` the instant D the row is
 * "as of" (exclusive: records with timestamp < D count).
 */
export interface RollupDate {
  readonly date: string;
  readonly d: Date;
}

/** The export's header, in DESIGN's order. */
export const COMPANY_EXPORT_HEADER = [
  'Company ID',
  'Company Name',
  'Feature Name',
  'Feature ID',
  'Date',
  'First Seen',
  'Last Seen',
  'First Used',
  'Last Used',
  'STARS State Label',
  'STARS State',
  'Frequency Label',
  'Frequency',
  'Satisfaction Label',
  'Satisfaction',
  'Feedback Count',
  'Segment Names',
  'Segment IDs',
] as const;

export const STARS_LABELS = { 1: 'never', 2: 'tried', 3: 'retained', 4: 'churned' } as const;
export const FREQUENCY_LABELS = { 0: 'Inactive', 1: 'Monthly', 2: 'Weekly', 3: 'Daily' } as const;
export const SATISFACTION_LABELS = {
  1: 'Very dissatisfied',
  2: 'Dissatisfied',
  3: 'Neutral',
  4: 'Satisfied',
  5: 'Very satisfied',
} as const;

/** UTF-8 byte order, the order both engines sort VARCHAR in (JS's `<` compares UTF-16 units). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
