import type { LakeEvent } from '../contract/lake.ts';

/** Where accepted tracking calls go. */
export interface EventSink {
  /**
   * Resolves only once every event is durable (Firehose accepted every record;
   * locally, appended and fsynced). Rejects with `DurabilityError` otherwise.
   */
  putEvents(events: readonly LakeEvent[]): Promise<void>;
}
