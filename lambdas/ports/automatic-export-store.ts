import type {
  AutomaticExportSettings,
  AutomaticExportStatus,
  StoredAutomaticExport,
} from '../core/automatic-export/automatic-export.ts';

/** A run the dispatcher claims for an environment and a snapshot date. */
export interface AutomaticRunClaim {
  readonly date: string;
  readonly job_id: string;
  readonly run_at: string;
  readonly snapshot_at: string;
}

/**
 * Each environment's automatic export settings and the status of its last run.
 * Every write is a single-item conditional write (dynalite has no transactions).
 */
export interface AutomaticExportStore {
  get(environmentId: string): Promise<StoredAutomaticExport | undefined>;
  /** Replaces the settings; the status of past runs stays. */
  saveSettings(settings: AutomaticExportSettings): Promise<void>;
  /** Switches exports on or off, keeping everything else; false when nothing is stored. */
  setEnabled(environmentId: string, enabled: boolean, updatedAt: string): Promise<boolean>;
  /** Every enabled setting, without reading any other item of the table. */
  listEnabled(): Promise<StoredAutomaticExport[]>;
  /**
   * Marks a run as started, unless the setting is disabled or a run for the same
   * date was already claimed. Returns the status it replaced, to put back if the
   * run cannot start after all.
   */
  claimRun(environmentId: string, claim: AutomaticRunClaim): Promise<AutomaticExportStatus | undefined>;
  /** Puts back the status a claim replaced, if that claim is still the last one. */
  releaseRun(environmentId: string, jobId: string, previous: AutomaticExportStatus): Promise<void>;
  /**
   * Records how the run of `jobId` ended, if it is still the last run (a late
   * answer of an older run never overwrites a newer one). False otherwise.
   */
  recordRun(
    environmentId: string,
    jobId: string,
    outcome: { status: 'successful' | 'failed'; error: string | null; finished_at: string },
  ): Promise<boolean>;
}
