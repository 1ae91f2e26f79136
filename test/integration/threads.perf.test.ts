/**
 * How soon a worker started after an attached trace began is traced (npm run test:perf;
 * run it with each supported Node: on Node 24 a worker's inspector answer was once seen
 * to reach the main thread 10 to 15 s late, threads/inject.ts). A pool of four workers
 * starts at once, twice; the median worker's first traced call must arrive within 1 s of the
 * worker's `worker <id>` line (any one within 3 s) (it runs a task every 40 ms from then on). threads.test.ts
 * checks that every worker is traced at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { attach } from '../../src/attach/attach.js';
import { connect, type AgentClient } from '../../src/client/index.js';
import { cleanup, launchApp } from './fixture-app.js';

const clients = new Set<AgentClient>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  await cleanup();
});

describe('worker threads started after an attached trace', () => {
  it('traces the workers of a pool within 1 s of their start (median)', async () => {
    const app = await launchApp('late-pool.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'], env: { POOL_SIZE: '4' } });
    await attach(app.pid, { socketDir: app.socketDir });
    const client = await connect(app.pid, { socketDir: app.socketDir });
    clients.add(client);
    const session = await client.trace('lib/tasks:square', { max: 1_000_000, rate: false, waitForModules: true });
    const firstCall = new Map<number, number>();
    const reading = (async () => {
      for await (const record of session) if (record.type === 'call' && !firstCall.has(record.thread)) firstCall.set(record.thread, performance.now());
    })();
    const lags: number[] = [];
    for (let batch = 0; batch < 2; batch++) {
      let from = app.lines.length;
      process.kill(app.pid, 'SIGUSR2');
      const online = new Map<number, number>();
      while (online.size < 4) {
        const line = await app.stdout.waitForLine(/^worker (\d+)$/, { from, timeoutMs: 20_000 });
        online.set(Number(line.match[1]), line.at);
        from = line.index + 1;
      }
      const deadline = performance.now() + 20_000;
      while ([...online.keys()].some((t) => !firstCall.has(t)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const [thread, at] of online) lags.push(firstCall.has(thread) ? firstCall.get(thread)! - at : Infinity);
    }
    await session.stop();
    await reading;
    console.log(`threads ${process.version}: first traced call after the worker's start, ms: ${lags.map((ms) => Math.round(ms)).join(' ')}`);
    // The target on the median; any one worker within 3 s, since a worker's first session
    // start is CPU work (the thread agent's modules, the first trace) that a shared
    // two-core machine can delay.
    const sorted = [...lags].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(1000);
    for (const lag of lags) expect(lag).toBeLessThan(3000);
  }, 90_000);
});
