import { describe, expect, it } from 'vitest';
import { LivetraceError, errorTable, toLivetraceError } from '../../../src/protocol/errors.js';

describe('LivetraceError', () => {
  it('carries code, input, hint and the exit status of its table row', () => {
    const error = new LivetraceError('LT_PID_NOT_FOUND', 'no process 99999', { input: 99999 });
    expect(error.code).toBe('LT_PID_NOT_FOUND');
    expect(error.input).toBe(99999);
    expect(error.hint).toBe(errorTable.LT_PID_NOT_FOUND.hint);
    expect(error.exitCode).toBe(2);
  });

  it('round-trips through its record form', () => {
    const error = new LivetraceError('LT_PATTERN_SYNTAX', 'expected ":"', { input: 'a b', column: 3, expected: "':'", found: "'b'" });
    const back = LivetraceError.fromRecord(JSON.parse(JSON.stringify(error.toRecord())));
    expect(back.toRecord()).toEqual(error.toRecord());
  });

  it('maps an unknown code from a peer to LT_INTERNAL and wraps foreign errors', () => {
    const back = LivetraceError.fromRecord({ code: 'LT_NOPE' as never, message: 'x', hint: 'y' });
    expect(back.code).toBe('LT_INTERNAL');
    const wrapped = toLivetraceError(new TypeError('boom'));
    expect(wrapped.code).toBe('LT_INTERNAL');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
  });
});
