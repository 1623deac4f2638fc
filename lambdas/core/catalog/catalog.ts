import { z } from 'zod';
import { type FieldProblem, ValidationError } from '../shared/errors.ts';
import { type Filter, filterSchema, filterShape, toFilter, withValueCheck } from '../shared/filters.ts';
import { parseRequestBody } from '../shared/request-body.ts';

/**
 * The feature and segment catalog of an environment, and its exclusions
 * (DESIGN "Company feature-adoption rollup"): request schemas, the stored shapes
 * and the JSON the API answers with. Pure: no I/O.
 */

/** Ids travel in URL paths and DynamoDB sort keys: a conservative, URL-safe alphabet. */
export const CATALOG_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const MAX_NAME_LENGTH = 200;
export const MAX_EVENT_NAMES = 100;
/** The tracking API's limit on an event name; a longer one could never match. */
export const MAX_EVENT_NAME_LENGTH = 256;
export const MAX_SEGMENT_FILTERS = 50;
export const MAX_EXCLUDED_IDS = 10_000;
export const MAX_EXCLUDED_ID_LENGTH = 256;
/** The rollup looks back at most this far for adoption and retention. */
export const MAX_WINDOW_DAYS = 365;

export interface Thresholds {
  min_active_days: number;
  window_days: number;
}

export const DEFAULT_ADOPTION: Readonly<Thresholds> = { min_active_days: 5, window_days: 28 };
export const DEFAULT_RETENTION: Readonly<Thresholds> = { min_active_days: 1, window_days: 28 };

interface FeatureCommon {
  name: string;
  adoption: Thresholds;
  retention: Thresholds;
}

export interface EventFeatureDefinition extends FeatureCommon {
  type: 'event';
  event_names: string[];
  /** Whether a feature-flag check of the feature's id that enabled it is a use (docs/catalog.md). */
  flag_checks: boolean;
}

export type AttributeFeatureDefinition = FeatureCommon & { type: 'attribute' } & Filter;

/** What a client defines; the store adds the id and timestamps. */
export type FeatureDefinition = EventFeatureDefinition | AttributeFeatureDefinition;

export interface SegmentDefinition {
  name: string;
  filters: Filter[];
}

export interface Exclusions {
  user_ids: string[];
  company_ids: string[];
}

export interface Stamps {
  created_at: string;
  updated_at: string;
}

export type Feature = { id: string } & FeatureDefinition & Stamps;
export type Segment = { id: string } & SegmentDefinition & Stamps;
export type StoredExclusions = Exclusions & Stamps;

const requiredOr =
  (problem: string, required = 'is required') =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? required : problem;

const name = z
  .string({ error: requiredOr('must be a string') })
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);

const days = z
  .int({ error: requiredOr('must be a whole number of days') })
  .min(1, 'must be at least 1')
  .max(MAX_WINDOW_DAYS, `must be at most ${MAX_WINDOW_DAYS}`);

/** Either field may be left out and takes its default; the window must fit the days it asks for. */
const thresholds = (defaults: Readonly<Thresholds>) =>
  z
    .object(
      {
        min_active_days: days.default(defaults.min_active_days),
        window_days: days.default(defaults.window_days),
      },
      { error: 'must be an object with min_active_days and window_days' },
    )
    .refine((t) => t.window_days >= t.min_active_days, {
      path: ['window_days'],
      error: (issue) =>
        `must be at least min_active_days (${(issue.input as Thresholds).min_active_days}): a window cannot hold more active days than it has days`,
      // Only once both numbers are valid; a bad one is reported on its own.
      when: (payload) => payload.issues.length === 0,
    })
    .default({ ...defaults });

// Trimmed like the tracking API trims `event`, so a feature matches the names the lake holds.
const eventName = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_EVENT_NAME_LENGTH, `must be at most ${MAX_EVENT_NAME_LENGTH} characters`);

const eventNames = z
  .array(eventName, { error: requiredOr('must be an array of event names') })
  .max(MAX_EVENT_NAMES, `must list at most ${MAX_EVENT_NAMES} event names`)
  // A repeated name adds nothing to `event_name IN (…)`; keep the first.
  .transform((names) => [...new Set(names)]);

const FEATURE_TYPES = ['event', 'attribute'] as const;

const featureCommon = z.object({
  name,
  adoption: thresholds(DEFAULT_ADOPTION),
  retention: thresholds(DEFAULT_RETENTION),
});

const featureVariant = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('event'),
        event_names: eventNames,
        flag_checks: z.boolean({ error: 'must be true or false' }).default(false),
      })
      // Without flag checks nothing else could ever be a use of the feature.
      .refine((feature) => feature.flag_checks || feature.event_names.length > 0, {
        path: ['event_names'],
        error: 'must list at least one event name (or set flag_checks to true)',
        when: (payload) => payload.issues.length === 0,
      }),
    withValueCheck(z.object({ type: z.literal('attribute'), ...filterShape })),
  ],
  {
    error: (issue) =>
      (issue.input as { type?: unknown } | undefined)?.type === undefined
        ? `is required: one of ${FEATURE_TYPES.join(', ')}`
        : `must be one of ${FEATURE_TYPES.join(', ')}`,
  },
);

/** `PUT /api/v1/features/{id}` body. */
export const featureRequest = z.intersection(featureCommon, featureVariant).transform(
  (input): FeatureDefinition =>
    input.type === 'event'
      ? {
          name: input.name,
          type: 'event',
          event_names: input.event_names,
          flag_checks: input.flag_checks,
          adoption: input.adoption,
          retention: input.retention,
        }
      : {
          name: input.name,
          type: 'attribute',
          ...toFilter(input),
          adoption: input.adoption,
          retention: input.retention,
        },
);

/** `PUT /api/v1/segments/{id}` body. */
export const segmentRequest = z.object({
  name,
  filters: z
    .array(filterSchema, {
      error: requiredOr('must be an array of filters', 'is required (an empty array means every company)'),
    })
    .max(MAX_SEGMENT_FILTERS, `must hold at most ${MAX_SEGMENT_FILTERS} filters`),
});

// Ids as the tracking API takes them (strings or integers, trimmed), so an
// exclusion is spelled exactly as the lake stores the id.
const excludedId = z
  .union(
    [
      z
        .string()
        .trim()
        .min(1, 'must not be empty')
        .max(MAX_EXCLUDED_ID_LENGTH, `must be at most ${MAX_EXCLUDED_ID_LENGTH} characters`),
      z.int(),
    ],
    {
      error: `must be a non-empty string (at most ${MAX_EXCLUDED_ID_LENGTH} characters) or an integer`,
    },
  )
  .transform(String);

const excludedIds = z
  .array(excludedId, { error: requiredOr('must be an array of ids', 'is required (send [] for none)') })
  .max(MAX_EXCLUDED_IDS, `must hold at most ${MAX_EXCLUDED_IDS} ids`)
  .transform((ids) => [...new Set(ids)]);

/** `PUT /api/v1/exclusions` body: replaces both lists, so both are required. */
export const exclusionsRequest = z.object({ user_ids: excludedIds, company_ids: excludedIds });

/**
 * The path's `{id}`. `.` and `..` fit the alphabet but no HTTP client can send
 * them as a path segment (they are resolved away), so they are refused here too.
 */
export function parseCatalogId(raw: string | undefined): string {
  let id = raw ?? '';
  // API Gateway may hand the segment over still percent-encoded; `%` is never part of an id.
  if (id.includes('%')) {
    try {
      id = decodeURIComponent(id);
    } catch {
      // left as is: the pattern below refuses it
    }
  }
  if (!CATALOG_ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new ValidationError([
      {
        field: 'id',
        problem:
          id === '.' || id === '..'
            ? 'must not be "." or ".."'
            : 'must be 1 to 128 characters, each a letter, a digit or one of _ . : -',
      },
    ]);
  }
  return id;
}

/**
 * A PUT to `/…/{id}`: the path's id and the body, validated together so that one
 * 400 names every problem of the request.
 */
export function parseCatalogPut<T extends z.ZodType>(
  schema: T,
  rawId: string | undefined,
  body: string | undefined,
  isBase64Encoded = false,
): { id: string; definition: z.output<T> } {
  const problems: FieldProblem[] = [];
  const attempt = <R>(parse: () => R): R | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const id = attempt(() => parseCatalogId(rawId));
  const definition = attempt(() => parseRequestBody('catalog', schema, body, isBase64Encoded));
  if (problems.length > 0 || id === undefined) throw new ValidationError(problems);
  return { id, definition: definition as z.output<T> };
}

/** The stored feature with its keys in the order the API shows them. */
export function toFeature(id: string, definition: FeatureDefinition, stamps: Stamps): Feature {
  const common = {
    adoption: { ...definition.adoption },
    retention: { ...definition.retention },
    ...pickStamps(stamps),
  };
  if (definition.type === 'event') {
    return {
      id,
      name: definition.name,
      type: 'event',
      event_names: [...definition.event_names],
      flag_checks: definition.flag_checks,
      ...common,
    };
  }
  return { id, name: definition.name, type: 'attribute', ...toFilter(definition), ...common };
}

export function toSegment(id: string, definition: SegmentDefinition, stamps: Stamps): Segment {
  return { id, name: definition.name, filters: definition.filters.map(toFilter), ...pickStamps(stamps) };
}

/** Exclusions as the API shows them: empty lists when never set. */
export function exclusionsView(stored: Exclusions | undefined): Exclusions {
  return { user_ids: [...(stored?.user_ids ?? [])], company_ids: [...(stored?.company_ids ?? [])] };
}

function pickStamps(stamps: Stamps): Stamps {
  return { created_at: stamps.created_at, updated_at: stamps.updated_at };
}

/** `Failed to retrieve feature with id X: feature not found`, after seed 002's job message. */
export function notFoundMessage(verb: 'retrieve' | 'delete', kind: 'feature' | 'segment', id: string): string {
  return `Failed to ${verb} ${kind} with id ${id}: ${kind} not found`;
}
