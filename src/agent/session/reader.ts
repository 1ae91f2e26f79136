/**
 * A session read as an async iterable (`for await (const record of session)`): records
 * as they are queued, waiting when there are none, until the session is over and drained.
 * Leaving the loop early (break, throw) ends the session, so a reader that walks away
 * never leaves hooks behind.
 */
import type { SessionRecord, StopReason } from '../../protocol/events.js';

/** What reading needs of a session. */
export interface ReadableSession {
  take(): SessionRecord[];
  readonly ended: boolean;
  readable(): Promise<void>;
  stop(reason: StopReason): Promise<void>;
}

export async function* readRecords(session: ReadableSession): AsyncGenerator<SessionRecord, void, undefined> {
  try {
    for (;;) {
      const batch = session.take();
      if (batch.length > 0) {
        yield* batch;
        continue;
      }
      if (session.ended) return;
      await session.readable();
    }
  } finally {
    await session.stop('user');
  }
}
