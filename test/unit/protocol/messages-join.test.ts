/** The parse gate for the join op (attach --fleet): a URL and a service, nothing else gets through. */
import { describe, expect, it } from 'vitest';
import { LivetraceError } from '../../../src/protocol/errors.js';
import { parseRequest } from '../../../src/protocol/messages.js';

function refusal(frame: unknown): LivetraceError {
  try {
    parseRequest(frame);
  } catch (error) {
    return error as LivetraceError;
  }
  throw new Error('accepted');
}

describe('parseRequest for join', () => {
  it('takes a fleet URL and an optional service', () => {
    expect(parseRequest({ id: 1, op: 'join', fleet: 'redis://h:1' })).toEqual({ id: 1, op: 'join', fleet: 'redis://h:1' });
    expect(parseRequest({ id: 1, op: 'join', fleet: 'redis://h:1', service: 'shop' })).toEqual({ id: 1, op: 'join', fleet: 'redis://h:1', service: 'shop' });
  });

  it('drops a policy or anything else the request does not define (the target keeps its own)', () => {
    const request = parseRequest({ id: 1, op: 'join', fleet: 'redis://h:1', policy: { modules: null, values: true }, LIVETRACE_FLEET_POLICY: '{}' });
    expect(request).toEqual({ id: 1, op: 'join', fleet: 'redis://h:1' });
  });

  it('refuses a missing or oversized URL without echoing it (it may hold a password)', () => {
    expect(refusal({ id: 1, op: 'join' }).code).toBe('LT_PROTOCOL_BAD_REQUEST');
    const long = refusal({ id: 1, op: 'join', fleet: `redis://:secret-pw@h/${'x'.repeat(3000)}` });
    expect(long.code).toBe('LT_PROTOCOL_BAD_REQUEST');
    expect(JSON.stringify(long.toRecord())).not.toContain('secret-pw');
    expect(refusal({ id: 1, op: 'join', fleet: 'redis://h', service: 7 }).code).toBe('LT_PROTOCOL_BAD_REQUEST');
    expect(refusal({ id: 1, op: 'join', fleet: 'redis://h', service: '' }).code).toBe('LT_PROTOCOL_BAD_REQUEST');
  });
});
