import { z } from 'zod';
import { DAY_MS } from '../../contract/lake.ts';
import { MAX_EXCLUDED_ID_LENGTH, MAX_EXCLUDED_IDS } from '../catalog/catalog.ts';

/**
 * `POST /api/v1/analytics/exports` (seed 002): the request, its defaults and its
 * limits. Unknown fields are ignored, as the seed's clients may send more.
 */

/**
 * The seed's default list, plus `feedback` (issue 5), when `event_type` is left out.
 * The lake holds only identify_user, identify_company, track and feedback of these;
 * the others are accepted so a Userpilot client's request works, and match no event.
 */
const SEED_EVENT_TYPES = [
  'identify_user',
  'identify_company',
  'page_view',
  'track',
  'track_feature',
  'interaction',
  'session_start',
  'feedback',
] as const;

/**
 * The event types a request may name: the seed's list, and the rows the SDKs' flag
 * checks and feedback prompts make (`feature_flag`, `prompt_event`, issue 12), which
 * an export holds only when asked for by name.
 */
export const EXPORT_EVENT_TYPES = [...SEED_EVENT_TYPES, 'feature_flag', 'prompt_event'] as const;
export type ExportEventType = (typeof EXPORT_EVENT_TYPES)[number];

export const DEFAULT_EXPORT_EVENT_TYPES: readonly ExportEventType[] = SEED_EVENT_TYPES;

export const EXPORT_FORMATS = ['json', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * The longest range one job may cover. Each Monday-based week is one query and one
 * Map iteration; 3,660 days (about ten years, 524 weeks) keeps an execution far
 * below Step Functions' 25,000-event history limit.
 */
export const MAX_EXPORT_DAYS = 3660;
export const MAX_EXPORT_EMAILS = 50;

/** Days since 1970-01-01 of a valid `YYYY-MM-DD`, or undefined. */
export function parseDay(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const ms = Date.parse(`${text}T00:00:00Z`);
  // Date.parse rolls 2025-02-30 over to March; a real date prints back as itself.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) return undefined;
  return ms / DAY_MS;
}

export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

const requiredOr = (otherwise: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : otherwise;

const day = z
  .string({ error: requiredOr('must be a date as YYYY-MM-DD') })
  .refine((text) => parseDay(text) !== undefined, 'must be a real date as YYYY-MM-DD, e.g. 2024-05-02');

// Ids as the tracking API takes them: strings, or integers stored as their digits.
const id = z
  .union(
    [
      z
        .string()
        .min(1, 'must not be empty')
        .max(MAX_EXCLUDED_ID_LENGTH, `must be at most ${MAX_EXCLUDED_ID_LENGTH} characters`),
      z.int(),
    ],
    { error: `must be a non-empty string (at most ${MAX_EXCLUDED_ID_LENGTH} characters) or an integer` },
  )
  .transform(String);

const ids = z
  .array(id, { error: 'must be an array of ids' })
  .max(MAX_EXCLUDED_IDS, `must hold at most ${MAX_EXCLUDED_IDS} ids`)
  .transform((list) => [...new Set(list)]);

export const eventsExportRequest = z
  .object(
    {
      from: day,
      to: day,
      emails: z
        .array(z.email({ error: 'must be an email address' }), { error: 'must be an array of email addresses' })
        .max(MAX_EXPORT_EMAILS, `must hold at most ${MAX_EXPORT_EMAILS} addresses`)
        .optional()
        .transform((list) => [...new Set(list ?? [])]),
      event_type: z
        .array(z.enum(EXPORT_EVENT_TYPES, { error: `must be one of ${EXPORT_EVENT_TYPES.join(', ')}` }), {
          error: 'must be an array of event types',
        })
        .min(1, 'must name at least one event type (leave it out for the default list)')
        .optional()
        .transform((list) => [...new Set(list ?? DEFAULT_EXPORT_EVENT_TYPES)]),
      user_id: ids.optional().transform((list) => list ?? []),
      company_id: ids.optional().transform((list) => list ?? []),
      segment_id: z
        .union([z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'), z.int()], {
          error: 'must be a segment id (a string)',
        })
        .transform(String)
        .optional(),
      format: z.enum(EXPORT_FORMATS, { error: `must be one of ${EXPORT_FORMATS.join(', ')}` }).default('json'),
      exclusions: z.boolean({ error: 'must be true or false' }).default(false),
    },
    { error: 'must be a JSON object' },
  )
  .superRefine((request, context) => {
    const from = parseDay(request.from);
    const to = parseDay(request.to);
    if (from === undefined || to === undefined) return;
    if (to < from)
      context.addIssue({ code: 'custom', path: ['to'], message: `must not be before from (${request.from})` });
    else if (to - from + 1 > MAX_EXPORT_DAYS) {
      context.addIssue({
        code: 'custom',
        path: ['to'],
        message: `must be at most ${MAX_EXPORT_DAYS} days after from; split a longer range into several exports`,
      });
    }
  });

export type EventsExportRequest = z.output<typeof eventsExportRequest>;
