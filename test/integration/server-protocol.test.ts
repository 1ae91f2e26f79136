/**
 * The agent's protocol spoken byte by byte against a real preloaded process: the
 * handshake, every op, every refusal, connections isolated from each other, and fuzzing
 * with random and malformed frames that must neither stop the agent nor leave a patch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, launchApp, rawPeer, repoRoot, waitForSocket, type RawPeer, type RunningApp } from './fixture-app.js';

let app: RunningApp;

beforeAll(async () => {
  // watch.cjs calls math.add every millisecond and prints when it gets patched and restored.
  // The preload engine pins dispatchers at load (the property never changes), so it is off
  // here: the exports engine replaces math.add, and the watcher sees every patch.
  app = await launchApp('watch.cjs', { preload: 'require', env: { LIVETRACE_PRELOAD: '0' } });
  await waitForSocket(app.socketPath);
});
afterAll(cleanup);

async function greeted(): Promise<RawPeer> {
  const peer = await rawPeer(app.socketPath);
  expect(await peer.hello()).toMatchObject({ ok: true });
  return peer;
}

/** Active sessions in the target, as any connection's hello reports them. */
async function activeSessions(): Promise<number> {
  const peer = await greeted();
  peer.send({ id: 'count', op: 'hello', protocol: 1 });
  const reply = await peer.next();
  peer.socket.destroy();
  return (reply.agent as { sessions: number }).sessions;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves once `check()` holds, or after `ms` (the caller checks what it needs). */
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

/** True when the watcher's last word on math.add is that it is the original. */
function addIsOriginal(): boolean {
  const marks = app.lines.filter((line) => /^(patched|unpatched) /.test(line));
  return marks.length === 0 || marks[marks.length - 1]!.startsWith('unpatched');
}

function errorCode(frame: Record<string, unknown>): unknown {
  return (frame.error as { code?: unknown } | undefined)?.code;
}

describe('handshake', () => {
  it('describes the agent and its process', async () => {
    const peer = await rawPeer(app.socketPath);
    peer.send({ id: 1, op: 'hello', protocol: 1, client: { name: 'test', version: '9', pid: process.pid } });
    const reply = await peer.next();
    expect(reply).toMatchObject({ id: 1, ok: true, protocol: 1 });
    const agent = reply.agent as Record<string, unknown>;
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(agent).toMatchObject({ pid: app.pid, node: process.version, version, sessions: 0 });
    expect(agent.argv).toEqual([process.execPath, expect.stringMatching(/watch\.cjs$/)]);
    expect(agent.cwd).toMatch(/test\/fixtures\/apps$/);
    expect(agent.uptimeMs).toBeGreaterThan(0);
  });

  it('refuses any other first request and closes', async () => {
    const peer = await rawPeer(app.socketPath);
    peer.send({ id: 1, op: 'list' });
    expect(await peer.next()).toMatchObject({ id: 1, ok: false, error: { code: 'LT_PROTOCOL_HANDSHAKE' } });
    await peer.closed;
  });

  it('refuses another protocol version and closes', async () => {
    const peer = await rawPeer(app.socketPath);
    peer.send({ id: 'h', op: 'hello', protocol: 2 });
    expect(await peer.next()).toMatchObject({ id: 'h', ok: false, error: { code: 'LT_PROTOCOL_VERSION', input: 2 } });
    await peer.closed;
  });
});

describe('ops', () => {
  it('list: modules and functions, filtered by a module glob or a pattern', async () => {
    const peer = await greeted();
    peer.send({ id: 2, op: 'list', pattern: 'lib/math' });
    const reply = await peer.next();
    expect(reply).toMatchObject({ id: 2, ok: true });
    const modules = reply.modules as Array<{ module: string; functions: Array<{ fn: string; engine: string | null }> }>;
    expect(modules.map((m) => m.module)).toEqual(['lib/math.cjs']);
    expect(modules[0]!.functions.map((f) => f.fn).sort()).toEqual(['lib/math.cjs:add', 'lib/math.cjs:divide']);
    peer.send({ id: 3, op: 'list', pattern: 'lib/math:div*' });
    const narrowed = (await peer.next()).modules as Array<{ functions: Array<{ fn: string }> }>;
    expect(narrowed.flatMap((m) => m.functions.map((f) => f.fn))).toEqual(['lib/math.cjs:divide']);
  });

  it('list without a pattern: every part joined is the whole listing', async () => {
    const peer = await greeted();
    peer.send({ id: 4, op: 'list' });
    const frames = await peer.collect((f) => f.id === 4 && 'ok' in f);
    for (const part of frames.slice(0, -1)) expect(part).toMatchObject({ type: 'part', id: 4 });
    const modules = frames.flatMap((f) => f.modules as Array<{ module: string }>);
    expect(modules.map((m) => m.module)).toContain('lib/math.cjs');
    for (const frame of frames) expect(JSON.stringify(frame).length).toBeLessThan(1024 * 1024);
  });

  it('trace, add, stats, stop: replies, then records in order until stopped', async () => {
    const peer = await greeted();
    peer.send({ id: 10, op: 'trace', patterns: ['lib/math:add'], options: { max: 1000, rate: false } });
    const reply = await peer.next();
    expect(reply).toMatchObject({ id: 10, ok: true, started: { type: 'started', matched: [{ fn: 'lib/math.cjs:add' }] } });
    const session = reply.session as string;
    expect((reply.started as { session: string }).session).toBe(session);
    await app.waitForLine(/^patched /);

    const call = await peer.next();
    expect(call).toMatchObject({ type: 'record', session, record: { type: 'call', fn: 'lib/math.cjs:add', args: [1, 2], value: 3 } });

    peer.send({ id: 11, op: 'add', session, patterns: ['lib/math:divide'] });
    const afterAdd = await peer.collect((f) => f.id === 11);
    expect(afterAdd.at(-1)).toMatchObject({ ok: true, added: { type: 'added', patterns: ['lib/math:divide'] } });

    peer.send({ id: 12, op: 'stats' });
    peer.send({ id: 13, op: 'stats', session });
    const duringStats = await peer.collect((f) => f.id === 13);
    const stats = duringStats.filter((f) => 'ok' in f);
    expect(stats[0]).toMatchObject({ id: 12, ok: true, sessions: [{ session, patterns: ['lib/math:add', 'lib/math:divide'], stopped: false }] });
    expect(stats[1]).toMatchObject({ id: 13, ok: true, sessions: [{ session }] });

    peer.send({ id: 14, op: 'stop', session });
    const tail = await peer.collect((f) => (f.record as { type?: string } | undefined)?.type === 'stopped');
    const stopReply = tail.find((f) => f.id === 14) ?? (await peer.next());
    expect(stopReply).toMatchObject({ id: 14, ok: true, stats: { stopReason: 'user' } });
    expect(tail.at(-1)).toMatchObject({ type: 'record', session, record: { type: 'stopped', reason: 'user' } });
    // The stream carries the added record too, in order with the calls.
    expect([...afterAdd, ...duringStats, ...tail].some((f) => (f.record as { type?: string } | undefined)?.type === 'added')).toBe(true);
    await eventually(async () => addIsOriginal());

    peer.send({ id: 15, op: 'stop', session });
    expect(await peer.next()).toMatchObject({ id: 15, ok: false, error: { code: 'LT_SESSION_UNKNOWN' } });
  });

  it('a session that reaches its max stops by itself and is then unknown', async () => {
    const peer = await greeted();
    peer.send({ id: 20, op: 'trace', patterns: 'lib/math:add', options: { max: 3, rate: false } });
    const frames = await peer.collect((f) => (f.record as { type?: string } | undefined)?.type === 'stopped');
    const calls = frames.filter((f) => (f.record as { type?: string } | undefined)?.type === 'call');
    expect(calls).toHaveLength(3);
    expect(frames.at(-1)!.record).toMatchObject({ reason: 'max' });
    peer.send({ id: 21, op: 'stats' });
    expect(await peer.next()).toMatchObject({ id: 21, ok: true, sessions: [] });
  });

  it('engine errors come back coded and patch nothing', async () => {
    const peer = await greeted();
    peer.send({ id: 30, op: 'trace', patterns: ['lib/math:add('] });
    expect(errorCode(await peer.next())).toBe('LT_PATTERN_SYNTAX');
    peer.send({ id: 31, op: 'trace', patterns: ['lib/nothing:here'] });
    expect(errorCode(await peer.next())).toBe('LT_PATTERN_NO_MATCH');
    peer.send({ id: 32, op: 'trace', patterns: ['lib/math:add'], options: { max: -1 } });
    expect(errorCode(await peer.next())).toBe('LT_OPTION_INVALID');
    peer.send({ id: 33, op: 'trace', patterns: ['lib/math:add'], options: { eventBytes: 4 * 1024 * 1024 } });
    expect(errorCode(await peer.next())).toBe('LT_OPTION_INVALID');
    expect(await activeSessions()).toBe(0);
  });

  it('answers pipelined requests written in one chunk, each once', async () => {
    const peer = await rawPeer(app.socketPath);
    const requests = [{ id: 1, op: 'hello', protocol: 1 }, ...Array.from({ length: 50 }, (_, i) => ({ id: i + 2, op: 'stats' }))];
    peer.sendRaw(requests.map((r) => JSON.stringify(r)).join('\r\n') + '\r\n');
    const replies = await peer.collect((f) => f.id === 51);
    expect(replies.map((r) => r.id)).toEqual(requests.map((r) => r.id));
  });
});

describe('refusals', () => {
  it('unknown op and bad fields: a coded reply, the connection stays open', async () => {
    const peer = await greeted();
    peer.send({ id: 40, op: 'reboot' });
    expect(await peer.next()).toMatchObject({ id: 40, ok: false, error: { code: 'LT_PROTOCOL_UNKNOWN_OP', input: 'reboot' } });
    peer.send({ id: 41, op: 'trace', patterns: [42] });
    expect(await peer.next()).toMatchObject({ id: 41, ok: false, error: { code: 'LT_PROTOCOL_BAD_REQUEST' } });
    peer.send({ id: 42, op: 'stop' });
    expect(errorCode(await peer.next())).toBe('LT_PROTOCOL_BAD_REQUEST');
    peer.send({ id: 43, op: 'hello', protocol: 1 });
    expect(await peer.next()).toMatchObject({ id: 43, ok: true });
  });

  it('absurd or loosely typed options: a coded refusal naming the option, nothing started', async () => {
    const peer = await greeted();
    const cases: [object, RegExp][] = [
      [{ queueBytes: 1e15 }, /queueBytes/],
      [{ overloadMsPerSec: 1e9 }, /overloadMsPerSec/],
      [{ trip: 'yes' }, /trip/],
      [{ rate: 0 }, /rate/],
      [{ bogus: 1 }, /bogus/],
    ];
    let id = 400;
    for (const [options, names] of cases) {
      peer.send({ id: ++id, op: 'trace', patterns: ['lib/math:add'], options });
      const reply = (await peer.next()) as { ok: boolean; error?: { code: string; message: string } };
      expect(reply).toMatchObject({ id, ok: false, error: { code: 'LT_OPTION_INVALID' } });
      expect(reply.error?.message).toMatch(names);
    }
    // A bare number is the documented per-second form (docs/api.md): accepted.
    peer.send({ id: 499, op: 'trace', patterns: ['lib/math:add'], options: { rate: 5, max: 1 } });
    expect(await peer.next()).toMatchObject({ id: 499, ok: true });
  });

  it('malformed JSON: an error with id null, then that connection only is closed', async () => {
    const other = await greeted();
    const peer = await greeted();
    peer.sendRaw('{"id": 5, "op": \n');
    expect(await peer.next()).toMatchObject({ id: null, ok: false, error: { code: 'LT_PROTOCOL_MALFORMED' } });
    await peer.closed;
    other.send({ id: 6, op: 'hello', protocol: 1 });
    expect(await other.next()).toMatchObject({ id: 6, ok: true });
  });

  it('a JSON value that is not a request object is malformed too', async () => {
    const peer = await greeted();
    peer.sendRaw('[1,2,3]\n');
    expect(errorCode(await peer.next())).toBe('LT_PROTOCOL_MALFORMED');
    await peer.closed;
  });

  it('a frame over 1 MiB: refused before its end arrives, connection closed, agent serving', async () => {
    const peer = await greeted();
    peer.sendRaw(`{"id":7,"op":"list","pattern":"${'x'.repeat(1024 * 1024 + 16)}`);
    expect(await peer.next()).toMatchObject({ id: null, ok: false, error: { code: 'LT_PROTOCOL_FRAME_TOO_LARGE' } });
    await peer.closed;
    expect(await activeSessions()).toBe(0);
  });

  it('a client vanishing mid-frame: its sessions stop, other clients are unaffected', async () => {
    const other = await greeted();
    other.send({ id: 1, op: 'trace', patterns: ['lib/math:divide'], options: { max: 1000 } });
    expect(await other.next()).toMatchObject({ id: 1, ok: true });
    const peer = await greeted();
    peer.send({ id: 2, op: 'trace', patterns: ['lib/math:add'], options: { max: 1000 } });
    expect(await peer.next()).toMatchObject({ id: 2, ok: true });
    expect(await activeSessions()).toBe(2);
    peer.sendRaw('{"id":3,"op":"st');
    peer.socket.destroy();
    await eventually(async () => (await activeSessions()) === 1);
    await eventually(async () => addIsOriginal());
    other.send({ id: 4, op: 'stats' });
    const reply = (await other.collect((f) => f.id === 4)).at(-1)!;
    expect(reply).toMatchObject({ ok: true, sessions: [{ stopped: false, patterns: ['lib/math:divide'] }] });
    other.socket.destroy();
    await eventually(async () => (await activeSessions()) === 0);
  });

  it("sessions are invisible to other connections, except in hello's count", async () => {
    const owner = await greeted();
    owner.send({ id: 1, op: 'trace', patterns: ['lib/math:add'], options: { max: 1000 } });
    const session = (await owner.next()).session as string;
    const stranger = await greeted();
    stranger.send({ id: 2, op: 'stop', session });
    expect(errorCode(await stranger.next())).toBe('LT_SESSION_UNKNOWN');
    stranger.send({ id: 3, op: 'add', session, patterns: ['lib/math:divide'] });
    expect(errorCode(await stranger.next())).toBe('LT_SESSION_UNKNOWN');
    stranger.send({ id: 4, op: 'stats', session });
    expect(errorCode(await stranger.next())).toBe('LT_SESSION_UNKNOWN');
    stranger.send({ id: 5, op: 'stats' });
    expect(await stranger.next()).toMatchObject({ id: 5, ok: true, sessions: [] });
    stranger.send({ id: 6, op: 'hello', protocol: 1 });
    expect(await stranger.next()).toMatchObject({ agent: { sessions: 1 } });
    owner.socket.destroy();
    await eventually(async () => (await activeSessions()) === 0);
  });
});

/** Frames from well-formed requests with wild fields to bytes that are not JSON at all. */
function frames(pid: number): fc.Arbitrary<string | Buffer> {
  // Session ids are `<pid>-<n>`: guessable, so add/stop/stats often name a real session.
  const sessionIds = Array.from({ length: 40 }, (_, i) => `${pid}-${i + 1}`);
  const patterns = fc.oneof(
    fc.constantFrom('lib/math:add', 'lib/math:divide(_, 0)', 'lib/users:findUser(nil)', 'lib/math:* -> stack', '**:*', 'lib/math:add when', '(', ''),
    fc.string({ maxLength: 30 }),
  );
  const request = fc.record(
    {
      id: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null), fc.double()),
      op: fc.oneof(fc.constantFrom('hello', 'list', 'trace', 'add', 'stop', 'stats'), fc.string({ maxLength: 8 }), fc.integer()),
      protocol: fc.oneof(fc.constant(1), fc.integer()),
      pattern: patterns,
      patterns: fc.oneof(patterns, fc.array(patterns, { maxLength: 3 }), fc.jsonValue()),
      session: fc.oneof(fc.constantFrom(...sessionIds), fc.string({ maxLength: 10 }), fc.integer()),
      options: fc.oneof(
        fc.record({ max: fc.integer({ min: -2, max: 50 }), rate: fc.constantFrom(false, '10/1s', 'x'), for: fc.constantFrom('1s', 200, 'never'), stack: fc.boolean() }, { requiredKeys: [] }),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: ['id', 'op'] },
  );
  const line = (value: unknown): string => JSON.stringify(value) + '\n';
  const valid = fc.oneof(
    fc.record({ id: fc.nat(), op: fc.constant('trace'), patterns: fc.constantFrom('lib/math:add', ['lib/math:divide']), options: fc.record({ max: fc.integer({ min: 1, max: 20 }), rate: fc.constant(false) }) }),
    fc.record({ id: fc.nat(), op: fc.constantFrom('add'), session: fc.constantFrom(...sessionIds), patterns: fc.constantFrom('lib/math:divide', '(') }),
    fc.record({ id: fc.nat(), op: fc.constantFrom('stop', 'stats'), session: fc.constantFrom(...sessionIds) }),
  );
  return fc.oneof(
    { weight: 4, arbitrary: request.map(line) },
    { weight: 3, arbitrary: valid.map(line) },
    { weight: 1, arbitrary: fc.constant(line({ id: 1, op: 'hello', protocol: 1 })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s): string | Buffer => s + '\n') },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.jsonValue().map(line) },
  );
}

describe('fuzzing', () => {
  it('random and malformed frames never stop the agent and never leave a patch behind', async () => {
    let sessionsStarted = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(true, true, true, false), fc.array(frames(app.pid), { maxLength: 12 }), fc.boolean(), async (greet, sent, cutMidFrame) => {
        const peer = await rawPeer(app.socketPath);
        if (greet) peer.sendRaw('{"id":0,"op":"hello","protocol":1}\n');
        for (const data of sent) peer.sendRaw(data);
        // A last request whose reply says every frame before it was handled (frames are
        // handled in order); junk before it makes it malformed, and the agent closes.
        peer.sendRaw('{"id":"sentinel","op":"stats","session":"none"}\n');
        if (cutMidFrame) peer.sendRaw('{"id":99,"op":"tra');
        // received() hands each frame over once: keep them, to count the sessions after.
        const got: Record<string, unknown>[] = [];
        const take = (): Record<string, unknown>[] => {
          for (const frame of peer.received()) got.push(frame);
          return got;
        };
        await Promise.race([peer.closed, until(() => take().some((f) => f.id === 'sentinel'), 2000)]);
        peer.socket.destroy();
        sessionsStarted += take().filter((f) => f.ok === true && typeof f.session === 'string').length;
      }),
      { numRuns: 150, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    await eventually(async () => (await activeSessions()) === 0);
    await eventually(async () => addIsOriginal());
    expect(app.child.exitCode).toBe(null);
    expect(app.stderr()).toBe('');
    // The fuzzer did reach the engine: some of its traces really started (and were cut off).
    console.log(`fuzz: 150 connections, ${sessionsStarted} sessions started`);
    expect(sessionsStarted).toBeGreaterThan(0);
  });
});
