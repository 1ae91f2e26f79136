/** What tests of coded refusals share. */
import { LivetraceError } from '../../src/protocol/errors.js';

/** The LivetraceError `promise` rejects with; any other outcome fails the test. */
export async function refusal(promise: Promise<unknown>): Promise<LivetraceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LivetraceError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
