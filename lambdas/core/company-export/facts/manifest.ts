/**
 * The facts manifest (lambdas/contract/facts.ts says where it is stored): which
 * build of each day of one environment is current, and up to when the builds have
 * accounted for every received record.
 */

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

/** The manifest with `days` now summarised by `buildId` (cutoff `cutoff`). Pure; the version is incremented. */
export function applyFactsBuild(
  _manifest: FactsManifest | undefined,
  _build: {
    readonly buildId: string;
    readonly cutoff: string;
    readonly days: readonly string[];
    readonly complete: boolean;
    readonly committedAt: string;
  },
): FactsManifest {
  throw new Error('facts: applyFactsBuild not yet implemented');
}

/** The spans an export may read (days up to `lastDay`), each with its build's cutoff. */
export function factsSnapshot(_manifest: FactsManifest | undefined, _lastDay: string): FactsSnapshotSpan[] {
  throw new Error('facts: factsSnapshot not yet implemented');
}
