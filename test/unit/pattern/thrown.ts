import { expect } from 'vitest';
import { LivetraceError } from '../../../src/protocol/errors.js';

/** The LivetraceError `run` throws; fails the test if it throws nothing or anything else. */
export function thrown(run: () => unknown): LivetraceError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LivetraceError);
    return error as LivetraceError;
  }
  throw new Error('expected a LivetraceError, but nothing was thrown');
}
