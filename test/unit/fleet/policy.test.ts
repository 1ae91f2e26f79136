import { describe, expect, it } from 'vitest';
import { moduleAllowed, parsePolicy, withoutValues } from '../../../src/fleet/policy.js';
import { parseFleetUrl, fleetError } from '../../../src/fleet/redis.js';
import { agentKeyPattern, cleanName } from '../../../src/fleet/keys.js';
import type { CallEvent } from '../../../src/protocol/events.js';

describe('the fleet policy', () => {
  it('allows everything when unset, and reads inline JSON', () => {
    expect(parsePolicy(undefined)).toEqual({ modules: null, values: true, maxSessionMs: null });
    expect(parsePolicy('{"modules":["lib/*"],"values":false,"maxSessionMs":3000}')).toEqual({ modules: ['lib/*'], values: false, maxSessionMs: 3000 });
  });

  it('refuses every module when the policy cannot be read', () => {
    const policy = parsePolicy('{"modules": [');
    expect(policy.modules).toEqual([]);
    expect(policy.values).toBe(false);
    expect(policy.problem).toBeDefined();
    expect(parsePolicy('{"maxSessionMs": -1}').modules).toEqual([]);
    expect(parsePolicy('/no/such/policy.json').modules).toEqual([]);
  });

  it('matches modules with or without their extension', () => {
    expect(moduleAllowed('lib/math.cjs', ['lib/math'])).toBe(true);
    expect(moduleAllowed('src/db/query.ts', ['src/**'])).toBe(true);
    expect(moduleAllowed('lib/work.cjs', ['lib/math'])).toBe(false);
    expect(moduleAllowed('node:fs', ['src/**'])).toBe(false);
  });

  it('withholds every captured value of a call', () => {
    const call = { type: 'call', args: [1, 'secret'], this: { a: 1 }, value: 'x', fn: 'a:f' } as unknown as CallEvent;
    const out = withoutValues(call) as CallEvent & { valuesWithheld?: boolean };
    expect(out.args).toEqual([{ $: 'redacted' }, { $: 'redacted' }]);
    expect(out.this).toEqual({ $: 'redacted' });
    expect(out.value).toEqual({ $: 'redacted' });
    expect(out.valuesWithheld).toBe(true);
    expect(call.args).toEqual([1, 'secret']);
  });
});

describe('fleet URLs, names and errors', () => {
  it('parses redis and rediss URLs and never shows the password', () => {
    const url = parseFleetUrl('rediss://ops:p%40ss@redis.internal:6380/2');
    expect(url.options).toMatchObject({ host: 'redis.internal', port: 6380, db: 2, username: 'ops', password: 'p@ss', tls: { servername: 'redis.internal' } });
    expect(url.shown).toBe('rediss://ops:***@redis.internal:6380/2');
    expect(url.user).toBe('ops');
    expect(parseFleetUrl('redis://:pw@127.0.0.1').user).toBe('default');
    expect(() => parseFleetUrl('http://x')).toThrow(/LT_FLEET_URL|not redis/);
    expect(() => parseFleetUrl('not a url :secret@')).toThrow(/is not a Redis URL/);
  });

  it('codes Redis refusals', () => {
    const url = parseFleetUrl('redis://127.0.0.1');
    expect(fleetError(new Error('WRONGPASS invalid username-password pair'), url, 'x').code).toBe('LT_FLEET_AUTH');
    expect(fleetError(new Error('NOPERM this user has no permissions'), url, 'x').code).toBe('LT_FLEET_DENIED');
    expect(fleetError(new Error('connect ECONNREFUSED'), url, 'x').code).toBe('LT_FLEET_UNREACHABLE');
  });

  it('keeps names inside their key', () => {
    expect(cleanName('shop:*evil')).toBe('shop__evil');
    expect(agentKeyPattern('a*b')).toBe('livetrace:agent:a\\*b:*');
  });
});
