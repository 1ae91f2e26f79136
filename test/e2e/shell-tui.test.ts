/**
 * The interactive `livetrace shell` in a pseudo-terminal (test/support/pty.ts: keys in,
 * screen out), against a real target: an unfinished function continues behind the
 * continuation prompt and is defined in the target once whole; Ctrl-C drops an unfinished
 * expression; Tab completes a module's export through `$('...')` (the completed call then
 * runs) and lists the candidates of `process.ver`; Ctrl-D leaves.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, launchApp } from '../integration/fixture-app.js';
import { inPty } from '../support/pty.js';
import { cliPath } from './cli-process.js';

afterAll(cleanup);

describe('livetrace shell (interactive)', () => {
  it('continues an unfinished expression over lines, drops it on Ctrl-C, completes on Tab', { timeout: 180_000 }, async () => {
    const app = await launchApp('observer/shell.cjs', { preload: 'require' });
    await app.waitForLine(/^ready \d+/);
    const prompt = `${app.pid}> `;
    const { code, transcript } = await inPty([process.execPath, cliPath, 'shell', String(app.pid)], { LIVETRACE_SOCKET_DIR: app.socketDir }, [
      { expect: `${prompt}$`, timeout: 60 },
      { send: 'function twice(x) {\r' },
      { expect: '\\.\\.\\. $' },
      { send: '  const y = `a\r' },
      { expect: '\\.\\.\\. $' },
      { send: 'b`;\r' },
      { expect: '\\.\\.\\. $' },
      { send: '  return x * 2 + y.length;\r' },
      { expect: '\\.\\.\\. $' },
      { send: '}\r' },
      { expect: `${prompt}$` },
      { send: 'twice(20)\r' },
      { expect: '^43$' },
      { send: 'if (true) {\r' },
      { expect: '\\.\\.\\. $' },
      { send: '\x03' },
      { expect: `${prompt}$` },
      { send: '6 * 7\r' },
      { expect: '^42$' },
      { send: "$('observer/users').findUserLa\t" },
      { expect: 'findUserLater$' },
      { send: '(1)\r' },
      { expect: 'Ann' },
      { expect: `${prompt}$` },
      { send: 'process.ver\t' },
      // The common start of version and versions; the second Tab lists them.
      { expect: 'process\\.version$' },
      { send: '\t' },
      { expect: 'version\\s+versions' },
      { send: '\x03' },
      { expect: `${prompt}$` },
      { send: '\x04' },
    ]);
    expect(code, transcript).toBe(0);
    expect(transcript).toMatch(/exit 0\s*$/);
    // Whole expressions only reached the target: the function as one evaluation, the dropped `if` never.
    expect(app.stderr()).toContain('function twice(x) {\\n  const y = `a\\nb`;');
    expect(app.stderr()).not.toContain('if (true)');
  });
});
