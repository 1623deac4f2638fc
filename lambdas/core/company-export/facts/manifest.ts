/**
 * The facts manifest (lambdas/contract/facts.ts says where it is stored): which
 * build of each day of one environment is current, and up to when the builds have
 * accounted for every received record.
 */

import { DAY_MS } from '../../../contract/lake.ts';

/** Days `from`..`to` (inclusive, YYYY-MM-DD) are summarised by build `build_id`. */
export interface FactsSpan {
  readonly from: string;
  readonly to: string;
  readonly build_id: string;
}

export interface FactsBuildInfo {
  /** Records received before this instant (ISO) are in the build; later ones are not. */
  readonly cutoff: string;
  readonly committed_at: string;
}

export interface FactsManifest {
  /** Incremented by every commit (the first commit writes 1). */
  readonly version: number;
  /**
   * Every record received before this instant (ISO) is accounted for: its day has a
   * current build whose cutoff is later than its `received_at`. Null until a
   * complete run committed. Exports read raw only what was received since (plus the
   * days no build covers), which is what bounds their raw reads.
   */
  readonly watermark: string | null;
  /** Ordered, non-overlapping runs of days and their current build. */
  readonly spans: readonly FactsSpan[];
  /** Every build a span names, with its cutoff. */
  readonly builds: Readonly<Record<string, FactsBuildInfo>>;
  /** Builds no span names any more, and when they stopped being named (cleanup deletes them after a grace). */
  readonly retired: Readonly<Record<string, string>>;
}

/** A day range and its build's cutoff: what an export snapshots (export_inputs rows of kind `facts_span`). */
export interface FactsSnapshotSpan extends FactsSpan {
  readonly cutoff: string;
}

const dayMs = (day: string) => Date.parse(`${day}T00:00:00.000Z`);
const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Every day from..to, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = dayMs(from); t <= dayMs(to); t += DAY_MS) days.push(dayText(t));
  return days;
}

/** Sorted days as the runs of consecutive days they form. */
export function daysToRuns(days: readonly string[]): { from: string; to: string }[] {
  const runs: { from: string; to: string }[] = [];
  for (const day of [...new Set(days)].sort()) {
    const last = runs[runs.length - 1];
    if (last && dayMs(day) === dayMs(last.to) + DAY_MS) last.to = day;
    else runs.push({ from: day, to: day });
  }
  return runs;
}

/** The current build of each day the manifest covers. */
export function manifestDays(manifest: FactsManifest | undefined): Map<string, string> {
  const days = new Map<string, string>();
  for (const span of manifest?.spans ?? [])
    for (const day of daysBetween(span.from, span.to)) days.set(day, span.build_id);
  return days;
}

/** The manifest with `days` now summarised by `buildId` (cutoff `cutoff`). Pure; the version is incremented. */
export function applyFactsBuild(
  manifest: FactsManifest | undefined,
  build: {
    readonly buildId: string;
    readonly cutoff: string;
    readonly days: readonly string[];
    readonly complete: boolean;
    readonly committedAt: string;
  },
): FactsManifest {
  const days = manifestDays(manifest);
  for (const day of build.days) days.set(day, build.buildId);
  const spans: FactsSpan[] = [];
  for (const day of [...days.keys()].sort()) {
    const buildId = days.get(day) as string;
    const last = spans[spans.length - 1];
    if (last && last.build_id === buildId && dayMs(day) === dayMs(last.to) + DAY_MS) {
      spans[spans.length - 1] = { ...last, to: day };
    } else spans.push({ from: day, to: day, build_id: buildId });
  }
  const named = new Set(spans.map((s) => s.build_id));
  const builds: Record<string, FactsBuildInfo> = {};
  const retired: Record<string, string> = { ...(manifest?.retired ?? {}) };
  for (const [id, info] of Object.entries(manifest?.builds ?? {})) {
    if (named.has(id)) builds[id] = info;
    else retired[id] = build.committedAt;
  }
  if (named.has(build.buildId)) builds[build.buildId] = { cutoff: build.cutoff, committed_at: build.committedAt };
  const previous = manifest?.watermark ?? null;
  const watermark = build.complete && (previous === null || build.cutoff > previous) ? build.cutoff : previous;
  return { version: (manifest?.version ?? 0) + 1, watermark, spans, builds, retired };
}

/** The spans an export may read (days before `beforeDay`), each with its build's cutoff. */
export function factsSnapshot(manifest: FactsManifest | undefined, beforeDay: string): FactsSnapshotSpan[] {
  const lastDay = dayText(dayMs(beforeDay) - DAY_MS);
  const out: FactsSnapshotSpan[] = [];
  for (const span of manifest?.spans ?? []) {
    if (span.from > lastDay) continue;
    const info = manifest?.builds[span.build_id];
    if (!info) throw new Error(`facts manifest names build ${span.build_id} without its cutoff`);
    out.push({ ...span, to: span.to > lastDay ? lastDay : span.to, cutoff: info.cutoff });
  }
  return out;
}
