/**
 * Stalled readers cannot grow the target's heap past the process-wide cap (issue 13,
 * item 5). Each of 12 clients starts a trace of a hot function with the default queue
 * bound (queueBytes 4 MiB) and then never reads. Records held as objects take about four
 * times their encoded size, so before the cap counted heap bytes each stalled session held
 * about 12 MB (12 sessions: about 145 MB); the cap (MAX_QUEUED_BYTES_TOTAL, 64 MiB of
 * heap for all sessions together) now holds them all under it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_QUEUED_BYTES_TOTAL } from '../../src/agent/limits.js';
import { cleanup, launchApp, rawPeer, waitForSocket } from './fixture-app.js';

afterAll(cleanup);

const SESSIONS = 12;
const MiB = 1024 * 1024;

describe('stalled readers', () => {
  it(`${SESSIONS} sessions whose readers stop reading stay under the process-wide cap`, async () => {
    const app = await launchApp('stalled.cjs', { preload: 'require', nodeArgs: ['--expose-gc'] });
    await waitForSocket(app.socketPath);
    const heapAt = async (): Promise<number> => {
      const { match } = await app.stdout.waitForLine(/^heap (\d+)$/, { from: app.lines.length, timeoutMs: 10_000 });
      return Number(match[1]);
    };
    const baseline = await heapAt();
    for (let i = 0; i < SESSIONS; i++) {
      const peer = await rawPeer(app.socketPath);
      await peer.hello();
      peer.send({ id: 1, op: 'trace', patterns: ['stalled:work'], options: { max: 1e9, rate: false, for: '60s', overloadMsPerSec: 1000 } });
      const reply = await peer.next(10_000);
      expect(reply).toMatchObject({ id: 1, ok: true });
      peer.socket.pause();
    }
    // Each queue fills within a few hundred ms at 200 calls a millisecond; the heap is
    // read after a full GC on each of the next 8 reports (2 s), and its largest is kept.
    let largest = 0;
    for (let i = 0; i < 8; i++) largest = Math.max(largest, await heapAt());
    expect(largest - baseline).toBeLessThan(MAX_QUEUED_BYTES_TOTAL + 16 * MiB);
  }, 120_000);
});
