/**
 * Issue 13 as real processes: a trace never kills, stalls or throws into its target.
 * Each target is a plain `node` process (test/fixtures/hardening/app.cjs) attached by the
 * real CLI, so the agent loads late, into a process that may have replaced built-ins.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './attach-harness.js';
import { cleanup, launchApp, repoRoot, type RunningApp } from './fixture-app.js';

const app = join(repoRoot, 'test/fixtures/hardening/app.cjs');

afterEach(cleanup);

function launch(env: Record<string, string> = {}): Promise<RunningApp> {
  return launchApp([app], { preload: 'none', nodeArgs: ['--inspect-port=0'], env });
}

/** The app's last `tick <n> errors <e>` line, read after a fresh one arrives. */
async function nextTick(target: RunningApp): Promise<{ n: number; errors: number }> {
  const seen = target.lines.length;
  const { match } = await target.stdout.waitForLine(/^tick (\d+) errors (\d+)$/, { from: seen, timeoutMs: 10_000 });
  return { n: Number(match[1]), errors: Number(match[2]) };
}

function trace(target: RunningApp, args: string[]) {
  return runCli(['trace', String(target.pid), ...args], { env: { LIVETRACE_SOCKET_DIR: target.socketDir }, timeoutMs: 60_000 });
}

describe('livetrace never traces itself', () => {
  it.each([
    ['node:async_hooks:** when threw', 'work:g'],
    ['**:** when threw', '--max-functions', '5000'],
    ['**:**', '--force', '--rate', 'off'],
  ])('%s %s: the target lives on, unchanged', async (...args) => {
    const target = await launch();
    const run = await trace(target, [...args, '--for', '2s']);
    expect(run.stderr).not.toMatch(/Maximum call stack/);
    expect(run.stderr).toMatch(/stopped: /);
    expect(run.stderr).not.toMatch(/exited/);
    const tick = await nextTick(target);
    expect(tick.errors).toBe(0);
    expect(target.stderr()).not.toMatch(/uncaught in app|RangeError/);
  }, 90_000);

  it('names AsyncLocalStorage as used by livetrace itself', async () => {
    const target = await launch();
    const run = await trace(target, ['node:async_hooks:AsyncLocalStorage#run', '--for', '1s', '--json']);
    if (Number(process.versions.node.split('.')[0]) >= 22) {
      // From Node 22 the export is a lazy getter, which the catalog never reads (it could
      // run code): the class is out of any pattern's reach, and the trace says no match.
      expect(run.stderr).toMatch(/LT_PATTERN_NO_MATCH/);
    } else {
      expect(run.stdout).toMatch(/"reason":"used by livetrace itself/);
    }
  }, 60_000);
});

describe('built-ins the application replaced before the attach', () => {
  it.each(['set-delete', 'reflect-apply', 'array-push'])('%s: no exception reaches the app, --for is kept', async (replace) => {
    const target = await launch({ HARDEN_REPLACE: replace });
    const run = await trace(target, ['work:g', '--for', '2s', '--max', '1000000']);
    expect(run.stderr).toMatch(/stopped: time limit 2s/);
    expect(run.ms).toBeLessThan(30_000);
    // The CLI's connection is closed by now: the agent's cleanup has run.
    const tick = await nextTick(target);
    expect(tick.errors).toBe(0);
    expect(target.stderr()).not.toMatch(/uncaught in app|app error/);
    expect(run.stderr).not.toMatch(/internal error/);
  }, 90_000);
});

describe('the CLI says when the target died', () => {
  it('an uncaught throw in the target ends the trace with how it exited', async () => {
    const target = await launch({ HARDEN_THROW: '200' });
    const run = await trace(target, ['work:g', '--for', '30s', '--max', '1000000']);
    const exit = await target.exited;
    expect(exit.code).toBe(3);
    // The exit code is shown when the CLI sees the process before its parent reaps it.
    expect(run.stderr).toMatch(new RegExp(`stopped: target process ${target.pid} exited( \\(exit code 3\\))? in`));
  }, 90_000);
});

describe("a traced function's uncaught throw", () => {
  /** Node's banner without the inspector's lines and with the pid-specific parts as placeholders. */
  function banner(stderr: string): string[] {
    return stderr
      .split('\n')
      .filter((line) => !/^(Debugger (listening|attached)|For help, see|Waiting for the debugger)/.test(line))
      .filter((line) => !/^\s+at /.test(line))
      .filter((line) => line.trim() !== '');
  }

  it("shows no livetrace line, and the same message and exit code as untraced", async () => {
    const untraced = await launch({ HARDEN_THROW: '150', HARDEN_BANNER: '1' });
    const plainExit = await untraced.exited;
    const traced = await launch({ HARDEN_THROW: '150', HARDEN_BANNER: '1' });
    const run = await trace(traced, ['work:fail', '--for', '30s']);
    const tracedExit = await traced.exited;
    expect(tracedExit.code).toBe(plainExit.code);
    expect(run.stderr).toMatch(/stopped: target process \d+ exited( \(exit code 1\))? in/);
    const plain = banner(untraced.stderr());
    const seen = banner(traced.stderr());
    // (The error's own stack names livetrace's frames between the caller and the throw, as it always has.)
    expect(seen.join('\n')).not.toMatch(/dispatch\.js|throw error;/);
    // The excerpt of the throwing line (file:line, source, caret) is the one difference: a
    // rethrow can't keep V8's location, so the traced banner prints none (wrapper.ts).
    expect(plain.slice(0, 3).join('\n')).toMatch(/work\.cjs:\d+\n.*throw new Error\('work failed'\);\n\s*\^/);
    expect(seen).toEqual(plain.slice(3));
  }, 90_000);
});
