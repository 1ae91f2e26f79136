/**
 * The client library against real preloaded processes (and, for what a real agent never
 * does, a scripted fake agent): connect errors, every method, the record stream, the
 * ends of a session (max, stop, break, close, the target exiting), and discover().
 */
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, discover, type AgentClient } from '../../src/client/index.js';
import type { CallEvent, SessionRecord } from '../../src/protocol/events.js';
import { FrameDecoder } from '../../src/protocol/frame.js';
import { cleanup, launchApp, tempDir, waitForSocket, type RunningApp } from './fixture-app.js';
import { refusal } from '../support/errors.js';

const clients = new Set<AgentClient>();
const servers = new Set<Server>();

afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  for (const server of servers) server.close();
  servers.clear();
  await cleanup();
});

async function agentApp(script = 'timer.cjs', env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await launchApp(script, { preload: 'require', env });
  await waitForSocket(app.socketPath);
  return app;
}

async function open(app: RunningApp): Promise<AgentClient> {
  const client = await connect(app.pid, { socketDir: app.socketDir });
  clients.add(client);
  return client;
}

async function all(session: AsyncIterable<SessionRecord>): Promise<SessionRecord[]> {
  const out: SessionRecord[] = [];
  for await (const record of session) out.push(record);
  return out;
}

/** A process that is certainly gone: one we started and saw exit. */
async function deadPid(): Promise<number> {
  const run = await launchApp(['-e', ''], { preload: 'none', ready: null });
  await run.exited;
  return run.pid;
}

/**
 * A fake agent on this process's own pid, answering each request with `answer` (or not
 * at all when it returns undefined).
 */
async function fakeAgent(answer: (request: Record<string, unknown>, socket: Socket) => unknown): Promise<string> {
  const dir = tempDir();
  const server = createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame; frame = decoder.next()) {
        const reply = answer(frame.value as Record<string, unknown>, socket);
        if (reply !== undefined) socket.write(JSON.stringify(reply) + '\n');
      }
    });
    socket.on('error', () => {});
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(join(dir, `${process.pid}.sock`), resolve));
  return dir;
}

const helloReply = (id: unknown) => ({
  id,
  ok: true,
  protocol: 1,
  agent: { version: '0.1.0', pid: process.pid, node: process.version, argv: [], cwd: '/', uptimeMs: 1, sessions: 0 },
});

describe('connect', () => {
  it('LT_PID_NOT_FOUND for a process that does not exist, or a pid that is not one', async () => {
    const pid = await deadPid();
    expect((await refusal(connect(pid, { socketDir: tempDir() }))).code).toBe('LT_PID_NOT_FOUND');
    expect((await refusal(connect(-3))).code).toBe('LT_PID_NOT_FOUND');
    expect((await refusal(connect(1.5))).code).toBe('LT_PID_NOT_FOUND');
  });

  it('LT_NO_AGENT for a live process without an agent', async () => {
    const plain = await launchApp('timer.cjs', { preload: 'none' });
    const error = await refusal(connect(plain.pid, { socketDir: plain.socketDir }));
    expect(error.code).toBe('LT_NO_AGENT');
    expect(error.input).toBe(plain.pid);
    expect((await refusal(connect(plain.pid, { socketDir: join(tempDir(), 'missing') }))).code).toBe('LT_NO_AGENT');
  });

  it('LT_SOCKET_DIR_UNSAFE before connecting through an open directory', async () => {
    const app = await agentApp();
    chmodSync(app.socketDir, 0o777);
    expect((await refusal(connect(app.pid, { socketDir: app.socketDir }))).code).toBe('LT_SOCKET_DIR_UNSAFE');
    chmodSync(app.socketDir, 0o700);
  });

  it('LT_AGENT_TIMEOUT for a socket that accepts but never answers', async () => {
    const dir = await fakeAgent(() => undefined);
    expect((await refusal(connect(process.pid, { socketDir: dir, timeoutMs: 150 }))).code).toBe('LT_AGENT_TIMEOUT');
  });

  it("passes on the agent's refusal of the protocol version", async () => {
    const dir = await fakeAgent((request) => ({
      id: request.id,
      ok: false,
      error: { code: 'LT_PROTOCOL_VERSION', message: 'agent speaks 2', hint: 'upgrade', input: 1 },
    }));
    const error = await refusal(connect(process.pid, { socketDir: dir }));
    expect(error).toMatchObject({ code: 'LT_PROTOCOL_VERSION', message: 'agent speaks 2', hint: 'upgrade' });
  });

  it('describes the agent after the handshake', async () => {
    const app = await agentApp();
    const client = await open(app);
    expect(client.agent).toMatchObject({ pid: app.pid, node: process.version, sessions: 0 });
    const again = await client.hello();
    expect(again.uptimeMs).toBeGreaterThanOrEqual(client.agent.uptimeMs - 1);
  });
});

describe('requests', () => {
  it('list joins the parts of a long listing', async () => {
    const modules = Array.from({ length: 3 }, (_, i) => ({ module: `m${i}.js`, kind: 'app', functions: [] }));
    const dir = await fakeAgent((request, socket) => {
      if (request.op === 'hello') return helloReply(request.id);
      socket.write(JSON.stringify({ type: 'part', id: request.id, modules: [modules[0]] }) + '\n');
      socket.write(JSON.stringify({ type: 'part', id: request.id, modules: [modules[1]] }) + '\n');
      return { id: request.id, ok: true, modules: [modules[2]] };
    });
    const client = await connect(process.pid, { socketDir: dir });
    clients.add(client);
    expect(await client.list()).toEqual(modules);
  });

  it('list and stats against a real agent', async () => {
    const client = await open(await agentApp());
    const listing = await client.list('lib/users');
    expect(listing.map((m) => m.module)).toEqual(['lib/users.cjs']);
    expect(await client.stats()).toEqual([]);
  });

  it('a bad pattern rejects with the engine error', async () => {
    const client = await open(await agentApp());
    const error = await refusal(client.trace('lib/users:findUser(nil'));
    expect(error.code).toBe('LT_PATTERN_SYNTAX');
    expect(error.hint).toBeTruthy();
    expect((await refusal(client.trace('lib/nope:none'))).code).toBe('LT_PATTERN_NO_MATCH');
  });
});

describe('sessions', () => {
  it("streams 'started', the calls, and 'stopped' (max) last", async () => {
    const client = await open(await agentApp());
    const session = await client.trace('lib/users:findUser(nil)', { max: 2, rate: false });
    expect(session.started.matched.map((m) => m.fn)).toEqual(['lib/users.cjs:findUser']);
    const records = await all(session);
    expect(records.map((r) => r.type)).toEqual(['started', 'call', 'call', 'stopped']);
    const calls = records.filter((r): r is CallEvent => r.type === 'call');
    for (const call of calls) expect(call).toMatchObject({ args: [null], value: null, pid: client.pid });
    expect(session.stopped).toMatchObject({ reason: 'max' });
    expect(session.synthetic).toBe(false);
    expect(await session.done()).toBe(session.stopped);
  });

  it('add, stats and stop while iterating', async () => {
    const client = await open(await agentApp());
    const session = await client.trace('lib/math:add', { max: 10_000, rate: false });
    const seen: SessionRecord[] = [];
    for await (const record of session) {
      seen.push(record);
      if (seen.length === 3) {
        const added = await session.add('lib/math:divide');
        expect(added).toMatchObject({ type: 'added', matched: [{ fn: 'lib/math.cjs:divide' }] });
        expect((await session.stats()).calls).toBeGreaterThan(0);
      }
      if (record.type === 'call' && record.fn === 'lib/math.cjs:divide') {
        const stopped = await session.stop();
        expect(stopped).toMatchObject({ type: 'stopped', reason: 'user' });
      }
    }
    expect(seen.at(-1)).toMatchObject({ type: 'stopped', reason: 'user' });
    expect(seen.some((r) => r.type === 'added')).toBe(true);
    expect(await session.stop()).toBe(session.stopped);
    expect((await refusal(session.add('lib/math:add'))).code).toBe('LT_SESSION_STOPPED');
    expect((await client.hello()).sessions).toBe(0);
  });

  it('leaving a for-await loop early stops the session in the agent', async () => {
    const client = await open(await agentApp());
    const session = await client.trace('lib/math:add', { max: 10_000, rate: false });
    for await (const record of session) if (record.type === 'call') break;
    expect(session.stopped).toMatchObject({ reason: 'user' });
    expect((await client.hello()).sessions).toBe(0);
  });

  it("the target exiting mid-trace ends the session with a synthetic 'exit' record", async () => {
    const app = await agentApp('timer.cjs', { FIXTURE_TICKS: '10' });
    const client = await open(app);
    const session = await client.trace('lib/math:add', { max: 10_000, rate: false });
    const records = await all(session);
    const last = records.at(-1)!;
    expect(last).toMatchObject({ type: 'stopped', reason: 'exit', session: session.id, pid: app.pid });
    expect(session.synthetic).toBe(true);
    const calls = records.filter((r) => r.type === 'call').length;
    expect(last.type === 'stopped' && last.stats.reported).toBe(calls);
    expect(client.closed).toBe(true);
    expect((await refusal(client.hello())).code).toBe('LT_AGENT_GONE');
    expect((await app.exited).code).toBe(0);
  });

  it("close() ends open sessions with 'client-gone' and the agent drops them", async () => {
    const app = await agentApp();
    const client = await open(app);
    const session = await client.trace('lib/math:add', { max: 10_000 });
    await client.close();
    expect(await session.done()).toMatchObject({ reason: 'client-gone' });
    expect(session.synthetic).toBe(true);
    const other = await open(app);
    const deadline = performance.now() + 2000;
    while ((await other.hello()).sessions !== 0 && performance.now() < deadline);
    expect(other.agent.sessions).toBe(0);
  });

  it('keeps the records that arrive in the same chunk as the trace reply, up to the end', async () => {
    const base = { v: 1, session: 's-1', pid: process.pid, ts: Date.now() };
    const started = { ...base, type: 'started', patterns: ['m:f'], matched: [], unpatchable: [], limits: {} };
    const call = { ...base, type: 'call', id: 1, parent: null, fn: 'm:f', module: 'm', engine: 'exports', args: [], outcome: 'return', durationNs: 1, truncated: false };
    const stats = { calls: 1, reported: 1, dropped: { rate: 0, queue: 0, overload: 0 }, guardErrors: 0, internalErrors: 0, stopReason: 'max', elapsedMs: 1 };
    const stopped = { ...base, type: 'stopped', reason: 'max', detail: 'max 1 calls', stats };
    const dir = await fakeAgent((request, socket) => {
      if (request.op === 'hello') return helloReply(request.id);
      socket.write(
        [
          { id: request.id, ok: true, session: 's-1', started },
          { type: 'record', session: 's-1', record: call },
          { type: 'record', session: 's-1', record: stopped },
        ]
          .map((frame) => JSON.stringify(frame) + '\n')
          .join(''),
      );
      return undefined;
    });
    const client = await connect(process.pid, { socketDir: dir });
    clients.add(client);
    const session = await client.trace('m:f');
    expect(await all(session)).toEqual([started, call, stopped]);
    expect(session.synthetic).toBe(false);
  });

  it('requests outstanding when the agent goes away reject with LT_AGENT_GONE', async () => {
    const dir = await fakeAgent((request, socket) => {
      if (request.op === 'hello') return helloReply(request.id);
      socket.destroy();
      return undefined;
    });
    const client = await connect(process.pid, { socketDir: dir });
    clients.add(client);
    expect((await refusal(client.list())).code).toBe('LT_AGENT_GONE');
  });
});

describe('discover', () => {
  it('lists live agents and removes the sockets of dead processes', async () => {
    const socketDir = tempDir();
    const a = await launchApp('timer.cjs', { preload: 'require', socketDir });
    const b = await launchApp('timer.mjs', { preload: 'import', socketDir });
    await waitForSocket(a.socketPath);
    await waitForSocket(b.socketPath);
    const dead = await deadPid();
    const stale = join(socketDir, `${dead}.sock`);
    writeFileSync(stale, '');
    writeFileSync(join(socketDir, 'notes.txt'), 'not a socket of ours');
    const found = await discover({ socketDir });
    expect(found.map((h) => h.pid)).toEqual([a.pid, b.pid].sort((x, y) => x - y));
    expect(found.find((h) => h.pid === b.pid)!.argv[1]).toMatch(/timer\.mjs$/);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(socketDir, 'notes.txt'))).toBe(true);
  });

  it('is empty when the directory does not exist, and refuses an unsafe one', async () => {
    expect(await discover({ socketDir: join(tempDir(), 'none') })).toEqual([]);
    const open = tempDir();
    chmodSync(open, 0o755);
    expect((await refusal(discover({ socketDir: open }))).code).toBe('LT_SOCKET_DIR_UNSAFE');
  });
});
