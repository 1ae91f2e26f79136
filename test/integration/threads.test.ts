/**
 * Issue 17, item 2 (threads): a trace started in the main thread reaches a function that
 * runs in the program's worker threads (test/fixtures/apps/pool.cjs, a pool in piscina's
 * shape whose task module loads in the workers only), in workers running when the trace
 * began and in one started after; each call says which thread it ran in. Under the
 * preload (each form); attached to a program started without it, the workers running
 * when the trace began (a later one comes online unharmed, untraced: threads/inject.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type AgentClient } from '../../src/client/index.js';
import type { CallEvent, SessionRecord } from '../../src/protocol/events.js';
import { attach } from '../../src/attach/attach.js';
import { cleanup, launchApp, waitForSocket, type Preload } from './fixture-app.js';

const clients = new Set<AgentClient>();

afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  await cleanup();
});

/** Reads `records` until `done` says so; returns the calls seen. */
async function callsUntil(records: AsyncIterator<SessionRecord>, done: (calls: CallEvent[]) => boolean): Promise<CallEvent[]> {
  const calls: CallEvent[] = [];
  for (;;) {
    const next = await records.next();
    if (next.done) return calls;
    if (next.value.type === 'call') calls.push(next.value);
    if (done(calls)) return calls;
  }
}

describe('worker threads', () => {
  for (const preload of ['require', 'import', 'node-options-require', 'attached'] satisfies (Preload | 'attached')[]) {
    const what = preload === 'attached' ? 'the workers running when the trace began' : 'every worker, one started after the trace too';
    it(`traces calls in ${what} (${preload})`, async () => {
      const app =
        preload === 'attached'
          ? await launchApp('pool.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'] })
          : await launchApp('pool.cjs', { preload });
      if (preload === 'attached') await attach(app.pid, { socketDir: app.socketDir });
      const firstWorkers = app.lines.filter((l) => l.startsWith('worker ')).map((l) => Number(l.split(' ')[1]));
      expect(firstWorkers).toHaveLength(2);
      await waitForSocket(app.socketPath);
      const client = await connect(app.pid, { socketDir: app.socketDir });
      clients.add(client);
      // The task module loads in the workers only: the main thread waits for it.
      const session = await client.trace('lib/tasks:square', { max: 10_000, rate: false, waitForModules: true });
      const records = session[Symbol.asyncIterator]();
      const threadsOf = (calls: CallEvent[]) => new Set(calls.map((c) => c.thread));
      const before = await callsUntil(records, (calls) => firstWorkers.every((t) => threadsOf(calls).has(t)));
      for (const call of before) {
        expect(call).toMatchObject({ fn: 'lib/tasks.cjs:square', outcome: 'return', pid: app.pid });
        expect(call.value).toBe((call.args[0] as number) ** 2);
      }
      expect(new Set(before.map((c) => c.id)).size).toBe(before.length);

      const from = app.lines.length;
      process.kill(app.pid, 'SIGUSR2');
      const late = Number((await app.stdout.waitForLine(/^worker (\d+)/, { from, timeoutMs: 20_000 })).match[1]);
      expect(firstWorkers).not.toContain(late);
      // Attached without the preload, a worker started after the trace began is left alone
      // (threads/inject.ts): it must come online unharmed; its calls are not traced.
      if (preload === 'attached') {
        await session.stop();
        return;
      }
      const after = await callsUntil(records, (calls) => threadsOf(calls).has(late));
      expect(threadsOf(after).has(late)).toBe(true);
      await session.stop();
    }, 60_000);
  }
});
