/**
 * The dashboard's two backends against real processes: the remote one (the command's)
 * lists a fixture app, watches its info and traces it over the socket; the local one (the
 * mounted handler's) does the same in this very process through the library.
 */
import { createRequire } from 'node:module';
import { get } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/dashboard/local/backend.js';
import { RemoteBackend } from '../../src/dashboard/remote/backend.js';
import type { LiveSession } from '../../src/dashboard/server/backend.js';
import type { SessionRecord } from '../../src/protocol/events.js';
import { appsDir, cleanup, launchApp, tempDir } from './fixture-app.js';

afterAll(cleanup);

async function collect(session: LiveSession, until: (records: SessionRecord[]) => boolean): Promise<SessionRecord[]> {
  const records: SessionRecord[] = [];
  for await (const record of session.records()) {
    records.push(record);
    if (until(records)) break;
  }
  return records;
}

function hit(url: string): Promise<void> {
  return new Promise((resolve, reject) => get(url, (res) => res.resume().on('end', resolve)).on('error', reject));
}

describe('RemoteBackend', () => {
  it('lists the app, watches its info, traces it, and rejects a pattern that matches nothing', async () => {
    const socketDir = tempDir();
    const app = await launchApp(['dashboard/mounted.cjs', 'http'], { preload: 'require', socketDir, ready: /^ready \d+ \d+/, timeoutMs: 20_000 });
    const port = /^ready \d+ (\d+)/.exec(app.lines.find((line) => line.startsWith('ready'))!)![1]!;
    const backend = new RemoteBackend({ socketDir });
    const rows = await backend.processes();
    const row = rows.find((r) => r.pid === app.pid);
    expect(row).toMatchObject({ reach: 'agent', name: 'mounted.cjs', cpuPercent: null });
    expect((await backend.processes()).find((r) => r.pid === app.pid)!.cpuPercent).not.toBeNull();
    const watch = await backend.watchInfo(app.pid, { attach: false });
    expect((await watch.read()).intervalMs).toBeNull();
    expect((await watch.read()).intervalMs).not.toBeNull();
    await watch.close();
    const session = await backend.trace(app.pid, ['dashboard/work:add'], { max: 2 });
    await hit(`http://127.0.0.1:${port}/work?n=3`);
    const records = await collect(session, (r) => r.at(-1)?.type === 'stopped');
    expect(records.filter((r) => r.type === 'call')).toHaveLength(2);
    expect(records.at(-1)).toMatchObject({ type: 'stopped', reason: 'max' });
    await session.stop();
    await expect(backend.trace(app.pid, ['dashboard/work:nothing'], {})).rejects.toMatchObject({ code: 'LT_PATTERN_NO_MATCH' });
    await backend.close();
    await app.kill();
  }, 40_000);
});

describe('LocalBackend', () => {
  it('shows this process, samples its info, and traces a function of it', async () => {
    createRequire(import.meta.url)(`${appsDir}/dashboard/work.cjs`);
    const backend = new LocalBackend();
    const [row] = await backend.processes();
    expect(row).toMatchObject({ pid: process.pid, reach: 'agent' });
    await expect(backend.watchInfo(process.pid + 1)).rejects.toMatchObject({ code: 'LT_PID_NOT_FOUND' });
    const watch = await backend.watchInfo(process.pid);
    expect((await watch.read()).pid).toBe(process.pid);
    expect((await watch.read()).intervalMs).not.toBeNull();
    await watch.close();
    const session = await backend.trace(process.pid, ['**/dashboard/work:add'], { max: 1 });
    const collecting = collect(session, (r) => r.at(-1)?.type === 'stopped');
    createRequire(import.meta.url)(`${appsDir}/dashboard/work.cjs`).add(1, 2);
    const records = await collecting;
    expect(records.find((r) => r.type === 'call')).toMatchObject({ fn: expect.stringMatching(/dashboard\/work\.cjs:add$/), args: [1, 2], value: 3 });
    await backend.close();
  });
});
