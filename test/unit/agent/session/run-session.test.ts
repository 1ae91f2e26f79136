import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLAIM_TIMEOUT_MS, RUN_ENV, claimRunSession, startRunSession } from '../../../../src/agent/session/run-session.js';
import { activeSessions } from '../../../../src/agent/session/session.js';
import { LivetraceError } from '../../../../src/protocol/errors.js';

const TOKEN = 'a'.repeat(48);

function env(patterns: string[], token = TOKEN): NodeJS.ProcessEnv {
  return { [RUN_ENV]: JSON.stringify({ token, patterns, options: { max: 5 } }) };
}

function claimError(token: string): LivetraceError {
  try {
    claimRunSession(token);
  } catch (error) {
    return error as LivetraceError;
  }
  throw new Error('the claim succeeded');
}

afterEach(async () => {
  for (const session of activeSessions()) await session.stop();
  // Each case starts from a process that has not pre-started a run session.
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('livetrace.run')];
  vi.useRealTimers();
});

describe('the run session', () => {
  it('starts before anything matches and is handed over once, for the right token only', () => {
    startRunSession(Promise.resolve(false), env(['nothing/loaded/yet:fn']));
    expect(activeSessions()).toHaveLength(1);
    expect(claimError('b'.repeat(48)).code).toBe('LT_SESSION_UNKNOWN');
    expect(claimError('short').code).toBe('LT_SESSION_UNKNOWN');
    const session = claimRunSession(TOKEN);
    const [started] = session.take(1);
    expect(started).toMatchObject({ type: 'started', patterns: ['nothing/loaded/yet:fn'], matched: [], limits: { max: 5 } });
    expect(claimError(TOKEN).code).toBe('LT_SESSION_UNKNOWN');
  });

  it('stops by itself when nobody claims it in time', () => {
    vi.useFakeTimers();
    startRunSession(Promise.resolve(false), env(['nothing/loaded/yet:fn']));
    vi.advanceTimersByTime(CLAIM_TIMEOUT_MS - 1);
    expect(activeSessions()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(activeSessions()).toHaveLength(0);
    expect(claimError(TOKEN).code).toBe('LT_SESSION_UNKNOWN');
  });

  it('waits again when the event loop was blocked while it waited (a busy start could not answer)', () => {
    vi.useFakeTimers();
    startRunSession(Promise.resolve(false), env(['nothing/loaded/yet:fn']));
    vi.advanceTimersByTime(1000);
    // Two seconds pass with no timer running: the program was loading synchronously.
    vi.setSystemTime(Date.now() + 2000);
    vi.advanceTimersByTime(CLAIM_TIMEOUT_MS - 1000);
    expect(activeSessions()).toHaveLength(1);
    vi.advanceTimersByTime(CLAIM_TIMEOUT_MS - 1);
    expect(activeSessions()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(activeSessions()).toHaveLength(0);
  });

  it('keeps the error of a session that could not start for the claim to report', () => {
    startRunSession(Promise.resolve(false), env(['**:*']));
    expect(activeSessions()).toHaveLength(0);
    expect(claimError(TOKEN).code).toBe('LT_PATTERN_TOO_BROAD');
  });

  it('ignores a missing or malformed request', () => {
    startRunSession(Promise.resolve(false), {});
    startRunSession(Promise.resolve(false), { [RUN_ENV]: '{"token": 1}' });
    expect(activeSessions()).toHaveLength(0);
    expect(claimError(TOKEN).code).toBe('LT_SESSION_UNKNOWN');
  });
});
