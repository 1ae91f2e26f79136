/**
 * Many machines through Redis, end to end: a real redis-server with a password, three
 * target processes standing for hosts (each its own socket directory, the agent preloaded,
 * LIVETRACE_FLEET set), and the real CLI. `fleet ls` lists them; `trace --fleet` gets
 * events from every one, and a merged `hist` is within the sketch's 1% of the p99 of all
 * their raw calls. Then the failures: a target killed mid-trace, Redis restarted mid-trace
 * (agents reconnect; no session outlives its lease), the CLI killed (every session ends
 * within its lease), a wrong password and an ACL refusal (coded errors), a consumer that
 * never reads (the stream stays bounded and the agents never wait for it), and the policy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_MAXLEN } from '../../src/fleet/keys.js';
import type { FleetAgent } from '../../src/fleet/messages.js';
import { FleetTrace, listAgents, openFleet, type FleetConnection } from '../../src/fleet/operator.js';
import { freePort } from '../integration/attach-harness.js';
import { cleanup, launchApp, tempDir, type RunningApp } from '../integration/fixture-app.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { killClis, runCli, startCli } from './cli-process.js';

afterEach(killClis);

interface JsonRecord {
  type: string;
  pid: number;
  durationNs?: number;
  merged?: boolean;
  final?: boolean;
  args?: unknown[];
  functions?: { fn: string; calls: number; p99?: number; sketch?: { count: number } }[];
}

function records(text: string): JsonRecord[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as JsonRecord);
}

/** Waits (polling Redis, 100 ms apart) until `check` holds for the agents of `service`. */
async function agentsUntil(fleet: FleetConnection, service: string, check: (agents: FleetAgent[]) => boolean, timeoutMs = 20_000): Promise<FleetAgent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const agents = await listAgents(fleet, service).catch(() => []);
    if (check(agents)) return agents;
    if (Date.now() > deadline) throw new Error(`agents of ${service} never satisfied the check: ${JSON.stringify(agents)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a fleet through Redis', () => {
  let redis: RedisServer;
  let fleet: FleetConnection;
  let hosts: RunningApp[];
  let logDir: string;
  const service = 'shop';

  const launchHost = (name: string, env: Record<string, string> = {}) =>
    launchApp('burst.cjs', {
      preload: 'import',
      env: { LIVETRACE_FLEET: redis.url, LIVETRACE_SERVICE: service, LIVETRACE_FLEET_LOG: join(logDir, `${name}.log`), ...env },
    });

  beforeAll(async () => {
    logDir = tempDir('lt-fleet-log-');
    redis = await startRedis(await freePort(), tempDir('lt-redis-'));
    hosts = await Promise.all(['a', 'b', 'c'].map((name) => launchHost(name)));
    fleet = await openFleet(redis.url, 'test');
    await agentsUntil(fleet, service, (agents) => agents.length === 3);
  }, 60_000);

  afterAll(async () => {
    fleet?.close();
    await cleanup();
    await redis?.stop();
  });

  it('lists the agents with fleet ls', async () => {
    const result = await runCli(['fleet', 'ls', '--fleet', redis.url, '--service', service, '--json'], { socketDir: tempDir() });
    expect(result.code, result.stderr).toBe(0);
    const agents = JSON.parse(result.stdout) as FleetAgent[];
    expect(agents.map((a) => a.pid).sort()).toEqual(hosts.map((h) => h.pid).sort());
    for (const agent of agents) expect(agent).toMatchObject({ service, host: expect.any(String), node: process.version, sessions: [] });
    const text = await runCli(['fleet', 'ls', '--fleet', redis.url], { socketDir: tempDir() });
    expect(text.stdout).toMatch(/^SERVICE +HOST +PID +NODE +UPTIME +SESSIONS$/m);
    expect(text.stdout).toMatch(new RegExp(`^shop +\\S+ +${hosts[0]!.pid} +v\\d+\\.\\d+\\.\\d+ +\\S+ +0$`, 'm'));
    // The password never shows.
    expect(text.stdout + text.stderr).not.toContain(redis.password);
  });

  it('traces every agent and merges their hist within 1% of the p99 of all raw calls', async () => {
    const socketDir = tempDir();
    const common = ['--fleet', redis.url, '--service', service, '--json', '--cpu-budget', '1000'];
    const raw = startCli(['trace', 'lib/work:handle', ...common, '--rate', 'off', '--max', '200'], { socketDir });
    const hist = startCli(['trace', 'lib/work:handle -> hist', ...common, '--for', '60s'], { socketDir });
    for (const cli of [raw, hist]) for (const host of hosts) await cli.waitFor('stdout', new RegExp(`"type":"started","session":"[^"]+","pid":${host.pid}`), 20_000);
    for (const host of hosts) host.child.kill('SIGUSR2');
    for (const host of hosts) await host.waitForLine(/^did 200$/, 30_000);
    const rawEnd = await raw.done;
    expect(rawEnd.code, rawEnd.stderr).toBe(0);
    expect(rawEnd.stderr).toMatch(/^3 agents: 3 traced, 0 refused; 600 calls$/m);
    hist.child.kill('SIGINT');
    const histEnd = await hist.done;
    expect(histEnd.code, histEnd.stderr).toBe(0);
    const calls = records(rawEnd.stdout).filter((r) => r.type === 'call');
    expect(new Set(calls.map((c) => c.pid))).toEqual(new Set(hosts.map((h) => h.pid)));
    expect(calls).toHaveLength(600);
    const merged = records(histEnd.stdout).filter((r) => r.merged === true && r.final === true);
    expect(merged).toHaveLength(1);
    const handle = merged[0]!.functions!.find((f) => f.fn === 'lib/work.cjs:handle')!;
    expect(handle.calls).toBe(600);
    const sorted = calls.map((c) => c.durationNs!).sort((a, b) => a - b);
    const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))]!;
    expect(Math.abs(handle.p99! - p99)).toBeLessThanOrEqual(0.01 * p99 + 2000);
    // Every agent logged the request with who asked.
    const log = readFileSync(join(logDir, 'a.log'), 'utf8');
    expect(log).toMatch(/"event":"request","op":"trace","session":"[^"]+","who":\{"user":"[^"]+","host":"[^"]+","pid":\d+,"redisUser":"default"\},"patterns":\["lib\/work:handle -> hist"\]/);
  }, 90_000);

  it('reports a target killed mid-trace and goes on with the others', async () => {
    const victim = await launchHost('victim');
    await agentsUntil(fleet, service, (agents) => agents.some((a) => a.pid === victim.pid));
    const cli = startCli(['trace', 'lib/math:add -> count', '--fleet', redis.url, '--service', service, '--for', '60s'], { socketDir: tempDir() });
    await cli.waitFor('stderr', new RegExp(`^tracing 'lib/math:add -> count' in process ${victim.pid} `, 'm'), 20_000);
    await victim.kill('SIGKILL');
    await cli.waitFor('stderr', new RegExp(`^agent \\S+:${victim.pid} gone: its registration expired`, 'm'), 20_000);
    expect(cli.stderr()).not.toMatch(/agents: /);
    cli.child.kill('SIGINT');
    const end = await cli.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toMatch(/^4 agents: 3 traced, 0 refused; \d+ calls$/m);
    expect(end.stdout).toMatch(/^final stats of [34] processes merged/m);
  }, 60_000);

  it('ends every session within its lease when the CLI is killed', async () => {
    const cli = startCli(['trace', 'lib/math:add', '--fleet', redis.url, '--service', service, '--for', '10m', '--lease', '2s', '--json'], { socketDir: tempDir() });
    for (const host of hosts) await cli.waitFor('stdout', new RegExp(`"type":"started","session":"[^"]+","pid":${host.pid}`), 20_000);
    await agentsUntil(fleet, service, (agents) => agents.filter((a) => a.sessions.length === 1).length === 3);
    cli.child.kill('SIGKILL');
    await agentsUntil(fleet, service, (agents) => agents.length === 3 && agents.every((a) => a.sessions.length === 0), 15_000);
    expect(readFileSync(join(logDir, 'b.log'), 'utf8')).toMatch(/"event":"lease-expired","session":"[^"]+","leaseMs":2000/);
  }, 60_000);

  it('survives a Redis restart: agents reconnect and no session outlives its lease', async () => {
    const cli = startCli(['trace', 'lib/math:add', '--fleet', redis.url, '--service', service, '--for', '10m', '--lease', '2s', '--json'], { socketDir: tempDir() });
    for (const host of hosts) await cli.waitFor('stdout', new RegExp(`"type":"started","session":"[^"]+","pid":${host.pid}`), 20_000);
    fleet.close();
    await redis.restart();
    // The CLI lost its Redis: it says so with a code and exits; the agents lose their operator.
    const end = await cli.done;
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/\[LT_FLEET_UNREACHABLE\]/);
    fleet = await openFleet(redis.url, 'test');
    const back = await agentsUntil(fleet, service, (agents) => agents.length === 3 && agents.every((a) => a.sessions.length === 0), 20_000);
    expect(back.map((a) => a.pid).sort()).toEqual(hosts.map((h) => h.pid).sort());
    expect(readFileSync(join(logDir, 'c.log'), 'utf8')).toMatch(/"event":"reconnected"/);
    // And they take new sessions.
    const again = await runCli(['trace', 'lib/math:add', '--fleet', redis.url, '--service', service, '--max', '1'], { socketDir: tempDir(), timeoutMs: 30_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^3 agents: 3 traced, 0 refused; 3 calls$/m);
  }, 90_000);

  it('gives coded errors for a wrong password and an ACL refusal, and works with the documented ACL rule', async () => {
    const wrong = await runCli(['fleet', 'ls', '--fleet', `redis://:not-it@127.0.0.1:${redis.port}`], { socketDir: tempDir() });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/\[LT_FLEET_AUTH\]/);
    expect(wrong.stderr).not.toContain('not-it');
    await fleet.redis.call('ACL', 'SETUSER', 'narrow', 'on', '>narrow-pw', '~other:*', '&other:*', '+ping', '+hello', '+client|setname');
    const denied = await runCli(['fleet', 'ls', '--fleet', `redis://narrow:narrow-pw@127.0.0.1:${redis.port}`], { socketDir: tempDir() });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/\[LT_FLEET_DENIED\]/);
    // docs/fleet.md's rule, word for word.
    const doc = readFileSync(join(__dirname, '../../docs/fleet.md'), 'utf8');
    const rule = /^ACL SETUSER livetrace (.+)$/m.exec(doc)![1]!.replace('>CHANGE-ME', '>ops-pw').split(/\s+/);
    await fleet.redis.call('ACL', 'SETUSER', 'livetrace', ...rule);
    const ops = `redis://livetrace:ops-pw@127.0.0.1:${redis.port}`;
    const ls = await runCli(['fleet', 'ls', '--fleet', ops, '--service', service, '--json'], { socketDir: tempDir() });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toHaveLength(3);
    const traced = await runCli(['trace', 'lib/math:add', '--fleet', ops, '--service', service, '--max', '1'], { socketDir: tempDir(), timeoutMs: 30_000 });
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.stderr).toMatch(/^3 agents: 3 traced, 0 refused; 3 calls$/m);
    // The same user cannot touch keys outside livetrace's.
    const limited = await openFleet(ops, 'test');
    try {
      await expect(limited.redis.get('other:key')).rejects.toThrow(/NOPERM/);
    } finally {
      limited.close();
    }
  }, 90_000);

  it('keeps the stream bounded and never waits for a consumer that does not read', async () => {
    const socketDir = tempDir();
    const burst = await launchApp('burst.cjs', {
      preload: 'import',
      socketDir,
      env: { LIVETRACE_FLEET: redis.url, LIVETRACE_SERVICE: 'slow', LIVETRACE_FLEET_LOG: join(logDir, 'slow.log'), FIXTURE_CALLS: String(STREAM_MAXLEN + 3000) },
    });
    const agents = await agentsUntil(fleet, 'slow', (list) => list.length === 1);
    const trace = new FleetTrace(fleet, agents, { service: 'slow', patterns: ['lib/work:handle'], options: { rate: false, max: 1_000_000, overloadMsPerSec: 1000 } });
    await trace.start();
    try {
      await agentsUntil(fleet, 'slow', (list) => list[0]!.sessions.length === 1);
      burst.child.kill('SIGUSR2');
      await burst.waitForLine(new RegExp(`^did ${STREAM_MAXLEN + 3000}$`), 60_000);
      const length = Number(await fleet.redis.xlen(trace.stream));
      // MAXLEN ~ trims whole macro nodes (100 entries by default), so a little over.
      expect(length).toBeGreaterThan(STREAM_MAXLEN / 2);
      expect(length).toBeLessThanOrEqual(STREAM_MAXLEN + 200);
    } finally {
      await trace.stop();
      trace.close();
    }
  }, 120_000);

  it("lets the agent's policy refuse modules and keep values on the host", async () => {
    const guarded = await launchHost('guarded', { LIVETRACE_SERVICE: 'guarded', LIVETRACE_FLEET_POLICY: JSON.stringify({ modules: ['lib/math'], values: false, maxSessionMs: 3000 }) });
    await agentsUntil(fleet, 'guarded', (list) => list.length === 1);
    const refused = await runCli(['trace', 'lib/work:handle', '--fleet', redis.url, '--service', 'guarded'], { socketDir: tempDir(), timeoutMs: 30_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^agent \\S+:${guarded.pid} refused: this agent's policy does not allow tracing lib/work\\.cjs \\(allowed: lib/math\\) \\[LT_FLEET_POLICY\\]$`, 'm'));
    const kept = await runCli(['trace', 'lib/math:add', '--fleet', redis.url, '--service', 'guarded', '--json', '--for', '1h'], { socketDir: tempDir(), timeoutMs: 30_000 });
    expect(kept.code, kept.stderr).toBe(0);
    const calls = records(kept.stdout).filter((r) => r.type === 'call');
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.args).toEqual([{ $: 'redacted' }, { $: 'redacted' }]);
    // The session was cut to the policy's 3 s.
    expect(kept.stderr).toMatch(/stopped: time limit (3s|3000ms) in /);
  }, 60_000);

  it('loads the Redis client only with LIVETRACE_FLEET, and never keeps the target alive', async () => {
    // The program ends on its own after 5 s: with a fleet joined, it must still exit then.
    const code = "console.log('ready ' + process.pid); setTimeout(() => console.log('ioredis ' + Object.keys(require('node:module')._cache).some((k) => k.includes('/ioredis/'))), 5000)";
    const joined = await launchApp(['-e', code], { preload: 'import', env: { LIVETRACE_FLEET: redis.url, LIVETRACE_SERVICE: 'short', LIVETRACE_FLEET_LOG: join(logDir, 'short.log') } });
    const plain = await launchApp(['-e', code], { preload: 'import' });
    await agentsUntil(fleet, 'short', (list) => list.some((a) => a.pid === joined.pid));
    expect(await joined.exited).toMatchObject({ code: 0, signal: null });
    expect(await plain.exited).toMatchObject({ code: 0, signal: null });
    expect(joined.lines).toContain('ioredis true');
    expect(plain.lines).toContain('ioredis false');
  }, 60_000);
});
