import { describe, expect, it } from 'vitest';
import { Capturer, capture } from '../../../../src/agent/capture/capturer.js';
import { Redactor, normalizeKey } from '../../../../src/agent/capture/redaction.js';
import { LivetraceError } from '../../../../src/protocol/errors.js';

describe('redaction', () => {
  it('redacts default terms by normalized substring, at any depth, in Map string keys too', () => {
    const value = capture({
      user: { name: 'ada', Password: 'p', profile: { apiKey: 'k', 'x-api-key': 'k2', API_KEY: 'k3' } },
      headers: new Map([
        ['Authorization', 'Bearer t'],
        ['set-cookie', 'c'],
        ['accept', 'json'],
      ]),
      rows: [{ accessToken: 't', refresh_token: 'r', id: 1 }],
      env: { AWS_SECRET_ACCESS_KEY: 's', DB_PASSWD: 'p', PRIVATE_KEY: 'k', sessionId: 's', credentials: {} },
    }).value;
    expect(value).toEqual({
      user: { name: 'ada', Password: { $: 'redacted' }, profile: { apiKey: { $: 'redacted' }, 'x-api-key': { $: 'redacted' }, API_KEY: { $: 'redacted' } } },
      headers: {
        $: 'map',
        size: 3,
        entries: [
          ['Authorization', { $: 'redacted' }],
          ['set-cookie', { $: 'redacted' }],
          ['accept', 'json'],
        ],
      },
      rows: [{ accessToken: { $: 'redacted' }, refresh_token: { $: 'redacted' }, id: 1 }],
      env: {
        AWS_SECRET_ACCESS_KEY: { $: 'redacted' },
        DB_PASSWD: { $: 'redacted' },
        PRIVATE_KEY: { $: 'redacted' },
        sessionId: { $: 'redacted' },
        credentials: { $: 'redacted' },
      },
    });
  });

  it('never reads a redacted value (a getter stays uncalled, a class field hidden)', () => {
    let reads = 0;
    class Account {
      secret = 's3cr3t';
      get token() {
        reads++;
        return 't';
      }
    }
    const account = new Account();
    Object.defineProperty(account, 'token', { get: () => reads++, enumerable: true });
    expect(capture(account).value).toEqual({ $: 'object', class: 'Account', props: { secret: { $: 'redacted' }, token: { $: 'redacted' } } });
    expect(reads).toBe(0);
  });

  it('adds user entries: exact names after normalization, or globs', () => {
    const r = new Redactor(['ssn', '*card*', 'pin?']);
    expect(r.matches('ssn')).toBe(true);
    expect(r.matches('SSN')).toBe(true);
    expect(r.matches('user_ssn')).toBe(false);
    expect(r.matches('lessons')).toBe(false);
    expect(r.matches('creditCardNumber')).toBe(true);
    expect(r.matches('pin1')).toBe(true);
    expect(r.matches('pin')).toBe(false);
    expect(r.matches('author')).toBe(false);
    expect(r.matches('id')).toBe(false);
    expect(normalizeKey('X-Api_Key.v2')).toBe('xapikeyv2');
    expect(new Capturer({ redact: ['ssn'] }).capture({ SSN: 1, ssn_hash: 2 }).value).toEqual({ SSN: { $: 'redacted' }, ssn_hash: 2 });
  });

  it('refuses entries that match nothing or everything', () => {
    expect(() => new Redactor([''])).toThrow(LivetraceError);
    expect(() => new Redactor(['_-'])).toThrow(LivetraceError);
    expect(() => new Redactor(['**'])).toThrow(LivetraceError);
  });

  it('decides the same way once its memo is full', () => {
    const r = new Redactor();
    for (let i = 0; i < 10_000; i++) expect(r.matches(`field${i}`)).toBe(false);
    expect(r.matches('myToken')).toBe(true);
    expect(r.matches('x'.repeat(500) + 'password')).toBe(true);
  });
});
