import { describe, expect, it } from 'vitest';
import { DurabilityError } from '../../lambdas/core/shared/errors.ts';
import type { EventSink } from '../../lambdas/ports/event-sink.ts';
import { lakeEvent } from './local-lake.ts';

/** A payload marker that must never show up in an error message. */
const SECRET = 'customer-secret-attribute-value';

export interface AcceptingEventSink {
  readonly sink: EventSink;
  /** The ids of the events stored, sorted. */
  stored(): Promise<unknown[]>;
  close(): Promise<void>;
}

/**
 * The EventSink contract. `accepting` opens a sink over storage that works (a fresh
 * one per test); `failing` one whose storage refuses every write. An adapter runs
 * the parts its stand-in can produce: the durable log cannot be made to fail, and
 * Firehose is reached only through an SDK mock, for its failure paths.
 */
export function behavesAsAnEventSink(
  name: string,
  subjects: { accepting?: () => Promise<AcceptingEventSink>; failing?: () => EventSink },
) {
  const { accepting, failing } = subjects;
  describe(`${name}: the EventSink contract`, () => {
    if (accepting) {
      it('resolves once the events are durable, each stored once', async () => {
        const subject = await accepting();
        try {
          await subject.sink.putEvents([lakeEvent('e1'), lakeEvent('e2')]);
          expect(await subject.stored()).toEqual(['e1', 'e2']);
        } finally {
          await subject.close();
        }
      });

      it('acknowledges many concurrent calls and stores all of them', async () => {
        const subject = await accepting();
        try {
          await Promise.all(
            Array.from({ length: 300 }, (_, i) =>
              subject.sink.putEvents([lakeEvent(`c${String(i).padStart(3, '0')}`)]),
            ),
          );
          const ids = await subject.stored();
          expect(ids).toHaveLength(300);
          expect(ids[0]).toBe('c000');
        } finally {
          await subject.close();
        }
      });
    }

    if (failing) {
      it('rejects with a DurabilityError that names no payload when the events cannot be made durable', async () => {
        const error = await failing()
          .putEvents([lakeEvent('e0', { attributes: JSON.stringify({ secret: SECRET }) })])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DurabilityError);
        expect((error as Error).message).not.toContain(SECRET);
      });
    }
  });
}
