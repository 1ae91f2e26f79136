/**
 * Attach against real processes started with plain `node`: the agent gets in and
 * answers, the inspector is closed afterwards, and every refusal comes with its code and
 * exit status and leaves the target running with no inspector open.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attach, ensureAgent } from '../../src/attach/attach.js';
import { portAccepts } from '../../src/attach/inspector.js';
import { portsOf } from '../../src/attach/listeners.js';
import { connect } from '../../src/client/connect.js';
import { freePort, launchAttached, launchPlain, listenOn, plainApps, publicPackageCopy, runCli, type PlainKind } from './attach-harness.js';
import { cleanup, launchApp, tempDir, type RunningApp } from './fixture-app.js';

afterEach(cleanup);

const linux = process.platform === 'linux';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `body` with the pid of `executable ...args` (something idle), killed afterwards. */
async function withProcess(
  executable: string,
  args: string[],
  body: (pid: number) => Promise<void>,
  ids: { uid?: number; gid?: number } = {},
): Promise<void> {
  const child = spawn(executable, args, { stdio: 'ignore', ...ids });
  try {
    await body(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

function inspectorOpenings(app: RunningApp): number {
  return app.stderr().split('Debugger listening on').length - 1;
}

async function expectAgentAnswers(app: RunningApp): Promise<void> {
  const client = await connect(app.pid, { socketDir: app.socketDir });
  try {
    expect(client.agent.pid).toBe(app.pid);
  } finally {
    await client.close();
  }
}

describe('attach to a plain node process', () => {
  it.each<[PlainKind, string]>([
    ['esm', 'a fixed --inspect-port'],
    ['cjs', '--inspect-port=0 (found through /proc)'],
  ])('brings the agent into a %s app started with %s, then closes the inspector', async (kind, how) => {
    const port = how.startsWith('a fixed') || !linux ? await freePort() : 0;
    const app = await launchPlain(kind, { nodeArgs: [`--inspect-port=${port}`] });
    const result = await attach(app.pid, { socketDir: app.socketDir });

    expect(result).toMatchObject({ pid: app.pid, alreadyPresent: false, socketPath: app.socketPath, inspectorLeftOpen: false });
    if (port !== 0) expect(result.inspectorPort).toBe(port);
    expect(result.inspectorPort).toBeGreaterThan(0);
    expect(result.inspectorOpenMs).toBeLessThan(result.ms);
    expect(result.phases.map((phase) => phase.name)).toEqual(['check', 'signal', 'inspector', 'connect', 'verify', 'bootstrap', 'close', 'agent']);
    await expectAgentAnswers(app);
    expect(await portAccepts({ host: '127.0.0.1', port: result.inspectorPort! }, 1000)).toBe(false);
    if (linux) expect(await portsOf(app.pid)).toEqual(new Set());
    expect(alive(app.pid)).toBe(true);
  });

  it('is harmless the second time: the CLI says the agent is already present and sends no signal', async () => {
    const app = await launchPlain('esm', { nodeArgs: ['--inspect-port=0'] });
    const env = { LIVETRACE_SOCKET_DIR: app.socketDir };
    const first = await runCli(['attach', String(app.pid)], { env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^attached to ${app.pid} in \\d+ ms \\(agent socket ${app.socketPath}\\)\\n$`));
    const second = await runCli(['attach', String(app.pid)], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(`agent already present in ${app.pid} (agent socket ${app.socketPath})\n`);
    expect(inspectorOpenings(app)).toBe(1);
    await expectAgentAnswers(app);
  });

  it('three attaches at once: one signals, the others wait for its agent; all succeed', async () => {
    const app = await launchPlain('cjs', { nodeArgs: ['--inspect-port=0'] });
    // In one process, so the three really overlap (three CLIs would start seconds apart).
    const results = await Promise.all([0, 1, 2].map(() => attach(app.pid, { socketDir: app.socketDir, timeoutMs: 15_000 })));
    expect(results.filter((result) => !result.alreadyPresent)).toHaveLength(1);
    for (const result of results) expect(result.socketPath).toBe(app.socketPath);
    expect(inspectorOpenings(app)).toBe(1);
    expect(existsSync(join(app.socketDir, `${app.pid}.attach`))).toBe(false);
    await expectAgentAnswers(app);
  });

  it('two targets on one inspector port attached at once: the second waits for the first to close the port; both succeed', async () => {
    const port = await freePort();
    const apps = await Promise.all([0, 1].map(() => launchPlain('cjs', { nodeArgs: [`--inspect-port=${port}`] })));
    const results = await Promise.all(apps.map((app) => attach(app.pid, { socketDir: app.socketDir, timeoutMs: 20_000 })));
    for (const [i, result] of results.entries()) {
      expect(result.alreadyPresent).toBe(false);
      expect(result.inspectorLeftOpen).toBe(false);
      expect(inspectorOpenings(apps[i]!)).toBe(1);
      await expectAgentAnswers(apps[i]!);
    }
  });

  it('leaves a running trace session alone when attached again, and that session sees calls', async () => {
    const app = await launchAttached([plainApps.cjs]);
    expect(app.attached.alreadyPresent).toBe(false);
    const holder = await connect(app.pid, { socketDir: app.socketDir });
    try {
      const session = await holder.trace('users:findUser', { max: 4 });
      expect(session.started.matched.map((m) => m.engine)).toEqual(['exports']);
      const again = await runCli(['attach', String(app.pid)], { env: { LIVETRACE_SOCKET_DIR: app.socketDir } });
      expect(again.stdout).toBe(`agent already present in ${app.pid} (agent socket ${app.socketPath})\n`);
      expect(again.code).toBe(0);
      expect(await ensureAgent(app.pid, { socketDir: app.socketDir })).toMatchObject({ alreadyPresent: true, socketPath: app.socketPath });
      const calls = [];
      for await (const record of session) if (record.type === 'call') calls.push(record);
      expect(calls).toHaveLength(4);
      expect(session.stopped?.reason).toBe('max');
      expect(inspectorOpenings(app)).toBe(1);
    } finally {
      await holder.close();
    }
  });

  it('closes an inspector an earlier SIGUSR1 left open, but keeps one the process was started with', async () => {
    const sigusr1Port = await freePort();
    const left = await launchPlain('esm', { nodeArgs: [`--inspect-port=${sigusr1Port}`] });
    process.kill(left.pid, 'SIGUSR1');
    while (!(await portAccepts({ host: '127.0.0.1', port: sigusr1Port }, 1000))) await new Promise((r) => setTimeout(r, 5));
    const reused = await attach(left.pid, { socketDir: left.socketDir });
    expect(reused).toMatchObject({ alreadyPresent: false, inspectorPort: sigusr1Port, inspectorLeftOpen: false });
    expect(await portAccepts({ host: '127.0.0.1', port: sigusr1Port }, 1000)).toBe(false);

    const inspectPort = await freePort();
    const debugged = await launchPlain('cjs', { nodeArgs: [`--inspect=${inspectPort}`] });
    const kept = await attach(debugged.pid, { socketDir: debugged.socketDir });
    expect(kept).toMatchObject({ alreadyPresent: false, inspectorPort: inspectPort, inspectorLeftOpen: true });
    expect(await portAccepts({ host: '127.0.0.1', port: inspectPort }, 1000)).toBe(true);
    await expectAgentAnswers(debugged);
  });

  it.runIf(linux)('finds and closes the inspector even when --port names the wrong port', async () => {
    const [actual, wrong] = [await freePort(), await freePort()];
    const app = await launchPlain('cjs', { nodeArgs: [`--inspect-port=${actual}`] });
    const result = await attach(app.pid, { socketDir: app.socketDir, port: wrong });
    expect(result).toMatchObject({ alreadyPresent: false, inspectorPort: actual });
    expect(await portAccepts({ host: '127.0.0.1', port: actual }, 1000)).toBe(false);
    expect(await portsOf(app.pid)).toEqual(new Set());
  });

  it('ensureAgent with attach: false reports LT_NO_AGENT instead of attaching', async () => {
    const app = await launchPlain('esm', { nodeArgs: ['--inspect-port=0'] });
    await expect(ensureAgent(app.pid, { socketDir: app.socketDir, attach: false })).rejects.toMatchObject({ code: 'LT_NO_AGENT' });
    expect(inspectorOpenings(app)).toBe(0);
  });
});

describe('attach refusals: code, exit status, target untouched', () => {
  async function refused(pid: number, code: string, exit: number, extra: string[] = [], env: Record<string, string> = {}, timeoutMs?: number): Promise<void> {
    const run = await runCli(['attach', String(pid), ...extra], { env: { LIVETRACE_SOCKET_DIR: tempDir(), ...env }, timeoutMs });
    expect(run.stderr).toContain(`[${code}]`);
    expect(run.code).toBe(exit);
    expect(run.stdout).toBe('');
  }

  it.runIf(linux)('a process whose SIGUSR1 would kill it (listener added then removed): LT_ATTACH_SIGUSR1_DISABLED, no signal', async () => {
    const app = await launchPlain('cjs', { nodeArgs: ['--inspect-port=0'], env: { PLAIN_SIGUSR1: 'remove' } });
    await refused(app.pid, 'LT_ATTACH_SIGUSR1_DISABLED', 2);
    expect(alive(app.pid)).toBe(true);
    expect(await portsOf(app.pid)).toEqual(new Set());
  });

  const hasDisableFlag = (() => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    return major > 23 || (major === 23 && minor >= 7) || (major === 22 && minor >= 14);
  })();
  it.runIf(hasDisableFlag)('a process started with --disable-sigusr1: LT_ATTACH_SIGUSR1_DISABLED, no signal', async () => {
    const app = await launchPlain('esm', { nodeArgs: ['--disable-sigusr1'] });
    await refused(app.pid, 'LT_ATTACH_SIGUSR1_DISABLED', 2);
    expect(alive(app.pid)).toBe(true);
  });

  it.runIf(linux)('a non-Node executable named node that does not catch SIGUSR1: refused, not killed', async () => {
    const fakeNode = join(tempDir(), 'node');
    copyFileSync('/bin/sleep', fakeNode);
    await withProcess(fakeNode, ['30'], async (pid) => {
      await refused(pid, 'LT_ATTACH_SIGUSR1_DISABLED', 2);
      expect(alive(pid)).toBe(true);
    });
  });

  // The CLI then watches for a late inspector for 30 s (late-inspector.ts): it cannot tell
  // a handler of the app's from a main thread that has not yet handled the signal.
  it('a process that handles SIGUSR1 itself: LT_ATTACH_NO_INSPECTOR after the timeout and the late watch, exit 1', { timeout: 90_000 }, async () => {
    const app = await launchPlain('esm', { nodeArgs: ['--inspect-port=0'], env: { PLAIN_SIGUSR1: 'handle' } });
    await refused(app.pid, 'LT_ATTACH_NO_INSPECTOR', 1, ['--timeout', '700'], {}, 60_000);
    await app.waitForLine(/^got SIGUSR1$/);
    expect(alive(app.pid)).toBe(true);
    if (linux) expect(await portsOf(app.pid)).toEqual(new Set());
  });

  it('a main thread blocked in a system call: LT_ATTACH_NO_INSPECTOR; once it returns, attaching again closes the late inspector', async () => {
    const port = await freePort();
    // 'blocking' is written (synchronously, to a pipe) right before the block starts, so
    // the signal cannot arrive while the main thread is still free.
    const block = "console.log('ready ' + process.pid); setTimeout(() => { console.log('blocking'); require('node:child_process').execSync('sleep 3'); console.log('unblocked'); }, 0); setInterval(() => {}, 1000)";
    const app = await launchApp(['-e', block], { preload: 'none', nodeArgs: [`--inspect-port=${port}`] });
    await app.waitForLine(/^blocking$/);
    await expect(attach(app.pid, { socketDir: app.socketDir, timeoutMs: 500 })).rejects.toMatchObject({ code: 'LT_ATTACH_NO_INSPECTOR' });
    await app.waitForLine(/^unblocked$/);
    const late = await attach(app.pid, { socketDir: app.socketDir });
    expect(late).toMatchObject({ alreadyPresent: false, inspectorPort: port, inspectorLeftOpen: false });
    expect(await portAccepts({ host: '127.0.0.1', port }, 1000)).toBe(false);
  });

  it('an inspector port held by another listener: LT_ATTACH_PORT_TAKEN before any signal', async () => {
    const squatter = await listenOn(0);
    try {
      const port = (squatter.address() as { port: number }).port;
      const app = await launchPlain('cjs', { nodeArgs: [`--inspect-port=${port}`] });
      await refused(app.pid, 'LT_ATTACH_PORT_TAKEN', 2);
      expect(app.stderr()).not.toMatch(/inspector|Debugger/);
      expect(alive(app.pid)).toBe(true);
    } finally {
      squatter.close();
    }
  });

  it('an inspector port the target itself serves something else on: LT_ATTACH_PORT_TAKEN, not signalled', async () => {
    const port = await freePort();
    const serve = `require('node:http').createServer((q, r) => r.end('app')).listen(${port}, '127.0.0.1', () => console.log('ready ' + process.pid))`;
    const app = await launchApp(['-e', serve], { preload: 'none', nodeArgs: [`--inspect-port=${port}`] });
    await refused(app.pid, 'LT_ATTACH_PORT_TAKEN', 2);
    expect(inspectorOpenings(app)).toBe(0);
  });

  it('an inspector that would listen beyond loopback: LT_ATTACH_INSPECTOR_EXPOSED before any signal', async () => {
    const app = await launchPlain('esm', { nodeArgs: [`--inspect-port=0.0.0.0:${await freePort()}`] });
    await refused(app.pid, 'LT_ATTACH_INSPECTOR_EXPOSED', 2);
    expect(inspectorOpenings(app)).toBe(0);
  });

  it('no such pid: LT_PID_NOT_FOUND', async () => {
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.once('exit', resolve));
    await refused(gone.pid!, 'LT_PID_NOT_FOUND', 2);
  });

  it('a process that is not Node: LT_PID_NOT_NODE, and it is not signalled', async () => {
    await withProcess('sleep', ['30'], async (pid) => {
      await refused(pid, 'LT_PID_NOT_NODE', 2);
      expect(alive(pid)).toBe(true);
    });
  });

  it('a process of another user: LT_PID_OTHER_USER', async () => {
    if (process.getuid?.() === 0) {
      // As root, run the CLI as nobody against our own target, from a copy everyone can read
      // (the checkout may sit in a private directory).
      const app = await launchPlain('esm', { nodeArgs: ['--inspect-port=0'] });
      const run = await runCli(['attach', String(app.pid)], {
        uid: 65534,
        gid: 65534,
        env: { LIVETRACE_SOCKET_DIR: '/nonexistent' },
        packageRoot: publicPackageCopy(),
      });
      expect(run.stderr).toContain('[LT_PID_OTHER_USER]');
      expect(run.code).toBe(2);
      expect(inspectorOpenings(app)).toBe(0);
      // And root, who may signal anyone, still does not cross into another user's process.
      if (linux) {
        const idle = ['-e', 'setInterval(() => {}, 1000)'];
        await withProcess(process.execPath, idle, (pid) => refused(pid, 'LT_PID_OTHER_USER', 2), { uid: 65534, gid: 65534 });
      }
    } else {
      await refused(1, 'LT_PID_OTHER_USER', 2);
    }
  });

  it('a pid that is not a process id: LT_PID_NOT_FOUND; a bad option: LT_OPTION_INVALID; exit 2', async () => {
    await refused(0, 'LT_PID_NOT_FOUND', 2);
    const run = await runCli(['attach', '123', '--port', 'x'], { env: { LIVETRACE_SOCKET_DIR: tempDir() } });
    expect(run.stderr).toContain('[LT_OPTION_INVALID]');
    expect(run.code).toBe(2);
  });
});
