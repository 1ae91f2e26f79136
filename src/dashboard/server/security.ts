/**
 * The security of a page that can trace (and so read the arguments of) any process of the
 * user. A local web server is reachable by every page the user's browser opens, so the
 * cautionary tales are the dev servers' advisories (webpack-dev-server, Vite): a foreign
 * page that reads responses through DNS rebinding, or drives state changes cross-origin.
 * The defences, each one closing one door:
 *
 * - *A secret*: the printed URL carries a random token; the first request that presents it
 *   gets an HttpOnly, SameSite=Strict cookie and a redirect that drops the token from the
 *   address bar (and from Referer headers: no-referrer anyway). Without the cookie or the
 *   token every request is 403. A foreign page cannot learn either.
 * - *Host*: every request's Host header must be one of the names the server was started
 *   for (127.0.0.1, localhost, [::1] with the port, or the --host given). A rebinding
 *   attacker's page sends its own domain as Host and is refused before anything runs.
 * - *Origin*: state-changing requests (POST) must carry an Origin that is this server;
 *   the live channel (SSE, a GET) must not carry a foreign Origin nor a cross-site
 *   Sec-Fetch-Site. SameSite=Strict already keeps the cookie off cross-site requests; this
 *   is the second lock.
 * - *CSP*: only this server's scripts and styles, no inline script, no eval, no framing.
 *
 * Mounted in an app (livetrace/dashboard), the app's own auth replaces the token, the Host
 * check is the app's business unless `allowedHosts` is given, and Origin must match the
 * request's own Host.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const COOKIE_NAME = 'livetrace_dashboard';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface SecurityOptions {
  /** The token the printed URL carries; undefined: no token or cookie needed (mounted behind the app's auth). */
  token?: string;
  /** Host header values accepted (lower case, with port); undefined: any. */
  allowedHosts?: string[];
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The Host names a server bound to `host`:`port` answers to. */
export function hostsFor(host: string, port: number): string[] {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
  const bare = host.startsWith('[') ? host : host.includes(':') ? `[${host}]` : host;
  if (host !== '0.0.0.0' && host !== '::') names.add(bare.toLowerCase());
  return [...names].map((name) => `${name}:${port}`);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function equalSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export type Verdict = { ok: true; setCookie?: boolean } | { ok: false; status: 403; why: string };

export class Guard {
  private readonly token: string | undefined;
  private readonly cookieValue: string | undefined;
  private readonly hosts: Set<string> | undefined;

  constructor(options: SecurityOptions) {
    this.token = options.token;
    // The cookie is not the token: a leaked cookie store does not give the URL, and the other way round.
    this.cookieValue = options.token === undefined ? undefined : newToken();
    this.hosts = options.allowedHosts === undefined ? undefined : new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  }

  /** Host, then the secret (cookie, or the token in the query). */
  admit(req: IncomingMessage, url: URL): Verdict {
    const host = (req.headers.host ?? '').toLowerCase();
    if (this.hosts !== undefined && !this.hosts.has(host)) return { ok: false, status: 403, why: `Host '${host}' is not this dashboard` };
    if (this.token === undefined) return { ok: true };
    const cookie = cookieOf(req, COOKIE_NAME);
    if (cookie !== undefined && equalSecret(cookie, this.cookieValue!)) return { ok: true };
    const offered = url.searchParams.get('token');
    if (offered !== null && equalSecret(offered, this.token)) return { ok: true, setCookie: true };
    return { ok: false, status: 403, why: 'no dashboard token: open the URL livetrace dashboard printed' };
  }

  /** The cookie that replaces the token for this browser. */
  cookieHeader(path: string): string {
    return `${COOKIE_NAME}=${this.cookieValue!}; HttpOnly; SameSite=Strict; Path=${path}`;
  }

  /**
   * Origin of a state-changing request (or of the live channel, `channel`): a browser
   * sends Origin on every POST; a cross-origin EventSource sends it too, and Sec-Fetch-Site
   * says cross-site even where Origin is left out.
   */
  sameOrigin(req: IncomingMessage, channel: boolean): Verdict {
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return { ok: false, status: 403, why: `cross-site request (${String(site)})` };
    if (origin === undefined || origin === 'null') {
      return channel && origin === undefined ? { ok: true } : { ok: false, status: 403, why: 'a state-changing request without Origin' };
    }
    let originHost: string;
    try {
      const parsed = new URL(origin);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, status: 403, why: `Origin '${origin}' is not this dashboard` };
      originHost = parsed.host.toLowerCase();
    } catch {
      return { ok: false, status: 403, why: `Origin '${origin}' is not a URL` };
    }
    const host = (req.headers.host ?? '').toLowerCase();
    const allowed = this.hosts === undefined ? originHost === host : this.hosts.has(originHost) && originHost === host;
    return allowed ? { ok: true } : { ok: false, status: 403, why: `Origin '${origin}' is not this dashboard` };
  }
}

/** Headers every response carries. */
export function baseHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}
