/**
 * The info op against real processes with known ground truth: a heap that grows by 50 MiB,
 * a loop blocked half the time, a known set of handles. Thresholds only bound from the
 * side a loaded machine cannot cross (a blocked loop never looks less blocked).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { attach } from '../../src/attach/attach.js';
import { connect, type AgentClient } from '../../src/client/index.js';
import type { ProcessInfo } from '../../src/protocol/messages.js';
import { cleanup, launchApp, repoRoot, waitForSocket, type RunningApp } from './fixture-app.js';

const clients = new Set<AgentClient>();

afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  await cleanup();
});

async function open(script: string): Promise<{ app: RunningApp; client: AgentClient }> {
  const app = await launchApp(script, { preload: 'require' });
  await waitForSocket(app.socketPath);
  const client = await connect(app.pid, { socketDir: app.socketDir });
  clients.add(client);
  return { app, client };
}

/** An info covering at least `ms` after the previous one. */
async function after(client: AgentClient, ms: number): Promise<ProcessInfo> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return client.info();
}

const MiB = 1024 * 1024;

describe('info', () => {
  it('starts sampling on the first request (no interval figures yet), then reports over the interval', async () => {
    const { app, client } = await open('timer.cjs');
    const first = await client.info();
    expect(first).toMatchObject({ pid: app.pid, node: process.version, intervalMs: null, gc: null, loop: { utilization: null, delay: null } });
    expect(first.cpu.percent).toBeNull();
    expect(first.execArgv).toEqual(['--require', expect.stringMatching(/register\.js$/)]);
    expect(first.memory.spaces.map((s) => s.name)).toContain('old_space');
    expect(first.memory.heapLimit).toBeGreaterThan(first.memory.heapTotal);
    expect(first.modules.cjs).toBeGreaterThanOrEqual(3);
    expect(first.sessions).toBe(0);
    expect(first.costUs).toBeGreaterThanOrEqual(0);
    const second = await after(client, 300);
    expect(second.intervalMs).toBeGreaterThanOrEqual(250);
    expect(second.cpu.percent).toBeGreaterThanOrEqual(0);
    expect(second.loop.utilization).toBeGreaterThan(0);
    expect(second.loop.delay?.resolutionMs).toBe(10);
    expect(second.gc).not.toBeNull();
    const light = await client.info({ light: true });
    expect(light.memory.spaces).toEqual([]);
    expect(light.resources).toEqual({});
    expect(light.memory.heapUsed).toBeGreaterThan(0);
  });

  it('sees a 50 MiB allocation in heapUsed and rss', async () => {
    const { app, client } = await open('observer/alloc.cjs');
    const before = await client.info();
    app.child.kill('SIGUSR2');
    await app.waitForLine(/^allocated 1/);
    const later = await client.info();
    expect(later.memory.heapUsed - before.memory.heapUsed).toBeGreaterThan(45 * MiB);
    expect(later.memory.heapUsed - before.memory.heapUsed).toBeLessThan(80 * MiB);
    expect(later.memory.rss - before.memory.rss).toBeGreaterThan(40 * MiB);
    const large = later.memory.spaces.find((s) => s.name === 'large_object_space')!;
    expect(large.used - before.memory.spaces.find((s) => s.name === 'large_object_space')!.used).toBeGreaterThan(45 * MiB);
  });

  it('sees a loop blocked 50 ms of every 100 ms in its delay and utilization', async () => {
    const { client } = await open('observer/busy.cjs');
    await client.info();
    const info = await after(client, 1000);
    expect(info.loop.delay!.p99).toBeGreaterThanOrEqual(50);
    expect(info.loop.delay!.max).toBeGreaterThanOrEqual(50);
    expect(info.loop.utilization).toBeGreaterThanOrEqual(0.4);
    // CPU % is not asserted: a busy-wait descheduled on a loaded machine burns less than it blocks.
    expect(info.cpu.percent).toBeGreaterThan(0);
  });

  it('counts active resources by type: three timers, a server, four sockets', async () => {
    const { client } = await open('observer/handles.cjs');
    const info = await client.info();
    expect(info.resources).toMatchObject({ Timeout: 3, TCPServerWrap: 1, TCPSocketWrap: 4 });
  });

  it('lists the worker threads with their own loop utilization (a busy one about half, an idle one near 0), none of livetrace own', async () => {
    const { app, client } = await open('observer/workers.cjs');
    const ready = await app.waitForLine(/^ready \d+ (\d+) (\d+)/);
    const busy = Number(ready.match[1]);
    const idle = Number(ready.match[2]);
    const first = await client.info();
    expect(first.workers?.map((w) => w.threadId).sort()).toEqual([busy, idle].sort());
    expect(first.workers?.every((w) => w.sinceStart)).toBe(true);
    const second = await after(client, 1000);
    const byId = new Map(second.workers?.map((w) => [w.threadId, w]));
    expect(byId.get(busy)).toMatchObject({ title: `[worker ${busy}] busy-worker`, sinceStart: false });
    expect(byId.get(busy)!.utilization).toBeGreaterThan(0.3);
    expect(byId.get(idle)!.utilization).toBeLessThan(0.2);
    // A light info (top's) does not ask for them.
    expect((await client.info({ light: true })).workers).toBeNull();
  });
});

describe('worker threads without the inspector worker', () => {
  it('follows a worker the program starts and ends from the main thread: named, read from this side even when its loop is stuck in Atomics.wait', async () => {
    const { app, client } = await open('observer/late-worker.cjs');
    expect((await client.info()).workers).toEqual([]);
    app.child.kill('SIGUSR2');
    const threadId = Number((await app.waitForLine(/^started (\d+)/)).match[1]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await client.info();
    expect(first.workers).toEqual([{ threadId, title: `[worker ${threadId}] late`, url: expect.any(String), utilization: expect.any(Number), sinceStart: true }]);
    // The inspector could not ask a loop in Atomics.wait (it would be 'no answer', null);
    // the Worker object's own reading sees it busy.
    const second = await after(client, 300);
    expect(second.workers?.[0]).toMatchObject({ threadId, sinceStart: false });
    expect(second.workers?.[0]?.utilization).toBeGreaterThan(0.9);
    app.child.kill('SIGUSR2');
    await app.waitForLine(/^stopped/);
    expect((await client.info()).workers).toEqual([]);
  });

  it('lists the workers of a process attached to after they started (the inspector names and reads them)', async () => {
    const app = await launchApp('observer/workers.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'], ready: /^ready \d+ \d+ \d+/ });
    const ready = await app.waitForLine(/^ready \d+ (\d+) (\d+)/);
    await attach(app.pid, { socketDir: app.socketDir });
    const client = await connect(app.pid, { socketDir: app.socketDir });
    clients.add(client);
    const ids = [Number(ready.match[1]), Number(ready.match[2])].sort();
    for (let i = 0; i < 3; i++) {
      const info = await client.info();
      expect(info.workers?.map((w) => w.threadId).sort()).toEqual(ids);
      expect(info.workers?.map((w) => w.title).sort()).toEqual([`[worker ${ready.match[1]}] busy-worker`, `[worker ${ready.match[2]}] idle-worker`].sort());
    }
  });
});

describe('the sampler', () => {
  it('never keeps a process alive: a process whose only work is a running sampler exits', async () => {
    const sampler = pathToFileURL(join(repoRoot, 'dist/esm/agent/observer/sampler.js')).href;
    const app = await launchApp(['-e', `import(${JSON.stringify(sampler)}).then(({ Sampler }) => { new Sampler(); console.log('sampling'); })`], {
      preload: 'none',
      ready: /^sampling$/,
    });
    expect(await app.exited).toMatchObject({ code: 0 });
  });
});
