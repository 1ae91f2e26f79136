/**
 * The dashboard's handler and channel in-process, over a fake backend: the token/cookie
 * exchange, the live channel's events, a trace's records batched to the page, a latency
 * run's points, and closing the channel stopping everything it started.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { DashboardBackend, LiveSession } from '../../../../src/dashboard/server/backend.js';
import { serveDashboard, type ServedDashboard } from '../../../../src/dashboard/server/serve.js';
import type { SessionRecord } from '../../../../src/protocol/events.js';
import type { ProcessInfo } from '../../../../src/protocol/observer.js';
import { Sketch } from '../../../../src/protocol/sketch.js';

interface FakeSession extends LiveSession {
  push(record: SessionRecord): void;
  end(reason: string): void;
  stopped: boolean;
  patterns: string[];
}

function fakeSession(pid: number, id: string, patterns: string[]): FakeSession {
  const queue: SessionRecord[] = [];
  let wake: (() => void) | undefined;
  let over = false;
  const session: FakeSession = {
    id, pid, patterns, stopped: false,
    push(record) {
      queue.push(record);
      wake?.();
    },
    end(reason) {
      if (over) return;
      over = true;
      session.push({ v: 1, type: 'stopped', session: id, pid, ts: Date.now(), reason: reason as 'user', detail: reason, stats: { calls: 0, reported: 0, dropped: { rate: 0, queue: 0, overload: 0 }, guardErrors: 0, internalErrors: 0, stopReason: 'user', elapsedMs: 1 } });
    },
    async *records() {
      for (;;) {
        const record = queue.shift();
        if (record !== undefined) {
          yield record;
          if (record.type === 'stopped') return;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    stop() {
      session.stopped = true;
      session.end('user');
      return Promise.resolve();
    },
  };
  session.push({ v: 1, type: 'started', session: id, pid, ts: Date.now(), patterns, matched: [{ fn: 'a.js:f', module: 'a.js', engine: 'exports' }], unpatchable: [], limits: { max: 100, forMs: 60_000, rate: { count: 100, perMs: 1000 }, trip: false, queueEvents: 1, queueBytes: 1, overloadMsPerSec: 50 } });
  return session;
}

class FakeBackend implements DashboardBackend {
  readonly kind = 'remote' as const;
  sessions: FakeSession[] = [];
  watches = 0;
  closedWatches = 0;
  processes() {
    return Promise.resolve([{ pid: 42, name: 'app.js', cpuPercent: 1.5, rssBytes: 1e6, reach: 'agent' as const, sessions: 0, uptimeMs: 1000, argv: ['node', 'app.js'] }]);
  }
  watchInfo() {
    this.watches++;
    return Promise.resolve({
      read: () => Promise.resolve({ pid: 42, intervalMs: 1000 } as ProcessInfo),
      close: () => {
        this.closedWatches++;
        return Promise.resolve();
      },
    });
  }
  trace(pid: number, patterns: string[]) {
    const session = fakeSession(pid, `${pid}-${this.sessions.length + 1}`, patterns);
    this.sessions.push(session);
    return Promise.resolve(session);
  }
  close() {
    return Promise.resolve();
  }
}

interface Channel {
  id: string;
  events: { event: string; data: any }[];
  waitFor(event: string, test?: (data: any) => boolean): Promise<any>;
  close(): void;
}

function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function openChannel(origin: string, cookie: string): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const events: Channel['events'] = [];
    const waiters = new Set<() => void>();
    const req = request(`${origin}/events`, { headers: { Cookie: cookie } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        let end;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
        for (const wake of waiters) wake();
        const hello = events.find((e) => e.event === 'hello');
        if (hello) {
          resolve({
            id: hello.data.channel as string,
            events,
            waitFor: (name, test = () => true) =>
              new Promise((found) => {
                const check = (): void => {
                  const hit = events.find((e) => e.event === name && test(e.data));
                  if (hit) {
                    waiters.delete(check);
                    found(hit.data);
                  }
                };
                waiters.add(check);
                check();
              }),
            close: () => req.destroy(),
          });
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

let served: ServedDashboard | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

async function setUp(): Promise<{ backend: FakeBackend; origin: string; cookie: string; post: (path: string, body: object) => Promise<any> }> {
  const backend = new FakeBackend();
  served = await serveDashboard({ backend });
  const origin = new URL(served.url).origin;
  const admitted = await http(served.url);
  expect(admitted.status).toBe(303);
  expect(admitted.headers.location).toBe('./');
  const cookie = String(admitted.headers['set-cookie']).split(';')[0]!;
  const post = async (path: string, body: object): Promise<any> => {
    const reply = await http(`${origin}${path}`, { method: 'POST', headers: { Cookie: cookie, Origin: origin, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return reply.status === 200 ? JSON.parse(reply.body) : { status: reply.status, body: reply.body };
  };
  return { backend, origin, cookie, post };
}

describe('dashboard handler', () => {
  it('serves the page to the cookie, explains patterns, and refuses unknown paths and methods', async () => {
    const { origin, cookie } = await setUp();
    expect(served!.loopback).toBe(true);
    const explained = JSON.parse((await http(`${origin}/api/explain?pattern=${encodeURIComponent('src/a:f(')}`, { headers: { Cookie: cookie } })).body);
    expect(explained).toMatchObject({ ok: false, error: { code: 'LT_PATTERN_SYNTAX', column: 9 } });
    const fine = JSON.parse((await http(`${origin}/api/explain?pattern=src/a:f`, { headers: { Cookie: cookie } })).body);
    expect(fine.ok).toBe(true);
    expect(fine.lines.join('\n')).toMatch(/src\/a/);
    expect((await http(`${origin}/nothing`, { headers: { Cookie: cookie } })).status).toBe(404);
    expect((await http(`${origin}/assets/../../package.json`, { headers: { Cookie: cookie } })).status).toBe(404);
    expect((await http(`${origin}/api/view`, { headers: { Cookie: cookie } })).status).toBe(405);
    expect((await http(`${origin}/events`, { method: 'POST', headers: { Cookie: cookie, Origin: origin } })).status).toBe(405);
  });

  it('refreshes the shown view, streams a trace in batches, and stops what the channel started when it closes', async () => {
    const { backend, origin, cookie, post } = await setUp();
    const channel = await openChannel(origin, cookie);
    expect(await post('/api/view', { channel: 'nope', view: 'processes' })).toMatchObject({ ok: false, error: { code: 'LT_SESSION_UNKNOWN' } });
    expect(await post('/api/view', { channel: channel.id, view: 'processes' })).toEqual({ ok: true });
    expect((await channel.waitFor('processes')).rows[0].pid).toBe(42);
    expect(await post('/api/view', { channel: channel.id, view: 'process', pid: 42 })).toEqual({ ok: true });
    expect((await channel.waitFor('info')).pid).toBe(42);
    expect(backend.watches).toBe(1);
    const started = await post('/api/trace', { channel: channel.id, id: 'mine', pid: 42, patterns: ['a:f'], options: { max: 5 } });
    expect(started).toEqual({ ok: true, id: 't-mine' });
    expect(await post('/api/trace', { channel: channel.id, id: 'mine', pid: 42, patterns: ['a:f'] })).toMatchObject({ ok: false, error: { code: 'LT_OPTION_INVALID' } });
    expect(await post('/api/trace', { channel: channel.id, pid: 42, patterns: [] })).toMatchObject({ ok: false, error: { code: 'LT_PATTERN_SYNTAX' } });
    const session = backend.sessions[0]!;
    for (let i = 1; i <= 3; i++) {
      session.push({ v: 1, type: 'call', session: session.id, id: i, parent: null, depth: 0, fn: 'a.js:f', module: 'a.js', engine: 'exports', pid: 42, thread: 0, ts: Date.now(), args: [i], outcome: 'return', value: i, durationNs: 1000, truncated: false });
    }
    const batch = await channel.waitFor('records', (d) => d.records.some((r: SessionRecord) => r.type === 'call'));
    expect(batch.id).toBe('t-mine');
    expect(batch.records.filter((r: SessionRecord) => r.type === 'call')).toHaveLength(3);
    // A latency run: the hist session's stats become per-second points.
    expect(await post('/api/latency', { channel: channel.id, id: 'run', pids: [42], patterns: ['a:f'], for: '30s' })).toEqual({ ok: true, id: 'l-run' });
    const hist = backend.sessions[1]!;
    expect(hist.patterns).toEqual(['a:f -> hist']);
    const sketch = new Sketch();
    for (let i = 1; i <= 100; i++) sketch.add(i * 1000);
    const second = Math.floor(Date.now() / 1000) * 1000 - 3000;
    hist.push({ v: 1, type: 'stats', session: hist.id, pid: 42, ts: second + 10, final: false, functions: [{ fn: 'a.js:f', calls: 100, errors: 0, sketch: sketch.toData() }] });
    const point = await channel.waitFor('latency');
    expect(point.id).toBe('l-run');
    expect(point.points[0].functions['a.js:f'].count).toBe(100);
    expect(point.total['a.js:f'].p99 / 99_000).toBeCloseTo(1, 1);
    expect(await post('/api/stop', { channel: channel.id, id: 't-mine' })).toEqual({ ok: true });
    expect(session.stopped).toBe(true);
    await channel.waitFor('ended', (d) => d.id === 't-mine');
    // Closing the page's channel stops the latency run and the info watch.
    channel.close();
    await new Promise<void>((resolve) => {
      const check = (): void => (hist.stopped && backend.closedWatches === 1 ? resolve() : void setTimeout(check, 20));
      check();
    });
  });
});
