/**
 * Redaction with the shapes real programs pass: Node's (and so Express's) request
 * headers and raw headers, https.request options, a pg connection string, a PEM key with
 * its passphrase, a JWT, credentials in an error message; and by parameter name.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { argumentRedaction } from '../../../../src/agent/capture/argument-redaction.js';
import { Capturer } from '../../../../src/agent/capture/capturer.js';
import { globMatches, Redactor } from '../../../../src/agent/capture/redaction.js';
import { ALL_VALUE_RULES, scrub, valueRules, WHOLE } from '../../../../src/agent/capture/secrets.js';
import { LivetraceError } from '../../../../src/protocol/errors.js';
import { declareParameters, parametersOf } from '../../../../src/agent/source/params.js';
import { parse } from 'acorn';

const R = { $: 'redacted' };
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

function capture(value: unknown, options = {}): unknown {
  return new Capturer(options).capture(value).value;
}

/** A real request as node:http (and Express, which uses its IncomingMessage) hands it to a handler. */
async function incoming(headers: Record<string, string>): Promise<IncomingMessage> {
  let seen: IncomingMessage | undefined;
  const server = createServer((req, res) => {
    seen = req;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/login', headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return seen!;
}

describe('default keys', () => {
  it('cover common secret names, without regard to case and separators', () => {
    const r = new Redactor();
    for (const key of ['auth', 'passphrase', 'pass', 'pwd', 'DB_PASS', 'db_pass', 'dbPass', 'DB-PASS', 'jwt', 'bearer', 'pfx', 'ssn', 'SSN', 'smtpPass', 'password', 'x-api-key', 'proxy-authorization']) {
      expect(r.matches(key), key).toBe(true);
    }
    for (const key of ['author', 'authorName', 'user', 'passage', 'id', 'host', 'lessons']) expect(r.matches(key), key).toBe(false);
  });

  it('match globs in linear time (a backtracking glob took minutes here)', () => {
    const r = new Redactor(['*a*a*a*a*a*b']);
    expect(r.matches('a'.repeat(130))).toBe(false);
    expect(r.matches(`${'a'.repeat(130)}b`)).toBe(true);
    expect(globMatches('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
    expect(globMatches('card*', 'cardnumber')).toBe(true);
    expect(globMatches('pin?', 'pin')).toBe(false);
    expect(globMatches('*ssn*', 'userssnhash')).toBe(true);
    expect(globMatches('a*b?c', 'axxbyc')).toBe(true);
    expect(globMatches('a*b?c', 'axxbc')).toBe(false);
  });
});

describe('real shapes', () => {
  it("redacts a request's headers object and its raw header list by header name", async () => {
    const req = await incoming({ Authorization: 'Bearer abc.def', Cookie: 'sid=s3cret', 'X-Api-Key': 'k-123', Accept: 'text/plain' });
    const headers = capture(req.headers) as Record<string, unknown>;
    expect(headers.authorization).toEqual(R);
    expect(headers.cookie).toEqual(R);
    expect(headers['x-api-key']).toEqual(R);
    expect(headers.accept).toBe('text/plain');
    const raw = capture(req.rawHeaders) as unknown[];
    const at = (name: string): unknown => raw[raw.indexOf(name) + 1];
    expect(at('Authorization')).toEqual(R);
    expect(at('Cookie')).toEqual(R);
    expect(at('X-Api-Key')).toEqual(R);
    expect(at('Accept')).toBe('text/plain');
    expect(JSON.stringify(raw)).not.toMatch(/s3cret|abc\.def|k-123/);
  });

  it("redacts https.request options' auth and an Authorization header, keeps the host", () => {
    const options = { hostname: 'api.example.com', port: 443, path: '/v1', auth: 'admin:s3cret', headers: { Authorization: 'Basic YWRtaW46czNjcmV0' } };
    expect(capture(options)).toEqual({ hostname: 'api.example.com', port: 443, path: '/v1', auth: R, headers: { Authorization: R } });
  });

  it("hides a pg connection string's password, keeps the rest", () => {
    expect(capture('postgres://user:secret@db.internal:5432/app')).toBe('postgres://user:<redacted>@db.internal:5432/app');
    expect(capture({ connectionString: 'postgres://user:secret@host/db' })).toEqual({ connectionString: 'postgres://user:<redacted>@host/db' });
  });

  it('redacts a PEM private key and its passphrase, even when the key is cut by the string limit', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'top s3cret' },
    });
    expect(privateKey.length).toBeGreaterThan(255);
    expect(capture({ key: privateKey, passphrase: 'top s3cret', format: 'pem' })).toEqual({ key: R, passphrase: R, format: 'pem' });
    // A PEM under an innocent name, and one inside a longer text.
    expect(capture({ k: privateKey }, { stringLimit: 10_000 })).toEqual({ k: R });
    expect(capture(`loaded ${privateKey}and more`, { stringLimit: 10_000 })).toBe('loaded <redacted>\nand more');
    // A public key is no secret.
    expect(capture(publicKey, { stringLimit: 10_000 })).toBe(publicKey);
  });

  it('redacts a JWT and a bearer token whatever they are called', () => {
    expect(capture({ t: JWT, h: `Bearer ${JWT}`, b: 'Bearer abc' })).toEqual({ t: R, h: R, b: R });
    expect(capture(`token was ${JWT}!`)).toBe('token was <redacted>!');
    expect(capture('header Authorization: Basic dXNlcjpwYXNz, retrying')).toBe('header Authorization: Basic <redacted>, retrying');
    expect(capture('basic authentication failed')).toBe('basic authentication failed');
  });

  it('redacts credentials inside an error message and its stack', () => {
    const error = new Error('GET https://svc:PASSWORD@api.local/x failed');
    const value = capture(error) as { message: string; stack?: string };
    expect(value.message).toBe('GET https://svc:<redacted>@api.local/x failed');
    expect(JSON.stringify(value)).not.toContain('PASSWORD');
  });

  it('turns each value rule off by name, or all of them', () => {
    expect(capture('postgres://u:p@h/db', { keepValues: ['url'] })).toBe('postgres://u:p@h/db');
    expect(capture(JWT, { keepValues: ['jwt'] })).toBe(JWT);
    expect(capture('Bearer abc', { keepValues: ['auth'] })).toBe('Bearer abc');
    expect(capture(['Authorization', 'x'], { keepValues: ['headers'] })).toEqual(['Authorization', 'x']);
    expect(capture(['Authorization', 'Bearer abc'], { keepValues: ['all'] })).toEqual(['Authorization', 'Bearer abc']);
    // Keys stay redacted with every value rule off.
    expect(capture({ password: 'x' }, { keepValues: ['all'] })).toEqual({ password: R });
    expect(valueRules(['pem'])).toEqual({ ...ALL_VALUE_RULES, pem: false });
    expect(() => valueRules(['nope'])).toThrow(LivetraceError);
  });

  it('scans in one pass: no quadratic work on adversarial text', () => {
    expect(scrub('://'.repeat(20_000), ALL_VALUE_RULES)).toBe(0);
    expect(scrub(`${'eyJ'.repeat(10_000)}`, ALL_VALUE_RULES)).toBe(0);
    expect(scrub('Bearer ' + 'a'.repeat(20_000), ALL_VALUE_RULES)).toBe(WHOLE);
  });
});

describe('parameter names', () => {
  const redactor = new Redactor();
  const args = (fn: Function, list: unknown[], options = {}): unknown => {
    const c = new Capturer(options);
    c.begin();
    return c.values(list, argumentRedaction(fn, c.redactor));
  };

  it('redacts a positional argument whose parameter is named like a secret', () => {
    function login(user: string, password: string): string {
      return user + password;
    }
    expect(args(login, ['tj', 'foobar'])).toEqual(['tj', R]);
    const authenticate = (name: string, pass: string, fn: () => void): void => fn();
    expect(args(authenticate, ['tj', 'foobar', () => {}])).toEqual(['tj', R, { $: 'function', name: '' }]);
    expect(args(login, ['tj'])).toEqual(['tj']);
  });

  it('reads methods, async and generator functions, classes and defaults', () => {
    const o = {
      async check(user: string, secret = ''): Promise<string> {
        return user + secret;
      },
      *gen(token: string): Generator<string> {
        yield token;
      },
      get apiKey(): string {
        return '';
      },
    };
    class Vault {
      constructor(
        readonly name: string,
        readonly passphrase: string,
      ) {}
      static open(dbPass: string): string {
        return dbPass;
      }
    }
    expect(args(o.check, ['ann', 'x'])).toEqual(['ann', R]);
    expect(args(o.gen, ['x'])).toEqual([R]);
    expect(args(Vault, ['v', 'x'])).toEqual(['v', R]);
    expect(args(Vault.open, ['x'])).toEqual([R]);
  });

  it('redacts what a destructuring parameter binds to a secret name', () => {
    const login = ({ user, p: password }: { user: string; p: string }): string => user + password;
    expect(args(login, [{ user: 'tj', p: 'foobar' }])).toEqual([{ user: 'tj', p: R }]);
    function plain({ user, password }: { user: string; password: string }): string {
      return user + password;
    }
    expect(args(plain, [{ user: 'tj', password: 'x' }])).toEqual([{ user: 'tj', password: R }]);
    const pair = ([user, token]: string[]): string => user! + token!;
    expect(args(pair, [['tj', 'x']])).toEqual([R]);
    const rest = (user: string, ...tokens: string[]): number => user.length + tokens.length;
    expect(args(rest, ['tj', 'a', 'b'])).toEqual(['tj', R, R]);
  });

  it('uses the --redact list too, and nothing for natives, bound functions and huge sources', () => {
    function f(user: string, id: number): number {
      return user.length + id;
    }
    expect(args(f, ['tj', 1], { redact: ['user'] })).toEqual([R, 1]);
    expect(argumentRedaction(Math.max, redactor)).toBeUndefined();
    expect(parametersOf(f.bind(null))).toBeUndefined();
    expect(parametersOf(f)).toEqual({ params: [{ name: 'user', names: ['user'] }, { name: 'id', names: ['id'] }], rest: undefined });
    const huge = new Function('password', `return password;${' '.repeat(200_000)}`);
    expect(parametersOf(huge)).toBeUndefined();
  });

  it('takes declared parameters for a function the engine does not hold (a probe)', () => {
    const placeholder = function probed(): void {};
    const program = parse('function check(name, pass) {}', { ecmaVersion: 'latest' }) as unknown as { body: { params: never[] }[] };
    declareParameters(placeholder, program.body[0]!.params);
    expect(args(placeholder, ['tj', 'x'])).toEqual(['tj', R]);
  });
});

describe('depth 0', () => {
  it("shows each argument's own fields and every value below them by type only (util.inspect's depth 0)", () => {
    const c = new Capturer({ depth: 0 });
    c.begin();
    class User {
      constructor(readonly profile: object) {}
    }
    expect(c.values([{ user: { id: 1 }, list: [1] }, new User({ a: 1 }), 'text', 7])).toEqual([
      { user: { $: 'depth', class: 'Object' }, list: { $: 'depth', class: 'Array' } },
      { $: 'object', class: 'User', props: { profile: { $: 'depth', class: 'Object' } } },
      'text',
      7,
    ]);
    expect(c.end().truncated).toBe(true);
  });
});
