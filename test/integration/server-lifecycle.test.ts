/**
 * The agent in real processes: every preload form, the socket's place and modes, exit
 * behaviour (the app exits exactly when it would, with its own status), socket removal,
 * stale files, unsafe directories, and the library start/stop shared by both builds.
 */
import { chmodSync, chownSync, existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, rawPeer, tempDir, waitForSocket, type Preload } from './fixture-app.js';

afterEach(cleanup);

const forms: Array<{ preload: Preload; app: string }> = [
  { preload: 'import', app: 'timer.mjs' },
  { preload: 'require', app: 'timer.cjs' },
  { preload: 'node-options-import', app: 'timer.mjs' },
  { preload: 'node-options-require', app: 'timer.cjs' },
  { preload: 'import', app: 'timer.cjs' },
  { preload: 'require', app: 'timer.mjs' },
];

describe('preloaded agent', () => {
  it.each(forms)('$preload $app: private socket, silent, exits when the app does, socket removed', async ({ preload, app }) => {
    // A directory that does not exist yet: the agent creates it 0700.
    const socketDir = join(tempDir(), 'sockets');
    const running = await launchApp(app, { preload, socketDir, env: { FIXTURE_TICKS: '15' } });
    await waitForSocket(running.socketPath);
    const peer = await rawPeer(running.socketPath);
    const hello = await peer.hello();
    expect(hello).toMatchObject({ ok: true, agent: { pid: running.pid } });
    expect(lstatSync(socketDir).mode & 0o777).toBe(0o700);
    const socket = lstatSync(running.socketPath);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);

    // The connected peer must not keep the app alive (how soon it exits: server-lifecycle.perf.test.ts).
    await running.waitForLine(/^done/);
    const exit = await running.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(existsSync(running.socketPath)).toBe(false);
    expect(running.lines).toEqual([`ready ${running.pid}`, `done ${running.pid}`]);
    expect(running.stderr()).toBe('');
    await peer.closed;
  });

  it('lets an empty program exit, with no output and no socket left', async () => {
    const socketDir = tempDir();
    for (const preload of ['import', 'require'] as const) {
      const run = await launchApp(['-e', ''], { preload, socketDir, ready: null });
      const exit = await run.exited;
      expect(exit.code).toBe(0);
      expect(run.lines).toEqual([]);
      expect(run.stderr()).toBe('');
      expect(existsSync(run.socketPath)).toBe(false);
    }
  });

  it('keeps the exit status of process.exit() and of an uncaught exception', async () => {
    const exiting = await launchApp(['-e', 'setTimeout(() => process.exit(3), 50)'], { preload: 'require', ready: null });
    expect((await exiting.exited).code).toBe(3);
    expect(existsSync(exiting.socketPath)).toBe(false);
    const throwing = await launchApp(['-e', 'setTimeout(() => { throw new Error("boom") }, 50)'], { preload: 'require', ready: null });
    expect((await throwing.exited).code).toBe(1);
    expect(throwing.stderr()).toContain('boom');
    expect(existsSync(throwing.socketPath)).toBe(false);
  });

  it('keeps the default action of SIGTERM (no signal handler is installed)', async () => {
    const running = await launchApp('timer.cjs', { preload: 'require' });
    await waitForSocket(running.socketPath);
    const exit = await running.kill('SIGTERM');
    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
  });
});

describe('agent log', () => {
  it('LIVETRACE_LOG=<file> writes pino lines there, nothing on stdout or stderr', async () => {
    const file = join(tempDir(), 'logs', 'agent.log');
    const running = await launchApp('timer.cjs', { preload: 'require', env: { FIXTURE_TICKS: '10', LIVETRACE_LOG: file } });
    await running.exited;
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toContainEqual(expect.objectContaining({ name: 'livetrace', pid: running.pid, msg: 'agent listening', level: 20 }));
    expect(running.stderr()).toBe('');
    expect(running.lines).toEqual([`ready ${running.pid}`, `done ${running.pid}`]);
  });
});

describe('socket directory checks', () => {
  async function refused(socketDir: string): Promise<string> {
    const running = await launchApp('timer.cjs', {
      preload: 'require',
      socketDir,
      env: { FIXTURE_TICKS: '10', LIVETRACE_LOG: 'debug' },
    });
    await running.waitForLine(/^done/);
    expect((await running.exited).code).toBe(0);
    expect(existsSync(running.socketPath)).toBe(false);
    return running.stderr();
  }

  it('refuses a directory open to the group or the world, and says so in the log only', async () => {
    const socketDir = tempDir();
    chmodSync(socketDir, 0o755);
    const log = await refused(socketDir);
    expect(log).toContain('LT_SOCKET_DIR_UNSAFE');
    expect(log).toContain('0755');
    expect(lstatSync(socketDir).mode & 0o777).toBe(0o755);
    // Without LIVETRACE_LOG the refusal is silent.
    const quiet = await launchApp('timer.cjs', { preload: 'require', socketDir, env: { FIXTURE_TICKS: '3' } });
    await quiet.exited;
    expect(quiet.stderr()).toBe('');
  });

  it('refuses a symbolic link to a private directory', async () => {
    const real = tempDir();
    const link = join(tempDir(), 'link');
    symlinkSync(real, link);
    expect(await refused(link)).toContain('symbolic link');
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a directory owned by another uid (needs root to make one)', async () => {
    const socketDir = tempDir();
    chownSync(socketDir, 12345, 12345);
    expect(await refused(socketDir)).toContain('owned by uid 12345');
  });

  it('refuses a file where the directory should be', async () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, '');
    expect(await refused(file)).toContain('not a directory');
  });
});

describe('library start and stop', () => {
  it('shares one agent between the ESM and CJS builds, replaces a stale file, stops and restarts', async () => {
    const running = await launchApp('library-agent.mjs', { preload: 'none' });
    const steps = running.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    const [started, stopped, restarted] = steps;
    expect(started.esm).toEqual(started.cjs);
    expect(started.esm).toMatchObject({ pid: running.pid, listening: true, socketPath: running.socketPath });
    expect(stopped).toEqual({ step: 'stopped', socketExists: false });
    expect(restarted.info).toMatchObject({ listening: true, socketPath: running.socketPath });
    const peer = await rawPeer(running.socketPath);
    expect(await peer.hello()).toMatchObject({ ok: true, agent: { pid: running.pid } });
    expect(lstatSync(running.socketPath).isSocket()).toBe(true);
  });
});
