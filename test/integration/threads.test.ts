/**
 * Issue 17, item 2 (threads): a trace started in the main thread reaches a function that
 * runs in the program's worker threads (test/fixtures/apps/pool.cjs, a pool in piscina's
 * shape whose task module loads in the workers only), in workers running when the trace
 * began and in one started after; each call says which thread it ran in. Under the
 * preload (each form) and attached to a program started without it (the agent loads
 * itself into each worker once the worker's module system is set up: threads/inject.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type AgentClient } from '../../src/client/index.js';
import type { CallEvent, DroppedRecord, NoteRecord, SessionRecord, StoppedRecord } from '../../src/protocol/events.js';
import { describeStop } from '../../src/cli/format/pretty.js';
import { attach } from '../../src/attach/attach.js';
import { cleanup, launchApp, waitForSocket, type Preload } from './fixture-app.js';

const clients = new Set<AgentClient>();
/** Starting a pool under the preload takes seconds on a loaded machine. */
const LAUNCH_MS = 30_000;
/**
 * The overload budget, out of the way where a worker's own end would fail the test: a
 * worker's first calls (code compiled in a fresh isolate) on a loaded machine passed 50 ms
 * in a second and ended the session there ('overload' in one of 8 Node 22 runs).
 */
const UNLOADED = 1000;

afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  await cleanup();
});

/** Reads `records` until `done` says so; returns the calls seen. */
/** The calls until `done` says enough; a session that ends first fails with how it ended (its stopped record). */
async function callsUntil(records: AsyncIterator<SessionRecord>, done: (calls: CallEvent[]) => boolean, waitMs = 30_000): Promise<CallEvent[]> {
  const calls: CallEvent[] = [];
  let last: SessionRecord | undefined;
  const deadline = Date.now() + waitMs;
  for (;;) {
    // A wait that never ends says what it saw (which threads' calls came), not only that the test timed out.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const threads = [...new Set(calls.map((c) => c.thread))].join(',');
        reject(new Error(`not seen in ${waitMs} ms what the test waits for, after ${calls.length} calls (threads ${threads}); last record: ${JSON.stringify(last)}`));
      }, Math.max(0, deadline - Date.now()));
    });
    const next = await Promise.race([records.next(), late]).finally(() => clearTimeout(timer));
    if (next.done) throw new Error(`the session ended after ${calls.length} calls, before the test saw what it waits for: ${JSON.stringify(last)}`);
    last = next.value;
    if (next.value.type === 'call') calls.push(next.value);
    if (done(calls)) return calls;
  }
}

describe('worker threads', () => {
  for (const preload of ['require', 'import', 'node-options-require', 'attached'] satisfies (Preload | 'attached')[]) {
    const what = 'every worker, one started after the trace too';
    it(`traces calls in ${what} (${preload})`, async () => {
      const app =
        preload === 'attached'
          ? await launchApp('pool.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'], timeoutMs: LAUNCH_MS })
          : await launchApp('pool.cjs', { preload, timeoutMs: LAUNCH_MS });
      if (preload === 'attached') await attach(app.pid, { socketDir: app.socketDir });
      const firstWorkers = app.lines.filter((l) => l.startsWith('worker ')).map((l) => Number(l.split(' ')[1]));
      expect(firstWorkers).toHaveLength(2);
      await waitForSocket(app.socketPath);
      const client = await connect(app.pid, { socketDir: app.socketDir });
      clients.add(client);
      // The task module loads in the workers only: the main thread waits for it.
      const session = await client.trace('lib/tasks:square', { max: 10_000, rate: false, waitForModules: true, overloadMsPerSec: UNLOADED });
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
      // Attached without the preload, the agent loads itself into a worker started after
      // the trace began once Node has set up its module system (threads/inject.ts).
      const after = await callsUntil(records, (calls) => threadsOf(calls).has(late));
      expect(threadsOf(after).has(late)).toBe(true);
      await session.stop();
    }, 60_000);
  }
});

/** Reads `records` to the session's end. */
async function allRecords(records: AsyncIterator<SessionRecord>): Promise<SessionRecord[]> {
  const all: SessionRecord[] = [];
  for (;;) {
    const next = await records.next();
    if (next.done) return all;
    all.push(next.value);
  }
}

describe("worker threads' stop reasons and drops", () => {
  /** pool.cjs under the preload, with a client; `square` runs in its two workers only. */
  async function pool(): Promise<{ client: AgentClient; workers: number[] }> {
    const app = await launchApp('pool.cjs', { preload: 'require', timeoutMs: LAUNCH_MS });
    await waitForSocket(app.socketPath);
    const client = await connect(app.pid, { socketDir: app.socketDir });
    clients.add(client);
    return { client, workers: app.lines.filter((l) => l.startsWith('worker ')).map((l) => Number(l.split(' ')[1])) };
  }

  it('counts max across threads and lists each worker in the stopped record', async () => {
    const { client, workers } = await pool();
    const session = await client.trace('lib/tasks:square', { max: 10, rate: false, waitForModules: true });
    const records = await allRecords(session[Symbol.asyncIterator]());
    const stopped = records.at(-1) as StoppedRecord;
    expect(stopped).toMatchObject({ type: 'stopped', reason: 'max' });
    expect(records.filter((r) => r.type === 'call')).toHaveLength(10);
    expect(stopped.stats.reported).toBe(10);
    // The workers' calls are the session's (the main thread never runs square).
    expect(stopped.stats.calls).toBeGreaterThanOrEqual(10);
    // Each worker that ran the session by then (one may have had no call yet: it may not be listed).
    const threads = [...new Set(records.flatMap((r) => (r.type === 'call' ? [r.thread] : [])))];
    for (const thread of threads) expect(stopped.threads?.map((t) => t.thread)).toContain(thread);
    for (const end of stopped.threads!) expect(workers).toContain(end.thread);
    expect(stopped.stats.calls).toBe(stopped.threads!.reduce((sum, t) => sum + t.calls, 0));
  }, 60_000);

  it("sums the workers' rate drops into the session's dropped records and stats", async () => {
    const { client, workers } = await pool();
    const session = await client.trace('lib/tasks:square', { rate: '1/1s', max: 10_000, waitForModules: true });
    const iterator = session[Symbol.asyncIterator]();
    const seen: SessionRecord[] = [];
    // The workers drop about 24 calls a second each; the main thread tells them once a
    // second. Each worker runs the session once it has heard of it: until a call of each
    // came, one may not have reported yet.
    const threadsSeen = new Set<number>();
    for (let dropped = false; !dropped || !workers.every((t) => threadsSeen.has(t)); ) {
      const next = await iterator.next();
      if (next.done) throw new Error('the session ended early');
      seen.push(next.value);
      if (next.value.type === 'call') threadsSeen.add(next.value.thread);
      if (next.value.type === 'dropped' && next.value.reason === 'rate') dropped = true;
    }
    await session.stop();
    const records = [...seen, ...(await allRecords(iterator))];
    const stopped = records.at(-1) as StoppedRecord;
    expect(stopped.reason).toBe('user');
    const told = records.filter((r): r is DroppedRecord => r.type === 'dropped' && r.reason === 'rate').reduce((sum, r) => sum + r.count, 0);
    expect(stopped.stats.dropped.rate).toBeGreaterThan(0);
    expect(told).toBe(stopped.stats.dropped.rate);
    const threads = stopped.threads!;
    expect(threads.map((t) => t.thread).sort()).toEqual(workers.sort());
    expect(threads.reduce((sum, t) => sum + t.dropped.rate, 0)).toBe(stopped.stats.dropped.rate);
    // Every call that passed the pattern was reported or dropped.
    expect(stopped.stats.calls).toBe(stopped.stats.reported + stopped.stats.dropped.rate);
  }, 60_000);

  it("reports a worker's own end (a rate trip) in a note and in the stop line's record, and goes on", async () => {
    const { client, workers } = await pool();
    const session = await client.trace('lib/tasks:square', { rate: '1/1s', trip: true, max: 10_000, waitForModules: true });
    const iterator = session[Symbol.asyncIterator]();
    const notes: NoteRecord[] = [];
    while (notes.length < workers.length) {
      const next = await iterator.next();
      if (next.done) throw new Error('the session ended early');
      if (next.value.type === 'note' && next.value.kind === 'thread-stopped') notes.push(next.value);
    }
    for (const note of notes) expect(note.message).toMatch(/^the session stopped in thread \d+: rate over 1\/1s \(--trip\) \(rate\); the other threads go on$/);
    expect(session.stopped).toBeUndefined();
    await session.stop();
    const stopped = (await allRecords(iterator)).at(-1) as StoppedRecord;
    expect(stopped.reason).toBe('user');
    expect(stopped.threads!.map((t) => t.reason)).toEqual(workers.map(() => 'rate'));
    expect(describeStop(stopped)).toMatch(/, ended earlier in threads \d+ \(rate\), \d+ \(rate\)$/);
  }, 60_000);
});

describe('a worker started from code', () => {
  it('traces calls in a worker started with eval: true (its argv[1] is not a path)', async () => {
    const worker = `const tasks = require(require('node:path').resolve('lib/tasks.cjs')); setInterval(() => tasks.square(3), 20); require('node:worker_threads').parentPort.postMessage(0)`;
    const code = `const { Worker } = require('node:worker_threads'); const w = new Worker(${JSON.stringify(worker)}, { eval: true }); w.unref(); w.once('message', () => console.log('ready ' + process.pid + ' ' + w.threadId)); setInterval(() => {}, 1000)`;
    const app = await launchApp(['-e', code], { preload: 'require', timeoutMs: LAUNCH_MS });
    const thread = Number(app.lines.find((l) => l.startsWith('ready '))!.split(' ')[2]);
    await waitForSocket(app.socketPath);
    const client = await connect(app.pid, { socketDir: app.socketDir });
    clients.add(client);
    const session = await client.trace('lib/tasks:square', { max: 10_000, rate: false, waitForModules: true, overloadMsPerSec: UNLOADED });
    const calls = await callsUntil(session[Symbol.asyncIterator](), (seen) => seen.length >= 3);
    for (const call of calls) expect(call).toMatchObject({ fn: 'lib/tasks.cjs:square', thread, value: 9 });
    await session.stop();
  }, 60_000);
});

describe('attached: a worker pool started after the trace began', () => {
  it('traces every worker of the pool, started all at once, and harms none', async () => {
    const app = await launchApp('late-pool.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'], env: { POOL_SIZE: '4' }, timeoutMs: LAUNCH_MS });
    await attach(app.pid, { socketDir: app.socketDir });
    const client = await connect(app.pid, { socketDir: app.socketDir });
    clients.add(client);
    // No worker yet: the task module loads in the workers only.
    const session = await client.trace('lib/tasks:square', { max: 100_000, rate: false, waitForModules: true, overloadMsPerSec: UNLOADED });
    const records = session[Symbol.asyncIterator]();
    for (const batch of [1, 2]) {
      let from = app.lines.length;
      process.kill(app.pid, 'SIGUSR2');
      const workers: number[] = [];
      while (workers.length < 4) {
        const line = await app.stdout.waitForLine(/^worker(?:-\w+)? (\d+)/, { from, timeoutMs: 20_000 });
        expect(line.match[0], `batch ${batch}`).toMatch(/^worker \d+$/);
        workers.push(Number(line.match[1]));
        from = line.index + 1;
      }
      const calls = await callsUntil(records, (seen) => workers.every((t) => seen.some((c) => c.thread === t)));
      for (const thread of workers) expect(calls.some((c) => c.thread === thread && c.fn === 'lib/tasks.cjs:square')).toBe(true);
    }
    await session.stop();
    expect(app.lines.filter((line) => /^worker-(error|exit)/.test(line))).toEqual([]);
    expect(app.child.exitCode).toBeNull();
  }, 90_000);
});
