/**
 * `livetrace dashboard` end to end: the real CLI serving the page, a real headless
 * Chromium driving it, the demo service (recipes/demo) as the target. The page is opened
 * from the printed URL; it lists the processes, opens the demo's, starts a trace and sees
 * calls arrive, runs a latency chart under load and its whole-run p99 is checked against
 * the p99 of the raw call events of the same calls (within the sketch's 1%); closing the
 * page leaves the target without a session. Screenshots go to docs/ for docs/dashboard.md.
 *
 * The security tests speak raw HTTP, as a hostile page or a rebinding DNS would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/connect.js';
import type { CallEvent } from '../../src/protocol/events.js';
import { cleanup, launchApp, tempDir } from '../integration/fixture-app.js';
import { repoRoot } from '../support/paths.js';
import { Output } from '../support/process.js';
import { startCli, killClis, type CliProcess } from './cli-process.js';
import { type PageDocument, chromiumPath, http, launchBrowser, until } from './dashboard-browser.js';

/** The page's document, inside waitForFunction callbacks (the tests' types have no DOM). */
declare const document: PageDocument;

const docs = join(repoRoot, 'docs');
let socketDir: string;
let demo: ChildProcess;
let demoUrl: string;
let cli: CliProcess;
let url: string;
let origin: string;

beforeAll(async () => {
  socketDir = tempDir();
  demo = spawn(process.execPath, ['--require', join(repoRoot, 'dist/cjs/register.js'), 'src/server.js'], {
    cwd: join(repoRoot, 'recipes/demo'),
    env: { ...process.env, LIVETRACE_SOCKET_DIR: socketDir, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = new Output('demo').read(demo.stdout!);
  demoUrl = (await out.waitFor(/demo listening on (http:\/\/\S+)/, { timeoutMs: 20_000 }))[1]!;
  cli = startCli(['dashboard'], { socketDir });
  url = (await cli.waitFor('stdout', /livetrace dashboard on (http:\/\/\S+)/, 20_000))[1]!;
  origin = new URL(url).origin;
}, 40_000);

afterAll(async () => {
  demo?.kill('SIGKILL');
  await killClis();
  await cleanup();
});

/** Sends requests to the demo, `concurrency` at a time, until stop() or `limit` requests (done() resolves with how many completed). */
function load(path: string, concurrency = 6, limit = Infinity): { stop: () => Promise<number>; done: () => Promise<number> } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let running = true;
  let done = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = httpRequest(`${demoUrl}${path}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          done++;
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
  let started = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running && started < limit) {
      started++;
      await one();
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return done;
    },
    done: async () => {
      await Promise.all(workers);
      agent.destroy();
      return done;
    },
  };
}

describe('dashboard security (raw HTTP)', () => {
  it('refuses a request without the token, with a foreign Host, and a foreign Origin on Start and on the live channel', async () => {
    const noToken = await http(origin + '/');
    expect(noToken.status).toBe(403);
    const wrongHost = await http(url, { headers: { Host: `rebound.example:${new URL(url).port}` } });
    expect(wrongHost.status).toBe(403);
    const admitted = await http(url);
    expect(admitted.status).toBe(303);
    const cookie = String(admitted.headers['set-cookie']).split(';')[0]!;
    expect(String(admitted.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect(admitted.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const page = await http(origin + '/', { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    // No inline script: every script element names a file.
    expect(page.body).toMatch(/<script [^>]*src=/);
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    // The live channel: refused from a foreign Origin, open from none (same-origin EventSource sends none).
    const foreignChannel = await http(origin + '/events', { headers: { Cookie: cookie, Origin: 'http://evil.example' }, readMs: 300 });
    expect(foreignChannel.status).toBe(403);
    const channel = await http(origin + '/events', { headers: { Cookie: cookie }, readMs: 500 });
    expect(channel.status).toBe(200);
    const id = /"channel":"([^"]+)"/.exec(channel.body)?.[1];
    expect(id).toBeDefined();
    // Start from a foreign Origin, and with no Origin at all: refused before anything starts.
    const body = JSON.stringify({ channel: id, pid: demo.pid, patterns: ['src/users:findUser'] });
    const foreignStart = await http(origin + '/api/trace', { method: 'POST', headers: { Cookie: cookie, Origin: 'http://evil.example', 'Content-Type': 'application/json' }, body });
    expect(foreignStart.status).toBe(403);
    const crossSite = await http(origin + '/api/trace', { method: 'POST', headers: { Cookie: cookie, Origin: origin, 'Sec-Fetch-Site': 'cross-site' }, body });
    expect(crossSite.status).toBe(403);
    const noOrigin = await http(origin + '/api/trace', { method: 'POST', headers: { Cookie: cookie }, body });
    expect(noOrigin.status).toBe(403);
    const client = await connect(demo.pid!, { socketDir });
    expect(client.agent.sessions).toBe(0);
    await client.close();
  });
});

describe.skipIf(chromiumPath === undefined)('dashboard in Chromium', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => console.error('page error:', error));
    // The printed URL once: its token becomes the page's cookie for every test.
    await page.goto(url);
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('lists the processes and opens one', async () => {
    expect(new URL(page.url()).search).toBe('');
    await page.goto(`${origin}/#/`);
    await page.waitForSelector(`#processes tr[data-pid="${demo.pid}"]`, { timeout: 15_000 });
    await page.screenshot({ path: join(docs, 'dashboard-processes.png') });
    await page.click(`#processes tr[data-pid="${demo.pid}"] a`);
    await page.waitForFunction(() => document.querySelector('.figures')?.getAttribute('data-sessions') !== null, undefined, { timeout: 15_000 });
    // Two reads make the first interval: the charts have points.
    await page.waitForFunction(() => document.querySelectorAll('.uplot').length >= 6, undefined, { timeout: 15_000 });
    await page.waitForFunction(() => Number(document.querySelector('.chart')?.getAttribute('data-points') ?? 0) >= 4, undefined, { timeout: 20_000 });
    expect(await page.textContent('h1')).toBe(`Process ${demo.pid}`);
    await page.screenshot({ path: join(docs, 'dashboard-process.png') });
  }, 40_000);

  it('explains a pattern as it is typed, starts a trace, streams calls, stops', async () => {
    await page.goto(`${origin}/#/trace/${demo.pid}`);
    await page.fill('#pattern', 'src/users:findUser(');
    await page.waitForFunction(() => /column \d+/.test(document.querySelector('#explanation')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.fill('#pattern', 'src/users:findUser');
    await page.waitForFunction(() => !document.querySelector('#explanation')?.classList.contains('error') && /findUser/.test(document.querySelector('#explanation')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.fill('#max', '50');
    await page.click('#start');
    await page.waitForSelector('#stop:not([disabled])', { timeout: 15_000 });
    const traffic = load('/orders/1/owner', 2);
    await page.waitForFunction(() => Number(document.querySelector('#calls')?.getAttribute('data-calls') ?? 0) >= 3, undefined, { timeout: 15_000 });
    await traffic.stop();
    await page.screenshot({ path: join(docs, 'dashboard-trace.png') });
    await page.click('#stop');
    await page.waitForFunction(() => document.querySelector('#stopped')?.getAttribute('data-reason') !== null, undefined, { timeout: 15_000 });
    expect(await page.getAttribute('#stopped', 'data-reason')).toMatch(/^(user|max)$/);
  }, 60_000);

  it('draws a latency chart whose p99 matches the raw events within the sketch error; closing the page ends its sessions', async () => {
    await page.goto(`${origin}/#/latency?pids=${demo.pid}`);
    await page.fill('#patterns', 'src/users:findUser');
    await page.click('#run');
    await page.waitForFunction(() => /running in/.test(document.querySelector('#latency-status')?.textContent ?? ''), undefined, { timeout: 15_000 });
    // The raw events of the same calls: a session without rate limit on the same function.
    const client = await connect(demo.pid!, { socketDir });
    const raw = await client.trace('src/users:findUser', { rate: false, max: 1_000_000_000, for: '5m' });
    const durations: number[] = [];
    const collecting = (async () => {
      for await (const record of raw) if (record.type === 'call') durations.push((record as CallEvent).settleNs ?? (record as CallEvent).durationNs);
    })();
    const sent = await load('/users/1', 6, 800).done();
    expect(sent).toBe(800);
    expect(raw.stopped, 'the raw session ran throughout').toBeUndefined();
    // Every call both sessions saw: the page's whole-run count reaches the raw count.
    await until('the raw session to see every call', async () => {
      const stats = await raw.stats();
      return stats.reported >= sent ? true : undefined;
    });
    const total = await until('the chart to count every call', async () => {
      const count = Number(await page.getAttribute('.latency .total', 'data-count'));
      return count === durations.length ? count : undefined;
    }, 30_000);
    expect(total).toBe(durations.length);
    const drawnP99 = Number(await page.getAttribute('.latency .total', 'data-p99'));
    const sorted = [...durations].sort((a, b) => a - b);
    const rawP99 = sorted[Math.floor(0.99 * (sorted.length - 1))]!;
    expect(Math.abs(drawnP99 - rawP99) / rawP99).toBeLessThanOrEqual(0.0101);
    // The chart has drawn points (one a second).
    await page.waitForFunction(() => Number(document.querySelector('.latency')?.getAttribute('data-points') ?? 0) >= 2, undefined, { timeout: 15_000 });
    await page.screenshot({ path: join(docs, 'dashboard-latency.png'), fullPage: true });
    await raw.stop();
    await collecting;
    await client.close();
    // Closing the page closes its live channel: the sessions it started stop in the target.
    await page.close();
    await until('the target to have no session', async () => {
      const probe = await connect(demo.pid!, { socketDir });
      const sessions = probe.agent.sessions;
      await probe.close();
      return sessions === 0 ? true : undefined;
    }, 15_000);
  }, 120_000);
});

describe.skipIf(chromiumPath === undefined)('dashboard on a process started without livetrace', () => {
  it('attaches on Start, traces, and closing the page removes the patch', async () => {
    const app = await launchApp(['dashboard/mounted.cjs', 'http'], { preload: 'none', nodeArgs: ['--inspect-port=0'], socketDir, ready: /^ready \d+ \d+/, timeoutMs: 20_000 });
    const base = `http://127.0.0.1:${/^ready \d+ (\d+)/.exec(app.lines.find((line) => line.startsWith('ready'))!)![1]!}`;
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.goto(`${origin}/#/trace/${app.pid}`);
      await page.fill('#pattern', 'dashboard/work:add');
      await page.click('#start');
      await page.waitForSelector('#stop:not([disabled])', { timeout: 40_000 });
      expect((await http(`${base}/patched`)).body).toBe('true');
      await http(`${base}/work?n=3`);
      await page.waitForFunction(() => Number(document.querySelector('#calls')?.getAttribute('data-calls') ?? 0) >= 3, undefined, { timeout: 15_000 });
      await page.close();
      await until('the patch to be removed', async () => ((await http(`${base}/patched`)).body === 'false' ? true : undefined), 15_000);
      const probe = await connect(app.pid, { socketDir });
      expect(probe.agent.sessions).toBe(0);
      await probe.close();
    } finally {
      await browser.close();
      await app.kill();
    }
  }, 90_000);
});
