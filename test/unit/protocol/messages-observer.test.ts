/** The parse gate for the observer ops (info, get). */
import { describe, expect, it } from 'vitest';
import { LivetraceError } from '../../../src/protocol/errors.js';
import { parseRequest } from '../../../src/protocol/messages.js';

function code(frame: unknown): string {
  try {
    parseRequest(frame);
  } catch (error) {
    return (error as LivetraceError).code;
  }
  return 'none';
}

describe('parseRequest for the observer ops', () => {
  it('takes info with or without light, keeping only a true light', () => {
    expect(parseRequest({ id: 1, op: 'info' })).toEqual({ id: 1, op: 'info' });
    expect(parseRequest({ id: 1, op: 'info', light: true })).toEqual({ id: 1, op: 'info', light: true });
    expect(parseRequest({ id: 1, op: 'info', light: 'yes', extra: 1 })).toEqual({ id: 1, op: 'info' });
  });

  it('takes get with a path string and refuses anything else', () => {
    expect(parseRequest({ id: 2, op: 'get', path: 'src/cache:store' })).toEqual({ id: 2, op: 'get', path: 'src/cache:store' });
    expect(code({ id: 2, op: 'get' })).toBe('LT_PROTOCOL_BAD_REQUEST');
    expect(code({ id: 2, op: 'get', path: '' })).toBe('LT_PROTOCOL_BAD_REQUEST');
    expect(code({ id: 2, op: 'get', path: 42 })).toBe('LT_PROTOCOL_BAD_REQUEST');
    expect(code({ id: 2, op: 'get', path: 'x'.repeat(5000) })).toBe('LT_PROTOCOL_BAD_REQUEST');
  });
});
