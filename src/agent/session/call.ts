/**
 * What one reported call is made of, on the hot path: the token built at entry (what
 * was captured before the function ran) and the call record built at exit. The session
 * (session.ts) decides whether a call is reported and accounts for the time; these two
 * only capture and assemble. The call record writes the header of every record
 * (records.ts) from the same constants in its object literal, so that reporting a
 * call costs no extra object or call; its field order is the one docs/events.md shows.
 */
import { threadId } from 'node:worker_threads';
import type { Value } from '../../protocol/value.js';
import type { CallEvent, CallOutcome } from '../../protocol/events.js';
import type { ResolvedOptions } from '../../protocol/options.js';
import type { Bindings, Matcher } from '../../pattern/match/matcher.js';
import type { Capturer } from '../capture/capturer.js';
import { captureStack } from '../capture/stack.js';
import { wallTime } from '../clock.js';
import type { SessionHook, Token } from './hooks.js';
import { RECORD_PID, RECORD_VERSION } from './records.js';

/** Approximate fixed size of a call record besides its captured values. */
export const RECORD_OVERHEAD_BYTES = 160;

/**
 * Call ids are unique in the process: a worker thread's calls reach the main thread's
 * session (threads/relay.ts) beside the main thread's own, so each thread counts from
 * its threadId times 2^32 (2^21 threads, 2^32 calls each, below 2^53).
 *
 * The count itself starts as a small integer, and the main thread's ids are the count:
 * a counter that starts as the double `threadId * 2^32 + 1` was a heap number in V8,
 * and every increment allocated a new one (16 bytes a reported call, and the token's and
 * the record's `id` a boxed double each).
 */
const ID_BASE = threadId * 2 ** 32;
let callCount = 0;

/** A call's token: its arguments, `this` and stack captured unless the pattern only aggregates. */
export function entryToken(
  capturer: Capturer,
  options: ResolvedOptions,
  hook: SessionHook,
  matcher: Matcher,
  bindings: Bindings,
  self: unknown,
  args: unknown[],
  /** The enclosing call's id, -1 for none (patcher/context.ts enclosing), and its depth. */
  parent: number,
  depth: number,
  aggregate: boolean,
): Token {
  let args$: Value[] | undefined;
  let self$: Value | undefined;
  let stack: CallEvent['stack'];
  let truncated = false;
  let bytes = 0;
  if (!aggregate) {
    capturer.begin();
    // The argument array is the site's own, made for this call (patcher/dispatch.ts Hook.enter): kept when plain.
    args$ = capturer.values(args, hook.redaction, true);
    if (matcher.actions.this) self$ = capturer.value(self);
    truncated = capturer.truncated;
    bytes = capturer.bytes;
    if (matcher.actions.stack || options.stack) stack = captureStack();
  }
  return {
    id: ID_BASE === 0 ? ++callCount : ID_BASE + ++callCount,
    hook,
    matcher,
    bindings,
    parentId: parent === -1 ? null : parent,
    depth,
    aggregate,
    args: args$,
    self: self$,
    stack,
    truncated,
    bytes,
    // Undefined (untimed) until the session sets it, on one light call in 16: a field that
    // starts as a double (NaN) would cost every token a box for it.
    enteredAt: undefined,
    // Undefined until a returned promise is pending (settle follows): a double field would cost every call a box.
    end: undefined,
    // The call's frame in the call-tree context, unset until the site makes the token its
    // frame (patcher/context.ts adoptFrame; PushedFrame's fields, in its order).
    parent: undefined,
    token: undefined,
    matched: undefined,
    savedCurrent: undefined,
    savedStore: undefined,
    storage: undefined,
    probe: false,
    // The call's start (the site's reading): a double from the first (a frame's is too).
    start: NaN,
    inFlight: false,
  };
}

/** The call record of a call that ended (`captured`: its result or error, as captured at exit). */
export function callEvent(
  session: string,
  token: Token,
  outcome: CallOutcome,
  captured: Value,
  truncated: boolean,
  durationNs: number,
  settleNs: number | undefined,
  start: number,
): CallEvent {
  const failed = outcome === 'throw' || outcome === 'reject';
  let event: CallEvent;
  if (token.self === undefined && !failed) {
    // The common record (no `this`, a value) in one literal with its `value` in place: the
    // same field order, without a property added past the literal's own (which costs the
    // object a separate property store).
    event = {
      v: RECORD_VERSION,
      type: 'call',
      session,
      id: token.id,
      parent: token.parentId,
      depth: token.depth,
      fn: token.hook.fn,
      module: token.hook.module,
      engine: token.hook.engine,
      pid: RECORD_PID,
      thread: threadId,
      ts: wallTime(start),
      args: token.args ?? [],
      outcome,
      durationNs: Math.round(durationNs),
      truncated: token.truncated || truncated,
      value: captured,
    };
  } else {
    event = {
      v: RECORD_VERSION,
      type: 'call',
      session,
      id: token.id,
      parent: token.parentId,
      depth: token.depth,
      fn: token.hook.fn,
      module: token.hook.module,
      engine: token.hook.engine,
      pid: RECORD_PID,
      thread: threadId,
      ts: wallTime(start),
      args: token.args ?? [],
      outcome,
      durationNs: Math.round(durationNs),
      truncated: token.truncated || truncated,
    };
    if (token.self !== undefined) event.this = token.self;
    if (failed) event.error = captured;
    else event.value = captured;
  }
  if (settleNs !== undefined) event.settleNs = Math.round(settleNs);
  if (token.stack !== undefined) event.stack = token.stack;
  return event;
}
