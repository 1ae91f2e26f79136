/**
 * The interactive `livetrace top` in a pseudo-terminal (test/support/pty.ts: keys in,
 * screen out): it lists a preloaded and a plain process, filters,
 * sorts by a column key, opens one process's info view with Enter (which attaches to the
 * plain one: the only way top attaches), goes back, starts a trace with `t` and a pattern,
 * sees calls, ends the trace with Ctrl-C back into the list, and quits with `q`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, launchApp, tempDir } from '../integration/fixture-app.js';
import { inPty } from '../support/pty.js';
import { cliPath, runCli } from './cli-process.js';

afterAll(cleanup);

describe('livetrace top (interactive)', () => {
  it('sorts, filters, opens info on Enter (attaching only then), traces on t, quits on q', { timeout: 180_000 }, async () => {
    const socketDir = tempDir();
    const preloaded = await launchApp('timer.cjs', { preload: 'require', socketDir });
    const plain = await launchApp('observer/busy.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'], socketDir });
    const env = { LIVETRACE_SOCKET_DIR: socketDir };
    const { code, transcript } = await inPty([process.execPath, cliPath, 'top'], env, [
      { expect: `${plain.pid} .*busy\\.cjs`, timeout: 40 },
      // The plain process was listed and not attached to.
      { send: 'p' },
      { expect: 'PID\\^' },
      { send: 'p' },
      { expect: 'PIDv' },
      { send: `/${plain.pid}\r` },
      { expect: `matching '${plain.pid}'` },
      { send: '\r' },
      { expect: `process ${plain.pid} +node`, timeout: 60 },
      { send: 'b' },
      { send: `/${preloaded.pid}\r` },
      { expect: `matching '${preloaded.pid}'` },
      { send: 't' },
      { expect: 'pattern:' },
      { send: 'lib/math:add\r' },
      { expect: 'lib/math\\.cjs:add\\(\\d+, 1\\) → \\d+', timeout: 40 },
      { send: '\x03' },
      { expect: 'stopped: by the user' },
      { expect: 'sort: p c m h l d n' },
      { send: 'q' },
    ]);
    expect(code, transcript).toBe(0);
    expect(transcript).toMatch(/exit 0\s*$/);
    // Opening the plain process attached an agent to it: it answers ps --agents now.
    const ps = await runCli(['ps', '--agents', '--json'], { socketDir });
    expect((JSON.parse(ps.stdout) as { pid: number }[]).map((p) => p.pid).sort()).toEqual([preloaded.pid, plain.pid].sort());
  });
});
