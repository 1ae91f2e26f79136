/**
 * `livetrace/dashboard` mounted in an app, in Express, Fastify, Koa and a plain node:http
 * server (test/fixtures/apps/dashboard/mounted.cjs): behind the app's auth, it shows the
 * process it runs in, traces a function of that process from the page, and closing the
 * page removes the patch (the app's export is its original function again); under the
 * mount path the Origin check holds, and the Host check when `allowedHosts` is given.
 */
import { get } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, launchApp, type RunningApp } from '../integration/fixture-app.js';
import { type PageDocument, chromiumPath, http, launchBrowser, until } from './dashboard-browser.js';

/** The page's document, inside waitForFunction callbacks (the tests' types have no DOM). */
declare const document: PageDocument;

let browser: Browser | undefined;
const apps: RunningApp[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.kill()));
});
afterAll(async () => {
  await browser?.close();
  await cleanup();
});

type Mode = 'express' | 'fastify' | 'koa' | 'http';

async function start(mode: Mode, env: Record<string, string> = {}): Promise<{ app: RunningApp; base: string }> {
  const app = await launchApp(['dashboard/mounted.cjs', mode], { preload: 'none', ready: /^ready \d+ \d+/, timeoutMs: 20_000, env });
  apps.push(app);
  const port = /^ready \d+ (\d+)/.exec(app.lines.find((line) => line.startsWith('ready'))!)![1]!;
  return { app, base: `http://127.0.0.1:${port}` };
}

function text(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe.each(['express', 'fastify', 'koa', 'http'] as const)('the dashboard mounted in %s', (mode) => {
  it('stays behind the app auth and refuses a foreign Origin', async () => {
    const { base } = await start(mode);
    expect((await http(`${base}/livetrace/`)).status).toBe(401);
    const redirect = await http(`${base}/livetrace`, { headers: { 'x-admin': 'yes' } });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.location).toBe('livetrace/');
    const page = await http(`${base}/livetrace/`, { headers: { 'x-admin': 'yes' } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    const foreign = await http(`${base}/livetrace/events`, { headers: { 'x-admin': 'yes', Origin: 'http://evil.example' }, readMs: 300 });
    expect(foreign.status).toBe(403);
    const foreignStart = await http(`${base}/livetrace/api/trace`, { method: 'POST', headers: { 'x-admin': 'yes', Origin: 'http://evil.example' }, body: '{}' });
    expect(foreignStart.status).toBe(403);
  }, 30_000);

  it('with allowedHosts, refuses any other Host (DNS rebinding) under the mount path, and reads the body of a POST itself', async () => {
    const { base } = await start(mode, { MOUNT_ALLOWED_HOSTS: 'admin.test:8443' });
    const admin = { 'x-admin': 'yes' };
    expect((await http(`${base}/livetrace/`, { headers: admin })).status).toBe(403);
    expect((await http(`${base}/livetrace/`, { headers: { ...admin, Host: 'rebound.example:8443' } })).status).toBe(403);
    const page = await http(`${base}/livetrace/`, { headers: { ...admin, Host: 'admin.test:8443' } });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<script[^>]+src=/);
    // Same Host, same Origin: past the guard, the handler reads the JSON body and answers for it
    // (no such page channel), which it could not if the framework had consumed the body.
    const posted = await http(`${base}/livetrace/api/trace`, {
      method: 'POST',
      headers: { ...admin, Host: 'admin.test:8443', Origin: 'http://admin.test:8443', 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'no-such-channel', pid: process.pid, patterns: ['x:y'] }),
    });
    expect(posted.body).toMatch(/LT_SESSION_UNKNOWN/);
    expect(posted.body).toContain('no-such-channel');
    const foreign = await http(`${base}/livetrace/api/trace`, {
      method: 'POST',
      headers: { ...admin, Host: 'admin.test:8443', Origin: 'http://evil.example', 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(foreign.status).toBe(403);
  }, 30_000);

  it.skipIf(chromiumPath === undefined)('shows its own process, traces it from the page, and closing the page removes the patch', async () => {
    const { app, base } = await start(mode);
    browser ??= await launchBrowser();
    const context = await browser.newContext();
    await context.addCookies([{ name: 'admin', value: 'yes', url: base }]);
    const page = await context.newPage();
    await page.goto(`${base}/livetrace`);
    await page.waitForSelector(`#processes tr[data-pid="${app.pid}"]`, { timeout: 15_000 });
    expect(await page.locator('#processes tbody tr').count()).toBe(1);
    if (mode === 'express') await page.screenshot({ path: new URL('../../docs/dashboard-mounted.png', import.meta.url).pathname });
    await page.goto(`${base}/livetrace/#/trace/${app.pid}`);
    await page.fill('#pattern', 'dashboard/work:add');
    await page.waitForFunction(() => /add/.test(document.querySelector('#explanation')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.click('#start');
    await page.waitForSelector('#stop:not([disabled])', { timeout: 15_000 });
    expect(await text(`${base}/patched`)).toBe('true');
    await text(`${base}/work?n=5`);
    await page.waitForFunction(() => Number(document.querySelector('#calls')?.getAttribute('data-calls') ?? 0) >= 5, undefined, { timeout: 15_000 });
    await context.close();
    await until('the patch to be removed', async () => ((await text(`${base}/patched`)) === 'false' ? true : undefined), 15_000);
  }, 60_000);
});
