/**
 * The agent's own resources are capped process-wide (issue 13, item 4; src/agent/limits.ts):
 * idle connections cannot exhaust the host's descriptors (cap + hello deadline), a
 * connection cannot run unbounded sessions. Real processes, the agent preloaded.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/protocol/frame.js';
import { HELLO_DEADLINE_MS, MAX_CONNECTIONS, MAX_SESSIONS_PER_CONNECTION } from '../../src/agent/limits.js';
import { Output } from '../support/process.js';
import { appsDir, cleanup, launchApp, rawPeer, registerEsm, tempDir, waitForSocket } from './fixture-app.js';

afterEach(cleanup);

/** Opens a connection and collects what the agent sends until it closes. */
function idle(path: string): Promise<{ socket: Socket; frames: Record<string, unknown>[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const decoder = new FrameDecoder();
    const frames: Record<string, unknown>[] = [];
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f; f = decoder.next()) frames.push(f.value as Record<string, unknown>);
    });
    socket.once('connect', () => resolve({ socket, frames, closed }));
    socket.once('error', reject);
  });
}

describe('agent connection limits', () => {
  it('300 idle connections under ulimit -n 256 never make the app fail to open a file', { timeout: 60_000 }, async () => {
    const socketDir = tempDir();
    const script = join(appsDir, 'fds.mjs');
    const child = spawn('bash', ['-c', `ulimit -n 256; exec "${process.execPath}" --import "${registerEsm}" "${script}"`], {
      cwd: appsDir,
      env: { ...process.env, LIVETRACE_SOCKET_DIR: socketDir, NODE_OPTIONS: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = new Output('stdout of fds.mjs');
    out.read(child.stdout);
    child.stderr.resume();
    const sockets: Socket[] = [];
    try {
      await out.waitForLine(/^ready \d+/, { timeoutMs: 15_000 });
      const path = join(socketDir, `${child.pid}.sock`);
      await waitForSocket(path);
      const peers = [];
      for (let i = 0; i < 300; i++) {
        const peer = await idle(path);
        sockets.push(peer.socket);
        peers.push(peer);
      }
      // Every one is closed with a coded error: past the cap at once (LT_AGENT_BUSY), within
      // it at the hello deadline (LT_PROTOCOL_HANDSHAKE; a slot freed this way may be taken
      // by a later connection, so the split depends on how fast we connected).
      await Promise.all(peers.map((p) => p.closed));
      const codes = peers.map((p) => (p.frames[0]?.error as { code?: string } | undefined)?.code);
      expect(codes.filter((c) => c !== 'LT_AGENT_BUSY' && c !== 'LT_PROTOCOL_HANDSHAKE')).toEqual([]);
      expect(codes.filter((c) => c === 'LT_AGENT_BUSY').length).toBeGreaterThan(0);
      const from = out.lines.length;
      child.stdin.write('report\n');
      const report = await out.waitForLine(/^fds .*$/, { timeoutMs: 10_000, from });
      expect(report.match[0]).toMatch(/ failed=0 /);
      expect(report.match.input).not.toMatch(/ ok=0 /);
      // The agent serves again once the idle ones are gone.
      const peer = await rawPeer(path);
      expect((await peer.hello()).ok).toBe(true);
      peer.socket.destroy();
    } finally {
      for (const socket of sockets) socket.destroy();
      child.kill('SIGKILL');
    }
  });

  it('closes a client that never says hello after the deadline, with a coded error', async () => {
    const app = await launchApp('timer.mjs');
    const peer = await rawPeer(app.socketPath);
    const started = performance.now();
    const frame = await peer.next(HELLO_DEADLINE_MS + 5000);
    expect((frame.error as { code: string }).code).toBe('LT_PROTOCOL_HANDSHAKE');
    await peer.closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(HELLO_DEADLINE_MS - 100);
  });

  it('refuses a session past the per-connection cap with LT_AGENT_BUSY', { timeout: 30_000 }, async () => {
    const app = await launchApp('timer.mjs');
    const peer = await rawPeer(app.socketPath);
    expect((await peer.hello()).ok).toBe(true);
    for (let i = 0; i <= MAX_SESSIONS_PER_CONNECTION; i++) {
      peer.send({ id: i + 1, op: 'trace', patterns: ['lib/math:add'], options: {} });
      const reply = (await peer.collect((f) => f.id === i + 1, 10_000)).at(-1)!;
      if (i < MAX_SESSIONS_PER_CONNECTION) expect(reply.ok).toBe(true);
      else expect((reply.error as { code: string }).code).toBe('LT_AGENT_BUSY');
    }
  });
});
