/**
 * What one `livetrace info` costs the target (npm run test:perf; docs/observer.md, "What one
 * info costs the target"): the bound is under a millisecond of the process's CPU.
 * A client asks for 500 infos on one connection after a first one; the target's CPU, all
 * threads, comes from /proc/<pid>/stat before and after (10 ms ticks, 2.5 s of resolution
 * over the run at the bound). CPU time, not wall time, so a loaded machine moves it little.
 * Linux only (/proc). The one case known to cost more (workers started before an attach,
 * which only the inspector can read: 1.3-1.6 ms) is not bounded here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type AgentClient } from '../../src/client/index.js';
import { cleanup, launchApp, waitForSocket } from './fixture-app.js';

const ROUNDS = 500;
const clients = new Set<AgentClient>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  await cleanup();
});

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function perInfo(pid: number, socketDir: string, light: boolean): Promise<number> {
  const client = await connect(pid, { socketDir });
  clients.add(client);
  await client.info({ light });
  const before = cpuMs(pid);
  for (let i = 0; i < ROUNDS; i++) await client.info({ light });
  return (cpuMs(pid) - before) / ROUNDS;
}

describe.skipIf(!existsSync('/proc/self/stat'))('the cost of one info to the target', () => {
  it('is under a millisecond of CPU for a full info, and less for a light one, without workers', async () => {
    const app = await launchApp('timer.cjs', { preload: 'require' });
    await waitForSocket(app.socketPath);
    const full = await perInfo(app.pid, app.socketDir, false);
    const light = await perInfo(app.pid, app.socketDir, true);
    expect(full, `full info ${full} ms`).toBeLessThan(1);
    expect(light, `light info ${light} ms`).toBeLessThan(1);
  });

  it('is under a millisecond of CPU for a full info listing two workers started after the agent', async () => {
    const app = await launchApp('observer/idle-workers.cjs', { preload: 'require', ready: /^ready \d+/ });
    await waitForSocket(app.socketPath);
    const client = await connect(app.pid, { socketDir: app.socketDir });
    clients.add(client);
    expect((await client.info()).workers?.map((w) => w.title.replace(/^\[worker \d+\] /, '')).sort()).toEqual(['idle-a', 'idle-b']);
    const full = await perInfo(app.pid, app.socketDir, false);
    expect(full, `full info ${full} ms`).toBeLessThan(1);
  });
});
