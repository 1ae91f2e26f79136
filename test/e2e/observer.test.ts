/**
 * The observer commands end to end: `info` on a preloaded process and on a plain one (it
 * attaches, as trace does), `get` printing a value and refusing with a code.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, tempDir } from '../integration/fixture-app.js';
import { killClis, runCli } from './cli-process.js';

afterEach(killClis);
afterAll(cleanup);

describe('livetrace info', () => {
  it('prints a snapshot over the interval, and JSON with --json', async () => {
    const socketDir = tempDir();
    const app = await launchApp('timer.cjs', { preload: 'require', socketDir });
    const text = await runCli(['info', String(app.pid), '--interval', '300ms'], { socketDir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^process ${app.pid} {2}node ${process.version.replaceAll('.', '\\.')} `));
    expect(text.stdout).toMatch(/^ {2}cpu +user \S+ {2}system \S+ {2}\d+\.\d% over \d+ms$/m);
    expect(text.stdout).toMatch(/^ {2}loop +utilization \d+\.\d% {2}delay p50 /m);
    expect(text.stdout).toMatch(/^ {2}handles +.*Timeout 1/m);
    expect(text.stdout).toMatch(/^ {2}cost +\d+µs/m);
    const json = await runCli(['info', String(app.pid), '--json', '--interval', '200ms'], { socketDir });
    const info = JSON.parse(json.stdout) as { pid: number; intervalMs: number; costUs: number };
    expect(info.pid).toBe(app.pid);
    expect(info.intervalMs).toBeGreaterThanOrEqual(150);
    expect(info.costUs).toBeGreaterThanOrEqual(0);
    const bad = await runCli(['info', String(app.pid), '--interval', 'soon'], { socketDir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/LT_OPTION_INVALID/);
  });

  it('attaches to a process started without livetrace, or refuses with --no-attach', async () => {
    const socketDir = tempDir();
    // The user's case: SIGUSR1 opens the inspector on the default port 9229. The suite's other
    // attaches start their targets with --inspect-port=0, so none competes for 9229 with this
    // one (it once failed with LT_ATTACH_PORT_TAKEN while another file's attach held it), and
    // an attach of another CLI of this user would be waited for (the port lock, attach/lock.ts).
    const plain = await launchApp('timer.cjs', { preload: 'none', socketDir });
    const refused = await runCli(['info', String(plain.pid), '--no-attach'], { socketDir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/LT_NO_AGENT/);
    const result = await runCli(['info', String(plain.pid), '--interval', '200ms'], { socketDir, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/attached to process/);
    expect(result.stdout).toMatch(new RegExp(`^process ${plain.pid} `));
  });
});

describe('livetrace get', () => {
  it('prints the value at a path, and refuses a getter with LT_GET_UNSAFE', async () => {
    const socketDir = tempDir();
    const app = await launchApp('observer/state.cjs', { preload: 'require', socketDir });
    const result = await runCli(['get', String(app.pid), 'observer/state:config.db'], { socketDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('observer/state.cjs:config.db =\n{port: 5432}\n');
    const json = await runCli(['get', String(app.pid), 'observer/state:tags', '--json'], { socketDir });
    expect(JSON.parse(json.stdout)).toMatchObject({ path: 'observer/state.cjs:tags', value: { $: 'set', size: 3 } });
    const refused = await runCli(['get', String(app.pid), 'observer/state:counted.value'], { socketDir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/\[LT_GET_UNSAFE\]/);
  });
});
