/**
 * The dashboard as one `(req, res)` handler: the page and its assets, the JSON API, and
 * the live channel, every request through the Guard (security.ts) first. The CLI serves it
 * with its own http server (serve.ts); an app mounts it under a path (dashboard/index.ts).
 *
 * The page is one HTML file and its scripts; it addresses everything relatively
 * ('api/trace', 'events'), so it works under whatever path it is mounted. Express strips
 * the mount path from req.url; a plain node:http server passes `base` to have it stripped.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize, sep } from 'node:path';
import { agentEntry } from '../../protocol/install.js';
import { LivetraceError } from '../../protocol/errors.js';
import { parseDuration, type TraceOptions } from '../../protocol/options.js';
import { explainPattern, parsePattern } from '../../pattern/index.js';
import type { DashboardBackend } from './backend.js';
import { Channel, errorRecord, type View } from './channel.js';
import { Guard, baseHeaders, type SecurityOptions } from './security.js';

export interface HandlerOptions extends SecurityOptions {
  backend: DashboardBackend;
  /** A path prefix to strip from req.url (plain node:http mounts); Express strips its own. */
  base?: string;
  /** Longest a latency run may last, ms (default 10 min). */
  maxLatencyMs?: number;
}

export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Closes every open page's channel: their sessions stop, their watches end. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};
const BODY_LIMIT = 64 * 1024;
const DEFAULT_LATENCY_MS = 60_000;

/** Where the build put the page's files (scripts/build.mjs copies src/dashboard/web and uPlot there). */
export function assetsDir(): string {
  return join(agentEntry().root, 'dist', 'web');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function refuse(res: ServerResponse, status: number, why: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${status} ${why}\n`);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  // A framework's body parser may have read it already.
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== undefined && parsed !== null && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) return parsed as Record<string, unknown>;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new LivetraceError('LT_OPTION_INVALID', 'request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const value: unknown = text === '' ? {} : JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new LivetraceError('LT_OPTION_INVALID', 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

function pidsOf(body: Record<string, unknown>): number[] {
  const raw = Array.isArray(body.pids) ? body.pids : [body.pid];
  const pids = raw.map(Number).filter((pid) => Number.isSafeInteger(pid) && pid > 0);
  if (pids.length === 0) throw new LivetraceError('LT_OPTION_INVALID', 'no process selected', { input: body.pids ?? body.pid });
  return [...new Set(pids)];
}

function patternsOf(body: Record<string, unknown>): string[] {
  const raw = Array.isArray(body.patterns) ? body.patterns : [];
  const patterns = raw.filter((p): p is string => typeof p === 'string').map((p) => p.trim()).filter((p) => p !== '');
  if (patterns.length === 0) throw new LivetraceError('LT_PATTERN_SYNTAX', 'no pattern given', { input: '' });
  return patterns;
}

/** Only the limits the page offers: everything else keeps its default. */
function traceOptionsOf(body: Record<string, unknown>): TraceOptions {
  const given = (body.options ?? {}) as Record<string, unknown>;
  const options: TraceOptions = {};
  if (given.max !== undefined && given.max !== '') options.max = Number(given.max);
  if (typeof given.for === 'string' && given.for !== '') options.for = given.for;
  if (typeof given.rate === 'string' && given.rate !== '') options.rate = given.rate;
  if (given.stack === true) options.stack = true;
  return options;
}

export function createHandler(options: HandlerOptions): DashboardHandler {
  const guard = new Guard(options);
  const channels = new Map<string, Channel>();
  const backend = options.backend;
  const maxLatencyMs = options.maxLatencyMs ?? 10 * 60_000;
  let assets: string | undefined;

  const channelOf = (body: Record<string, unknown>): Channel => {
    const channel = typeof body.channel === 'string' ? channels.get(body.channel) : undefined;
    if (channel === undefined) throw new LivetraceError('LT_SESSION_UNKNOWN', 'the page is not connected (reload it)', { input: body.channel });
    return channel;
  };

  const api = async (path: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (req.method === 'GET' && path === '/api/explain') {
      const pattern = url.searchParams.get('pattern') ?? '';
      try {
        json(res, 200, { ok: true, lines: explainPattern(parsePattern(pattern)) });
      } catch (error) {
        json(res, 200, { ok: false, error: errorRecord(error) });
      }
      return;
    }
    if (req.method === 'GET' && path === '/api/about') {
      json(res, 200, { kind: backend.kind, pid: process.pid });
      return;
    }
    if (req.method !== 'POST') return refuse(res, 405, 'method not allowed');
    const origin = guard.sameOrigin(req, false);
    if (!origin.ok) return refuse(res, origin.status, origin.why);
    try {
      const body = await readBody(req);
      const channel = channelOf(body);
      switch (path) {
        case '/api/view': {
          const view = body.view === 'process' ? { view: 'process' as const, pid: pidsOf(body)[0]!, attach: body.attach === true } : body.view === 'processes' ? { view: 'processes' as const } : { view: 'none' as const };
          await channel.setView(view as View);
          return json(res, 200, { ok: true });
        }
        case '/api/trace':
          return json(res, 200, { ok: true, ...(await channel.startTrace(pidsOf(body), patternsOf(body), traceOptionsOf(body), body.id)) });
        case '/api/latency': {
          const forMs = body.for === undefined || body.for === '' ? DEFAULT_LATENCY_MS : parseDuration(body.for as string | number);
          if (forMs > maxLatencyMs) throw new LivetraceError('LT_OPTION_INVALID', `a latency run lasts at most ${maxLatencyMs / 1000} s`, { input: body.for });
          return json(res, 200, { ok: true, ...(await channel.startLatency(pidsOf(body), patternsOf(body), forMs, body.id)) });
        }
        case '/api/stop':
          return json(res, 200, { ok: await channel.stop(String(body.id)) });
        default:
          return refuse(res, 404, 'not found');
      }
    } catch (error) {
      json(res, 200, { ok: false, error: errorRecord(error) });
    }
  };

  const serveFile = async (res: ServerResponse, name: string): Promise<void> => {
    assets ??= assetsDir();
    const file = normalize(join(assets, name));
    if (!file.startsWith(assets + sep)) return refuse(res, 404, 'not found');
    const dot = file.lastIndexOf('.');
    const type = TYPES[file.slice(dot)];
    if (type === undefined) return refuse(res, 404, 'not found');
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch {
      return refuse(res, 404, 'not found');
    }
    res.writeHead(200, { 'Content-Type': type });
    res.end(content);
  };

  const handler = ((req: IncomingMessage, res: ServerResponse): void => {
    baseHeaders(res);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    } catch {
      return refuse(res, 400, 'bad request');
    }
    let path = url.pathname;
    if (options.base !== undefined && options.base !== '/' && path.startsWith(options.base)) path = path.slice(options.base.replace(/\/$/, '').length) || '';
    const verdict = guard.admit(req, url);
    if (!verdict.ok) return refuse(res, verdict.status, verdict.why);
    const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const originalPath = original.split('?')[0]!;
    const needsSlash = (path === '' || path === '/') && !originalPath.endsWith('/');
    if (verdict.setCookie === true || needsSlash) {
      // Drop the token from the address bar; a mount point without its slash gets one, so relative URLs resolve under it.
      if (verdict.setCookie === true) res.setHeader('Set-Cookie', guard.cookieHeader('/'));
      const last = originalPath.slice(originalPath.lastIndexOf('/') + 1);
      res.writeHead(303, { Location: needsSlash ? `${last}/` : path === '/' ? './' : `./${last}` });
      res.end();
      return;
    }
    if (path === '/' || path === '/index.html') {
      void serveFile(res, 'index.html');
      return;
    }
    if (path.startsWith('/assets/')) {
      void serveFile(res, path.slice('/assets/'.length));
      return;
    }
    if (path === '/events') {
      if (req.method !== 'GET') return refuse(res, 405, 'method not allowed');
      const origin = guard.sameOrigin(req, true);
      if (!origin.ok) return refuse(res, origin.status, origin.why);
      const id = randomBytes(16).toString('base64url');
      const channel = new Channel(id, res, backend, () => channels.delete(id));
      channels.set(id, channel);
      channel.send('hello', { channel: id, kind: backend.kind, pid: process.pid });
      return;
    }
    if (path.startsWith('/api/')) {
      api(path, req, res, url).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { ok: false, error: errorRecord(error) });
      });
      return;
    }
    refuse(res, 404, 'not found');
  }) as DashboardHandler;

  handler.close = async () => {
    await Promise.all([...channels.values()].map((channel) => channel.close()));
    channels.clear();
  };
  return handler;
}
