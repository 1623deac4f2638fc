/**
 * What the two export pages (Data export, Raw-event exports) share: how often they
 * look at a running job, how an instant reads on screen, and which form field an
 * API error names.
 */

/** How often a page looks at a running job. The browser tests shorten it (see pollInterval). */
export const DEFAULT_POLL_MS = 2000;

/**
 * The polling interval: `DEFAULT_POLL_MS`, or the whole number of milliseconds in
 * `sessionStorage['featurelake:poll-ms']` (the browser tests set it so that a job's
 * end shows within a fraction of a second; nothing else writes it).
 */
export function pollInterval(): number {
  try {
    // Typed here, not from the DOM library: the unit tests load this file in Node, where there is none.
    const storage = (globalThis as { sessionStorage?: { getItem(key: string): string | null } }).sessionStorage;
    const value = Number(storage?.getItem('featurelake:poll-ms'));
    return Number.isInteger(value) && value >= 50 && value <= 60_000 ? value : DEFAULT_POLL_MS;
  } catch {
    return DEFAULT_POLL_MS;
  }
}

/** `2026-12-07T00:15:00.000Z` → `2026-12-07 00:15 UTC`: exports run on UTC days, so the screen says UTC. */
export function utcTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const withZone = /[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`;
  const time = new Date(withZone);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The top-level request field an API error's `field` names: `emails[1]` → `emails`,
 * `filters[0].value` → `filters`; `body` (the whole request) stays `body`.
 */
export function topField(field: string): string {
  return /^[^.[]+/.exec(field)?.[0] ?? field;
}

/**
 * An error body's problems by the form field they name (the top-level request field,
 * see topField), each in words that read beside that field: a 400's `details`
 * (`<field>: <problem>`) as `<label> <problem>`, and an entry whose `message` is
 * already a sentence about the field (a bucket that refused the keys) as that
 * sentence. Entries naming no field of `labels` are left to the general message
 * (problems.ts `problemFromResponse`).
 */
export function fieldProblems(body: unknown, labels: Readonly<Record<string, string>>): Record<string, string> {
  const errors = (body as { errors?: unknown } | null)?.errors;
  const out: Record<string, string> = {};
  if (!Array.isArray(errors)) return out;
  for (const entry of errors as { field?: unknown; message?: unknown; details?: unknown }[]) {
    if (typeof entry?.field !== 'string') continue;
    const name = topField(entry.field);
    const label = labels[name];
    if (label === undefined) continue;
    const details = typeof entry.details === 'string' ? entry.details : '';
    const message = typeof entry.message === 'string' ? entry.message : '';
    const line = details.startsWith(`${entry.field}: `)
      ? `${label}${itemOf(entry.field.slice(name.length))} ${details.slice(entry.field.length + 2).replace(/\.*$/, '.')}`
      : message || details;
    out[name] = out[name] ? `${out[name]} ${line}` : line;
  }
  return out;
}

/** `[1]` → ` (item 2)`, `[0].value` → ` (item 1, value)`: where in a list field the problem is, counted from 1. */
function itemOf(rest: string): string {
  if (rest === '') return '';
  const parts = rest
    .split(/[.[\]]+/)
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `item ${Number(part) + 1}` : part));
  return ` (${parts.join(', ')})`;
}
