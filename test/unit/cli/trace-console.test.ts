import { afterEach, describe, expect, it } from 'vitest';
import { ClientSession, type SessionLink } from '../../../src/client/session.js';
import { plain } from '../../../src/cli/format/style.js';
import { Screen, type TextStream } from '../../../src/cli/screen.js';
import { TraceConsole, exitStatusOf } from '../../../src/cli/trace-console.js';
import type { OutputFormat } from '../../../src/cli/trace-options.js';
import { call, started, stopped } from './format/records.js';
import { LivetraceError } from '../../../src/protocol/errors.js';

function stream(isTTY: boolean): TextStream & { text: string } {
  const s = { text: '', isTTY, columns: 200, write: (chunk: string) => void (s.text += chunk) };
  return s;
}

const consoles: TraceConsole[] = [];
afterEach(() => {
  for (const view of consoles.splice(0)) view.close();
});

function setup(format: OutputFormat, tty = false) {
  const out = stream(tty);
  const err = stream(tty);
  const calls: string[][] = [];
  const link: SessionLink = {
    add: async (_session, patterns) => {
      calls.push(patterns);
      return { v: 1, type: 'added', session: '4242-1', pid: 4242, ts: 0, patterns, matched: [], unpatchable: [] };
    },
    stop: async () => {
      session.receive(stopped({ reason: 'user', detail: 'stopped by the user' }));
      return stopped().stats;
    },
    stats: async () => stopped().stats,
    consumed: () => {},
  };
  const session = new ClientSession(link, started());
  const view = new TraceConsole({ format, screen: new Screen(out, err), style: plain });
  consoles.push(view);
  return { out, err, session, view, added: calls };
}

describe('TraceConsole', () => {
  it('prints a pretty trace: news on stderr, calls on stdout, the stop on stderr', async () => {
    const { out, err, session, view } = setup('pretty');
    const following = view.follow(session);
    session.receive(call({ id: 1, args: [null] }));
    session.receive(stopped());
    const last = await following;
    view.close();
    view.summarize(last);
    expect(out.text).toMatch(/^\S+ 4242 src\/users\.js:findUser\(null\) → null 0\.21ms\n$/);
    expect(err.text).toMatch(/^tracing 'src\/users:findUser' in process 4242 .*\n {2}src\/users\.js:findUser \[exports\]\nstopped: max 20 calls in 3\.2s, 0 dropped\n$/);
    expect(exitStatusOf(last)).toBe(0);
    expect(exitStatusOf(stopped({ reason: 'error' }))).toBe(1);
  });

  it('prints every record as a JSON line', async () => {
    const { out, session, view } = setup('json');
    const following = view.follow(session);
    session.receive(call({ id: 1 }));
    session.receive(stopped());
    await following;
    // Off a terminal, lines are written once a turn (screen.ts raw); closing writes the rest.
    view.close();
    expect(out.text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(['started', 'call', 'stopped']);
  });

  it('keeps a status line on a terminal: pids, time left, calls of max, drops', async () => {
    const { err, session, view } = setup('pretty', true);
    const following = view.follow(session);
    session.receive(call({ id: 1 }));
    session.receive({ v: 1, type: 'dropped', session: '4242-1', pid: 4242, ts: 0, reason: 'rate', count: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(err.text).toMatch(/\r\x1b\[2Ktracing 4242 · \S+ elapsed, \S+ left · 1\/20 calls · 3 dropped$/);
    session.receive(stopped());
    await following;
    view.close();
    expect(err.text.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('applies commands: + adds a checked pattern, a bad one is reported, ? without an agent link says so, - stops', async () => {
    const { err, session, view, added } = setup('pretty');
    const following = view.follow(session);
    await view.command({ kind: 'add', pattern: 'src/db:query' }, session);
    await view.command({ kind: 'add', pattern: 'src/db:query(' }, session);
    await view.command({ kind: 'deeper', fn: 'findUser' }, session);
    expect(added).toEqual([['src/db:query']]);
    expect(err.text).toMatch(/\[LT_PATTERN_SYNTAX\]/);
    expect(err.text).toMatch(/'\?findUser': this trace cannot ask its agent what a function calls/);
    await view.command({ kind: 'stop' }, session);
    expect((await following).reason).toBe('user');
  });

  it('answers ?name by looking the bare name up in the modules the trace matched', async () => {
    const { err, session } = setup('pretty');
    const asked: string[] = [];
    const view = new TraceConsole({
      format: 'pretty',
      screen: new Screen(stream(false), err),
      style: plain,
      deeper: async (fn) => {
        asked.push(fn);
        if (fn !== 'src/users.js:findUser') throw new LivetraceError('LT_PATTERN_NO_MATCH', `no loaded function matches '${fn}'`);
        return `${fn} calls: src/db.js:query`;
      },
    });
    consoles.push(view);
    const following = view.follow(session);
    await new Promise((resolve) => setImmediate(resolve));
    await view.command({ kind: 'deeper', fn: 'findUser' }, session);
    expect(asked).toEqual(['src/users.js:findUser']);
    expect(err.text).toContain('src/users.js:findUser calls: src/db.js:query');
    await view.command({ kind: 'deeper', fn: 'nope' }, session);
    expect(err.text).toContain("'?nope': no function of that name in the traced modules (src/users.js); name it as module:function (?src/users:nope)");
    await view.command({ kind: 'deeper', fn: 'src/users:findUser' }, session);
    expect(asked.at(-1)).toBe('src/users:findUser');
    await view.command({ kind: 'stop' }, session);
    await following;
  });
});
