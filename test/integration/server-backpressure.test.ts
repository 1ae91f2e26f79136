/**
 * Backpressure, end to end: when the reader stops reading, the agent stops taking records
 * from the session, so the session's own bounded queue drops and counts them. Without it
 * the agent would have pushed every record into socket buffers in the traced process.
 * The target (hot.cjs) calls math.add 50 times a millisecond; the trace has no rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import type { DroppedRecord, SessionRecord } from '../../src/protocol/events.js';
import { cleanup, launchApp, rawPeer, waitForSocket, type RunningApp } from './fixture-app.js';

/** How long the reader stops reading: the stimulus under test, not a wait for readiness. */
const STALL_MS = 400;
const options = { max: 100_000_000, rate: false, for: '30s', queueEvents: 1000, overloadMsPerSec: 1000 } as const;

let app: RunningApp;
beforeAll(async () => {
  app = await launchApp('hot.cjs', { preload: 'require', env: { FIXTURE_BURST: '50' } });
  await waitForSocket(app.socketPath);
});
afterAll(cleanup);

const stall = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, STALL_MS));

function queueDrops(records: Array<SessionRecord | undefined>): number {
  return records
    .filter((r): r is DroppedRecord => r?.type === 'dropped' && r.reason === 'queue')
    .reduce((sum, r) => sum + r.count, 0);
}

describe('backpressure', () => {
  it('a peer that stops reading gets queue drops, not an agent that buffers everything', async () => {
    const peer = await rawPeer(app.socketPath);
    await peer.hello();
    peer.send({ id: 1, op: 'trace', patterns: ['lib/math:add'], options });
    expect(await peer.next()).toMatchObject({ id: 1, ok: true });
    peer.socket.pause();
    await stall();
    peer.socket.resume();
    peer.send({ id: 2, op: 'stop', session: `${app.pid}-1` });
    const frames = await peer.collect((f) => (f.record as SessionRecord | undefined)?.type === 'stopped', 10_000);
    const records = frames.map((f) => f.record as SessionRecord | undefined);
    const calls = records.filter((r) => r?.type === 'call').length;
    const stopped = records.at(-1);
    expect(stopped?.type).toBe('stopped');
    const stats = stopped?.type === 'stopped' ? stopped.stats : undefined;
    // Queue drops can only happen if the agent stopped taking records while the socket
    // was full; an agent that wrote everything out would have left its queue empty.
    expect(stats!.dropped.queue).toBeGreaterThan(0);
    expect(queueDrops(records)).toBe(stats!.dropped.queue);
    // Every reported call either reached the socket or was dropped from the queue.
    expect(calls).toBeLessThanOrEqual(stats!.reported);
    expect(calls + stats!.dropped.queue).toBeGreaterThanOrEqual(stats!.reported);
  });

  it('a client that does not consume pauses reading at its high-water mark', async () => {
    const client = await connect(app.pid, { socketDir: app.socketDir });
    const session = await client.trace('lib/math:add', options);
    const deadline = performance.now() + 10_000;
    while (session.buffered < 10_000 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Reading has paused now; keep not consuming, so the agent's queue fills and drops.
    await stall();
    // 10,000 records is the client's high-water mark; one socket read more may land after it.
    expect(session.buffered).toBeLessThan(10_000 + 2000);
    const stopped = await session.stop();
    const records: SessionRecord[] = [];
    for await (const record of session) records.push(record);
    expect(records.at(-1)).toBe(stopped);
    expect(stopped.stats.dropped.queue).toBeGreaterThan(0);
    expect(queueDrops(records)).toBe(stopped.stats.dropped.queue);
    await client.close();
  });
});
