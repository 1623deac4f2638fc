/**
 * A small time-bounded memo for lookups that rarely change (tracking key → environment).
 * A miss (`undefined`) is never remembered: a key created a moment ago works at once,
 * and a client sending random keys cannot flush the cache of real ones.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string, load: (key: string) => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    const now = this.now();
    if (hit && hit.expires > now) return hit.value;
    const value = await load(key);
    if (value === undefined) return value;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, expires: now + this.ttlMs });
    return value;
  }

  /** Forgets `key` at once (a rotated-away API key). */
  delete(key: string): void {
    this.entries.delete(key);
  }
}
