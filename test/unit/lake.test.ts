import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { earliestReceivedDate, LAKE_SHARDS, lakeShard, MAX_FUTURE_MS } from '../../lambdas/contract/lake.ts';

/** FNV-1a (32-bit) written the slow, obvious way, as the reference lakeShard must match. */
function fnv1a32(bytes: Uint8Array): bigint {
  let hash = 0x811c9dc5n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x01000193n) % 2n ** 32n;
  return hash;
}

describe('lakeShard', () => {
  it('is 32-bit FNV-1a mod 64, pinned by the published test vectors', () => {
    // draft-eastlake-fnv: FNV-1a 32 of "" is 0x811c9dc5, of "a" 0xe40c292c, of "foobar" 0xbf9cf968.
    expect(lakeShard('')).toBe(0x811c9dc5 % 64);
    expect(lakeShard('a')).toBe(0xe40c292c % 64);
    expect(lakeShard('foobar')).toBe(0xbf9cf968 % 64);
    expect([lakeShard(''), lakeShard('a'), lakeShard('foobar')]).toEqual([5, 44, 40]);
  });

  it('hashes the UTF-8 bytes of the id, and always gives an integer from 0 to 63', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (id) => {
        const shard = lakeShard(id);
        expect(Number.isInteger(shard) && shard >= 0 && shard < LAKE_SHARDS).toBe(true);
        expect(shard).toBe(Number(fnv1a32(new TextEncoder().encode(id)) % BigInt(LAKE_SHARDS)));
      }),
    );
    expect(LAKE_SHARDS).toBe(64);
  });
});

describe('earliestReceivedDate', () => {
  it('is the day before: an event is never received more than MAX_FUTURE_MS (a day) before its own time', () => {
    expect(MAX_FUTURE_MS).toBe(24 * 60 * 60 * 1000);
    expect(earliestReceivedDate('2025-03-01')).toBe('2025-02-28');
    expect(earliestReceivedDate('2024-03-01')).toBe('2024-02-29');
    expect(earliestReceivedDate('2020-01-01')).toBe('2019-12-31');
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: MAX_FUTURE_MS }),
        (eventTime, ahead) => {
          // The earliest a call with this timestamp is accepted: the server clock MAX_FUTURE_MS behind it.
          const received = new Date(eventTime.getTime() - ahead).toISOString().slice(0, 10);
          expect(received >= earliestReceivedDate(eventTime.toISOString().slice(0, 10))).toBe(true);
        },
      ),
    );
  });
});
