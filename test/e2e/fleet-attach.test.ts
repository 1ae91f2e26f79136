/**
 * Joining a fleet after the fact: a plain Node process (no preload, no LIVETRACE_FLEET) is
 * attached with `livetrace attach <pid> --fleet … --service …` against a real redis-server
 * with a password; `fleet ls` then lists it and `trace --fleet` gets its events. The
 * target's own LIVETRACE_FLEET_POLICY still has the last word, the password never shows
 * (CLI output, the agent's fleet log), and a wrong password or an unreachable Redis comes
 * back to the attach CLI as its LT_FLEET_* code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../integration/attach-harness.js';
import { cleanup, launchApp, tempDir } from '../integration/fixture-app.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { killClis, runCli } from './cli-process.js';

afterEach(killClis);

describe('livetrace attach <pid> --fleet', () => {
  let redis: RedisServer;
  let logDir: string;

  beforeAll(async () => {
    logDir = tempDir('lt-fleet-attach-log-');
    redis = await startRedis(await freePort(), tempDir('lt-redis-'));
  }, 30_000);

  afterAll(async () => {
    await cleanup();
    await redis?.stop();
  });

  const launchPlain = (name: string, env: Record<string, string> = {}) =>
    launchApp('burst.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'], env: { LIVETRACE_FLEET_LOG: join(logDir, `${name}.log`), ...env } });

  it('makes a running process join: fleet ls lists it and trace --fleet gets its events', async () => {
    const target = await launchPlain('plain');
    const attached = await runCli(['attach', String(target.pid), '--fleet', redis.url, '--service', 'svc'], { socketDir: target.socketDir, timeoutMs: 30_000 });
    expect(attached.code, attached.stderr).toBe(0);
    expect(attached.stdout).toMatch(new RegExp(`^attached to ${target.pid} in \\d+ ms`, 'm'));
    expect(attached.stdout).toMatch(new RegExp(`^process ${target.pid} joined the fleet redis://127\\.0\\.0\\.1:${redis.port} as service 'svc' \\(agent \\S+:${target.pid}\\)$`, 'm'));
    expect(attached.stdout).toMatch(/^policy \(the process's own\): any module; values may leave the host; sessions as long as asked$/m);

    const ls = await runCli(['fleet', 'ls', '--fleet', redis.url, '--service', 'svc', '--json'], { socketDir: tempDir() });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual([expect.objectContaining({ service: 'svc', pid: target.pid, node: process.version, sessions: [] })]);

    const traced = await runCli(['trace', 'lib/math:add', '--fleet', redis.url, '--service', 'svc', '--max', '3', '--json'], { socketDir: tempDir(), timeoutMs: 30_000 });
    expect(traced.code, traced.stderr).toBe(0);
    const calls = traced.stdout.split('\n').filter((line) => line.includes('"type":"call"')).map((line) => JSON.parse(line) as { pid: number; fn: string });
    expect(calls).toHaveLength(3);
    for (const call of calls) expect(call).toMatchObject({ pid: target.pid, fn: 'lib/math.cjs:add' });
    expect(traced.stderr).toMatch(/^1 agent: 1 traced, 0 refused; 3 calls$/m);

    // Asking again for the same fleet and service changes nothing; another service is refused.
    const again = await runCli(['attach', String(target.pid), '--fleet', redis.url, '--service', 'svc'], { socketDir: target.socketDir, timeoutMs: 30_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^process ${target.pid} is already in the fleet `, 'm'));
    const other = await runCli(['attach', String(target.pid), '--fleet', redis.url, '--service', 'other'], { socketDir: target.socketDir, timeoutMs: 30_000 });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/already in the fleet redis:\/\/127\.0\.0\.1:\d+ as service 'svc' \[LT_FLEET_MEMBER\]/);

    // The fleet log names who asked; the password is nowhere.
    const log = readFileSync(join(logDir, 'plain.log'), 'utf8');
    expect(log).toMatch(/"event":"join-request","fleet":"redis:\/\/127\.0\.0\.1:\d+","service":"svc","who":"livetrace [^"]+ pid \d+"/);
    expect(log).toMatch(/"event":"joined"/);
    for (const text of [log, attached.stdout, attached.stderr, again.stdout, other.stderr, target.stderr()]) expect(text).not.toContain(redis.password);
  }, 90_000);

  it("keeps the target's own policy: the attach cannot loosen it", async () => {
    const target = await launchPlain('guarded', { LIVETRACE_FLEET_POLICY: JSON.stringify({ modules: ['lib/math'], values: false }) });
    const attached = await runCli(['attach', String(target.pid), '--fleet', redis.url, '--service', 'guarded'], { socketDir: target.socketDir, timeoutMs: 30_000 });
    expect(attached.code, attached.stderr).toBe(0);
    expect(attached.stdout).toMatch(/^policy \(the process's own\): modules lib\/math; values stay on the host; sessions as long as asked$/m);
    const refused = await runCli(['trace', 'lib/work:handle', '--fleet', redis.url, '--service', 'guarded'], { socketDir: tempDir(), timeoutMs: 30_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refused: this agent's policy does not allow tracing lib\/work\.cjs \(allowed: lib\/math\) \[LT_FLEET_POLICY\]$/m);
    const kept = await runCli(['trace', 'lib/math:add', '--fleet', redis.url, '--service', 'guarded', '--max', '2', '--json'], { socketDir: tempDir(), timeoutMs: 30_000 });
    expect(kept.code, kept.stderr).toBe(0);
    const calls = kept.stdout.split('\n').filter((line) => line.includes('"type":"call"')).map((line) => JSON.parse(line) as { args: unknown[] });
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call.args).toEqual([{ $: 'redacted' }, { $: 'redacted' }]);
  }, 90_000);

  it('answers a wrong password or an unreachable Redis with its code, and the process stays unjoined', async () => {
    const target = await launchPlain('refused');
    const wrong = await runCli(['attach', String(target.pid), '--fleet', `redis://:not-it@127.0.0.1:${redis.port}`, '--service', 'svc2'], { socketDir: target.socketDir, timeoutMs: 30_000 });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/refused the credentials .*\[LT_FLEET_AUTH\]/);
    expect(wrong.stdout + wrong.stderr).not.toContain('not-it');
    const closed = await freePort();
    const away = await runCli(['attach', String(target.pid), '--fleet', `redis://:pw@127.0.0.1:${closed}`, '--service', 'svc2'], { socketDir: target.socketDir, timeoutMs: 30_000 });
    expect(away.code).toBe(1);
    expect(away.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ .*\[LT_FLEET_UNREACHABLE\]/);
    // A bad URL is refused before anything touches the process.
    const bad = await runCli(['attach', String(target.pid), '--fleet', 'http://example', '--service', 'svc2'], { socketDir: target.socketDir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\[LT_FLEET_URL\]/);
    expect(bad.stdout).toBe('');
    const log = readFileSync(join(logDir, 'refused.log'), 'utf8');
    expect(log).toMatch(/"event":"join-failed".*"code":"LT_FLEET_AUTH"/);
    expect(log).not.toContain('not-it');
    // Nothing stayed behind: the right URL joins now, and the process never stopped.
    const right = await runCli(['attach', String(target.pid), '--fleet', redis.url, '--service', 'svc2'], { socketDir: target.socketDir, timeoutMs: 30_000 });
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toMatch(/joined the fleet/);
    expect(target.child.exitCode).toBeNull();
  }, 90_000);
});
