/**
 * Headless Chromium for the dashboard's end-to-end tests, through playwright-core and
 * Debian's `chromium` (CI installs it when missing; .ci/run). Without a local Chromium the
 * browser tests are skipped with a message saying so; the HTTP-level security tests still run.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = [process.env.LIVETRACE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export const chromiumPath: string | undefined = CANDIDATES.find((path): path is string => path !== undefined && path !== '' && existsSync(path));

if (chromiumPath === undefined) {
  console.warn('dashboard e2e: no Chromium found (/usr/bin/chromium, or LIVETRACE_CHROMIUM): the browser tests are skipped. Install it with `apt-get install -y chromium`.');
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath!, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, with whatever headers a hostile page (or rebinding DNS) would send. */
export function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; readMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      const done = (): void => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      res.on('end', done);
      // A live channel never ends: read what came within readMs, then hang up.
      if (options.readMs !== undefined) {
        setTimeout(() => {
          done();
          req.destroy();
        }, options.readMs);
      }
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Calls `get` until it returns something other than undefined, or fails after timeoutMs. */
export async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What the tests' page-side callbacks use of the DOM (test/tsconfig.json has no DOM library). */
export interface PageElement {
  textContent: string | null;
  classList: { contains(name: string): boolean };
  getAttribute(name: string): string | null;
}
export interface PageDocument {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
}
