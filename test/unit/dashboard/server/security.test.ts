/** The dashboard's request checks: token and cookie, Host, Origin. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { COOKIE_NAME, Guard, hostsFor, isLoopback } from '../../../../src/dashboard/server/security.js';

function req(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe('Guard', () => {
  const hosts = hostsFor('127.0.0.1', 4000);
  const guard = new Guard({ token: 'secret-token', allowedHosts: hosts });
  const at = (path: string): URL => new URL(path, 'http://x');

  it('admits the token once, then only its cookie', () => {
    expect(guard.admit(req({ host: '127.0.0.1:4000' }), at('/'))).toMatchObject({ ok: false, status: 403 });
    expect(guard.admit(req({ host: '127.0.0.1:4000' }), at('/?token=wrong'))).toMatchObject({ ok: false });
    expect(guard.admit(req({ host: '127.0.0.1:4000' }), at('/?token=secret-token'))).toEqual({ ok: true, setCookie: true });
    const cookie = guard.cookieHeader('/');
    expect(cookie).toMatch(new RegExp(`^${COOKIE_NAME}=[\\w-]+; HttpOnly; SameSite=Strict; Path=/$`));
    expect(cookie).not.toContain('secret-token');
    const value = cookie.split(';')[0]!;
    expect(guard.admit(req({ host: 'localhost:4000', cookie: `a=b; ${value}` }), at('/api/x'))).toEqual({ ok: true });
    expect(guard.admit(req({ host: 'localhost:4000', cookie: `${COOKIE_NAME}=forged` }), at('/'))).toMatchObject({ ok: false });
  });

  it('refuses a Host it was not started for (DNS rebinding), even with the token', () => {
    expect(guard.admit(req({ host: 'attacker.example:4000' }), at('/?token=secret-token'))).toMatchObject({ ok: false, status: 403 });
    expect(guard.admit(req({ host: '127.0.0.1:4001' }), at('/?token=secret-token'))).toMatchObject({ ok: false });
    expect(guard.admit(req({}), at('/?token=secret-token'))).toMatchObject({ ok: false });
  });

  it('wants its own Origin on state-changing requests, and no foreign one on the live channel', () => {
    const own = { host: '127.0.0.1:4000', origin: 'http://127.0.0.1:4000' };
    expect(guard.sameOrigin(req(own), false)).toEqual({ ok: true });
    expect(guard.sameOrigin(req({ host: '127.0.0.1:4000' }), false)).toMatchObject({ ok: false });
    expect(guard.sameOrigin(req({ host: '127.0.0.1:4000', origin: 'null' }), false)).toMatchObject({ ok: false });
    expect(guard.sameOrigin(req({ host: '127.0.0.1:4000', origin: 'http://evil.example' }), false)).toMatchObject({ ok: false });
    expect(guard.sameOrigin(req({ ...own, 'sec-fetch-site': 'cross-site' }), false)).toMatchObject({ ok: false });
    expect(guard.sameOrigin(req({ host: '127.0.0.1:4000' }), true)).toEqual({ ok: true });
    expect(guard.sameOrigin(req({ host: '127.0.0.1:4000', origin: 'http://localhost:4000' }), true)).toMatchObject({ ok: false });
    expect(guard.sameOrigin(req({ host: '127.0.0.1:4000', 'sec-fetch-site': 'same-site' }), true)).toMatchObject({ ok: false });
  });

  it('mounted (no token, no host list) compares Origin with the request Host', () => {
    const mounted = new Guard({});
    expect(mounted.admit(req({ host: 'app.example' }), at('/'))).toEqual({ ok: true });
    expect(mounted.sameOrigin(req({ host: 'app.example', origin: 'https://app.example' }), false)).toEqual({ ok: true });
    expect(mounted.sameOrigin(req({ host: 'app.example', origin: 'https://evil.example' }), false)).toMatchObject({ ok: false });
  });
});

describe('hosts', () => {
  it('lists the loopback names with the port, and a named host', () => {
    expect(hostsFor('127.0.0.1', 80)).toEqual(['127.0.0.1:80', 'localhost:80', '[::1]:80']);
    expect(hostsFor('10.0.0.5', 80)).toContain('10.0.0.5:80');
    expect(hostsFor('::1', 80)).toContain('[::1]:80');
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
  });
});
