/**
 * `livetrace top --once --json` lists a plain and a preloaded process: /proc figures for
 * both, heap and loop figures only for the one with an agent, and no agent loaded into the
 * plain one.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, tempDir } from '../integration/fixture-app.js';
import { killClis, runCli } from './cli-process.js';

afterEach(killClis);
afterAll(cleanup);

interface Entry {
  pid: number;
  name: string;
  cpuPercent: number | null;
  rssBytes: number;
  agent: boolean;
  heapUsed: number | null;
  loopUtilization: number | null;
}

describe('livetrace top --once', () => {
  it('lists plain and preloaded Node processes, with agent figures only where an agent is, and attaches to nothing', async () => {
    const socketDir = tempDir();
    const preloaded = await launchApp('timer.cjs', { preload: 'require', socketDir });
    const plain = await launchApp('observer/busy.cjs', { preload: 'none', socketDir });
    const result = await runCli(['top', '--once', '--json'], { socketDir, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const entries = JSON.parse(result.stdout) as Entry[];
    const withAgent = entries.find((e) => e.pid === preloaded.pid);
    const without = entries.find((e) => e.pid === plain.pid);
    expect(withAgent).toMatchObject({ name: 'timer.cjs', agent: true });
    expect(withAgent!.heapUsed).toBeGreaterThan(1024 * 1024);
    expect(withAgent!.loopUtilization).toBeGreaterThan(0);
    expect(withAgent!.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(without).toMatchObject({ name: 'busy.cjs', agent: false, heapUsed: null, loopUtilization: null });
    expect(without!.cpuPercent).toBeGreaterThan(0);
    expect(without!.rssBytes).toBeGreaterThan(1024 * 1024);
    const ps = await runCli(['ps', '--agents', '--json'], { socketDir });
    expect((JSON.parse(ps.stdout) as { pid: number }[]).map((p) => p.pid)).toEqual([preloaded.pid]);

    const table = await runCli(['top', '--once'], { socketDir, timeoutMs: 30_000 });
    expect(table.stdout).toMatch(/^ *PID +CPU% +RSS +HEAP +LOOP% {2}DELAY99 {2}NAME$/m);
    expect(table.stdout).toMatch(new RegExp(`^ *${plain.pid} +\\d+\\.\\d +\\S+ +- +- +- {2}busy\\.cjs$`, 'm'));
    const interactive = await runCli(['top'], { socketDir });
    // Off a terminal the interactive view refuses (the CLI's stdin here is /dev/null).
    expect(interactive.code).toBe(2);
  });
});
