/**
 * The session `livetrace run` starts inside the program before the program's own code
 * runs, so that calls from its first line on are traced.
 *
 * The CLI starts the program with the preload in NODE_OPTIONS and puts the session in
 * LIVETRACE_RUN (JSON: a random token, the patterns, the trace options). The preload
 * (register.ts) calls `startRunSession()` before the main module loads; the session
 * starts with `waitForModules`, so its patterns hook modules as they load, and its
 * records wait in the session's own bounded queue (events and bytes; over the bound they
 * are dropped and counted, as always). The CLI then connects to the agent's socket and
 * sends `claim {token}`; the server hands the session to that connection, which streams
 * it from the first record and owns it from then on (it stops when the connection
 * closes, like any session).
 *
 * Nobody else can take it: the token is compared in constant time and a session is
 * claimed at most once. Nothing is left behind when the CLI never comes (it was killed,
 * or the program was started with a copied environment): an unclaimed session stops by
 * itself after CLAIM_TIMEOUT_MS of time it could have been claimed in (reason
 * 'client-gone'; a busy start does not count), and the timers are unref'd. A
 * session that could not start (the patterns match too much, say) is kept as its error,
 * which the claim returns, so the CLI reports it with its code.
 *
 * The one place this bends the agent's rule of never keeping a process alive: a program
 * that ends by itself (its event loop empties, 'beforeExit') before the CLI has read the
 * session would take its first calls with it, and tracing a short program from its first
 * line is the point of `run`. So at that moment the process waits, in 10 ms steps, until
 * the CLI has claimed the session and read it to its end (it is stopped with reason
 * 'exit'), and never longer than CLAIM_TIMEOUT_MS in all. `process.exit()` and signals
 * are not delayed.
 *
 * A program that is busy from its first line to a `process.exit()` (a test runner's child,
 * a short CLI) never turns its event loop: the CLI can neither claim its session nor read
 * it, and its records would die with it. So at 'exit' (synchronous: nothing can be sent
 * any more) a session with records still unsent is stopped (reason 'exit') and what is
 * queued is written, one record per line, to a spool file in the socket directory named
 * after the run's token digest and the pid (protocol/run-request.ts); the CLI replays it as
 * the process's session. It is bounded: the queue is (the session's limits), the file is
 * cut at SPOOL_MAX_BYTES (the 'stopped' record always goes last), and it is one
 * synchronous write and a rename, a few milliseconds for a full queue. A session that
 * expired unclaimed, or that its CLI has read to its end, writes nothing.
 *
 * Child processes inherit LIVETRACE_RUN with NODE_OPTIONS, so every Node process the
 * program starts pre-starts a session too; the CLI claims each (docs/cli.md, `run`).
 * The state lives on a global symbol, like the agent's (agent.ts), so a second copy of
 * livetrace in the process sees the same waiting session.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LivetraceError, toLivetraceError } from '../../protocol/errors.js';
import { log } from '../log.js';
import { RUN_ENV, runSpoolName, runSpoolPrefix, type RunRequest } from '../../protocol/run-request.js';
import { socketDir } from '../../protocol/socket-path.js';
import { prepareSocketDir } from '../../protocol/socket-dir.js';
import type { TraceOptions } from '../../protocol/options.js';
import { trace, type Session } from './session.js';

export { RUN_ENV, type RunRequest };

/** How long a pre-started session waits for its CLI. */
export const CLAIM_TIMEOUT_MS = 5000;

/** A claim timer this late ran after the event loop was blocked: it is re-armed (startRunSession). */
const LATE_MS = 250;
const WATCH_MS = 100;
const MAX_REARMS = 5;

/** The most a process writes to its spool file at exit; the 'stopped' record always goes. */
export const SPOOL_MAX_BYTES = 16 * 1024 * 1024;


interface Waiting {
  token: Buffer;
  session: Session | undefined;
  error: LivetraceError | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Notes whether the event loop was blocked while the session waited (see startRunSession). */
  watch: NodeJS.Timeout;
  claimed: boolean;
  /** Unclaimed for too long: the session was stopped. */
  expired: boolean;
}

const STATE_KEY = Symbol.for('livetrace.run');
type Holder = { [STATE_KEY]?: Waiting | undefined };

/**
 * Starts the session LIVETRACE_RUN describes, if any. Never throws: a bad request or a
 * session that can't start is kept for the claim to report, and logged. `listening`
 * resolves to whether the agent's socket is up (only then can a CLI come to claim).
 */
export function startRunSession(listening: Promise<boolean>, env: NodeJS.ProcessEnv = process.env): void {
  const raw = env[RUN_ENV];
  const holder = globalThis as Holder;
  if (raw === undefined || raw === '' || holder[STATE_KEY] !== undefined) return;
  let request: RunRequest;
  try {
    request = parseRunRequest(raw);
  } catch (error) {
    log.warn({ err: error }, `${RUN_ENV} is not a run request; no session started`);
    return;
  }
  let session: Session | undefined;
  let error: LivetraceError | undefined;
  try {
    session = trace(request.patterns, { ...request.options, waitForModules: true });
  } catch (caught) {
    error = toLivetraceError(caught);
    log.debug({ err: caught }, 'the run session did not start');
  }
  // The wait counts time the process could answer in. A program busy loading for
  // seconds (mocha requiring every test file) cannot answer the CLI, whose connection
  // waits in the socket's backlog meanwhile; and a timer runs before the poll phase that
  // would accept it. So a light watch (one unref'd tick per WATCH_MS) notes whether the
  // event loop was blocked for more than LATE_MS during the wait; if it was, the wait
  // starts over instead of ending, at most MAX_REARMS times.
  let rearms = 0;
  let blocked = false;
  let last = Date.now();
  const expire = (due: number): void => {
    if (waiting.claimed) return;
    if ((blocked || Date.now() - due > LATE_MS) && rearms < MAX_REARMS) {
      rearms++;
      blocked = false;
      arm();
      return;
    }
    clearInterval(waiting.watch);
    waiting.expired = true;
    log.debug('the run session was not claimed in time');
    void waiting.session?.stop('client-gone');
  };
  const arm = (): void => {
    const due = Date.now() + CLAIM_TIMEOUT_MS;
    waiting.timer = setTimeout(() => expire(due), CLAIM_TIMEOUT_MS);
    waiting.timer.unref();
  };
  const waiting: Waiting = {
    token: Buffer.from(request.token),
    session,
    error,
    timer: undefined,
    watch: setInterval(() => {
      const now = Date.now();
      if (now - last > WATCH_MS + LATE_MS) blocked = true;
      last = now;
    }, WATCH_MS),
    claimed: false,
    expired: false,
  };
  waiting.watch.unref();
  arm();
  holder[STATE_KEY] = waiting;
  if (session !== undefined) spoolAtExit(waiting, session, runSpoolPrefix(request.token), env);
  void listening.then((up) => {
    if (up && session !== undefined) holdExitUntilRead(waiting, session);
  });
}

/** See the essay above: a program ending by itself waits (bounded) for its CLI to read the session. */
function holdExitUntilRead(waiting: Waiting, session: Session): void {
  let deadline: number | undefined;
  const onBeforeExit = (): void => {
    deadline ??= Date.now() + CLAIM_TIMEOUT_MS;
    if (waiting.expired || session.ended || Date.now() >= deadline) {
      process.off('beforeExit', onBeforeExit);
      return;
    }
    if (waiting.claimed) void session.stop('exit');
    // One more turn of the event loop, then 'beforeExit' comes again.
    setTimeout(() => {}, 10);
  };
  process.on('beforeExit', onBeforeExit);
}

/** See the essay above: what nobody could read before the process exits goes to the spool file. */
function spoolAtExit(waiting: Waiting, session: Session, prefix: string, env: NodeJS.ProcessEnv): void {
  const dir = socketDir(env);
  process.on('exit', () => {
    if (waiting.expired || session.ended || (globalThis as Holder)[STATE_KEY] !== waiting) return;
    let file: string | undefined;
    try {
      void session.stop('exit');
      const records = session.take();
      if (records.length === 0) return;
      const last = records[records.length - 1]!;
      let text = '';
      for (let i = 0; i < records.length - 1; i++) {
        const line = JSON.stringify(records[i]) + '\n';
        if (text.length + line.length > SPOOL_MAX_BYTES) break;
        text += line;
      }
      text += JSON.stringify(last) + '\n';
      // The socket directory's trust check (private to this user), as before listening.
      prepareSocketDir(dir);
      const target = join(dir, runSpoolName(prefix, process.pid));
      file = `${target}.tmp`;
      // Written whole, then renamed: the CLI never reads half a file.
      writeFileSync(file, text, { mode: 0o600 });
      renameSync(file, target);
      file = undefined;
    } catch (error) {
      log.debug({ err: error }, 'the run session could not be spooled at exit');
      if (file !== undefined) {
        try {
          unlinkSync(file);
        } catch {
          // Nothing more to do on the way out.
        }
      }
    }
  });
}

/**
 * Hands over the waiting session whose token this is. Throws LT_SESSION_UNKNOWN when
 * none waits for it (wrong token, claimed already, expired), or the error the session
 * failed to start with.
 */
export function claimRunSession(token: string): Session {
  const holder = globalThis as Holder;
  const waiting = holder[STATE_KEY];
  const given = Buffer.from(token);
  // node:crypto loaded when a run is claimed, not as the agent loads: an attached process
  // never claims one, and loading it cost the attach 8-10 ms of the target's thread (branch attach8).
  const { timingSafeEqual } = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
  if (
    waiting === undefined ||
    given.length !== waiting.token.length ||
    !timingSafeEqual(given, waiting.token) ||
    waiting.claimed ||
    waiting.expired
  ) {
    throw new LivetraceError('LT_SESSION_UNKNOWN', 'no session of livetrace run waits here for this token', {
      hint: `The session was claimed already, or it stopped after ${CLAIM_TIMEOUT_MS / 1000}s unclaimed.`,
    });
  }
  waiting.claimed = true;
  clearTimeout(waiting.timer);
  clearInterval(waiting.watch);
  if (waiting.session === undefined) throw waiting.error ?? new LivetraceError('LT_INTERNAL', 'the run session did not start');
  return waiting.session;
}

function parseRunRequest(raw: string): RunRequest {
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'object' || value === null) throw new Error('not an object');
  const { token, patterns, options } = value as Record<string, unknown>;
  if (typeof token !== 'string' || token.length < 16 || token.length > 200) throw new Error('bad token');
  if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === 'string')) {
    throw new Error('bad patterns');
  }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new Error('bad options');
  }
  return { token, patterns: patterns as string[], ...(options === undefined ? {} : { options: options as TraceOptions }) };
}
