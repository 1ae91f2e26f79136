/**
 * Call-tree context: which traced calls enclose the current one, without a single frame
 * of ours between a traced function and its caller, and without async hooks unless a
 * session needs parents across await.
 *
 * Two layers:
 * - Synchronous nesting needs no async machinery at all. `current` is the innermost
 *   traced call on the JavaScript stack: the wrapper pushes its call (`push`) just before
 *   it calls the original and pops it (`pop`) as soon as the original returns or throws.
 *   Both are calls that have returned by the time the original runs, so they leave no
 *   frame in its stack (which is what code that finds its caller from the stack needs:
 *   depd, caller-path, import-jsx; and what keeps Error.stackTraceLimit's 10 frames the
 *   program's own).
 * - Across await, timers and callbacks, the enclosing call is carried by an
 *   AsyncLocalStorage, set with `enterWith` in `push` and put back with `enterWith` in
 *   `pop`: the store is then the call for everything the original starts (promises,
 *   timers, immediates created while it runs inherit it), and what it was before for
 *   everything after. `run()` would do the same but keeps its own frames
 *   (`AsyncLocalStorage.run`, our callback) under the original for the whole call.
 *   Outside any synchronous traced call `current` is undefined, and the store answers.
 *
 * The storage exists only while a session asks for async parents (session/async-parents.ts: one that
 * traces more than one function). On Node 20 and 22 an AsyncLocalStorage turns on
 * async hooks, which makes every async operation of the process slower while enabled
 * (about 3.6x per promise on Node 20), and its first use puts a `callbackTrampoline`
 * frame under every native callback of the process *for good* (Node never turns
 * `executionAsyncResource` tracking off). So a session of one function never creates it;
 * the last session to release it disables and drops it. On Node 24 the storage rides on
 * V8's continuation data (AsyncContextFrame) and costs neither.
 *
 * Even a session that holds the storage keeps Node 20's and 22's async hooks on only while
 * one of its calls is in flight (issue 18: a session of two functions made every untraced
 * async call of the process 3-8x slower for as long as it ran, whether its functions were
 * called or not). A frame made with the storage is counted from its push until its call
 * is over (returned or threw; for a returned promise, settled: `endFrame`); when none is
 * left, and no call was made during a whole turn of the event loop, the storage is
 * disabled at a check phase (not at once: a hot traced function would otherwise switch
 * the hooks on and off on every call, or every turn, 2-3 us each time on Node 20). The
 * next push enables it again before it reads the store, so the work that was created
 * while it was on (a timer, a promise, a socket set up inside a traced call) still finds
 * its call when it later calls a traced function. What is lost: a store handed on by work
 * created while no traced call was in flight (a callback scheduled from such a callback):
 * the call it leads to then has no parent. A probe's frame (`openFrame`) is never
 * uncounted: a probed async call's continuations can't be told apart from here, so a
 * session with probed calls keeps the storage on until it ends, as before. Engines that carry the store without async
 * hooks (AsyncContextFrame: Node 24, or 22 with --experimental-async-context-frame) are
 * never disabled, since that costs the process nothing.
 *
 * A probe (engines/probes/trampoline.ts) can't wrap the call it sees; its breakpoint
 * condition runs at the call's entry and at each return. It *opens* its frame at entry
 * (`openFrame`: `current` and the store, with enterWith, as a wrapper's push) and puts
 * the caller's context back at the return (`closeFrame`). A probed call that throws
 * meets no return: its frame stays the context of the code after the throw until the
 * throw is noticed (a shallower return of the same function, a return of an enclosing
 * probed call, or the next microtask checkpoint); then `current` is put back and the
 * frame is marked `stale`, and a stale frame is no parent where it is the context
 * itself (the store of the caller's code after the throw, which only that execution
 * sees). A probe's frame left in `current` by a throw must not leak into other
 * executions (the microtasks that run before the throw is noticed): while the store
 * exists, a probe's `current` only counts where the store agrees (`context`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { uncurryThis } from '../../safe/intrinsics.js';

/** A token a hook returns from `enter`: the call's id within the process. */
export interface CallToken {
  readonly id: number;
}

/**
 * One traced call in the chain of enclosing calls: the hooks that took it with their tokens.
 * A call one hook took (the common case: a site with one session) holds that hook and its
 * token itself (`hook`, `token`; `matched` undefined), so that it costs no [hook, token]
 * list; any other holds its [hook, token] pairs in `matched` (`hook` undefined). Exactly
 * one of the two is set.
 */
export interface CallFrame {
  readonly parent: CallFrame | undefined;
  readonly hook: unknown;
  readonly token: unknown;
  readonly matched: readonly unknown[] | undefined;
  /** A probe's call that threw: its frame may still be its caller's context (see above). */
  stale?: boolean;
}

/** A frame the wrapper pushed: what to put back when the call returns. */
export interface PushedFrame extends CallFrame {
  readonly savedCurrent: CallFrame | undefined;
  readonly savedStore: CallFrame | undefined;
  /** The storage set at push (the one to restore, if it is still the live one at pop). */
  readonly storage: AsyncLocalStorage<CallFrame> | undefined;
  /** Opened by a probe (`openFrame`): it may outlive its call (see above). */
  readonly probe: boolean;
  /**
   * The call's start (monotonic ns), set by whoever opened the frame: the frame is also
   * the wrapper's handle on the call (dispatch.ts ActiveCall), one object instead of two.
   * NaN until then (a double from the first: see session/call.ts entryToken).
   */
  start: number;
  /** Counted in the calls in flight that keep the storage on (`endFrame` uncounts it). */
  inFlight: boolean;
}

interface SessionBound {
  readonly sessionKey: object;
}

/**
 * AsyncLocalStorage's methods as they were when livetrace loaded: a pattern may not
 * patch them (they are excluded from matching, self-used.ts), but an older copy of
 * livetrace or the application may have wrapped them, and livetrace's own calls must
 * never go through a wrapper.
 */
const Storage = AsyncLocalStorage;
const ALS = Storage.prototype;
const alsEnterWith = uncurryThis(ALS.enterWith) as (storage: AsyncLocalStorage<CallFrame>, store: CallFrame) => void;
const alsGetStore = uncurryThis(ALS.getStore) as (storage: AsyncLocalStorage<CallFrame>) => CallFrame | undefined;
const alsDisable = uncurryThis(ALS.disable) as (storage: AsyncLocalStorage<CallFrame>) => void;
/**
 * Node's async-hooks storage (Node 20, 22 by default) turns itself on with `_enable` (what
 * `enterWith` calls first); the AsyncContextFrame one has neither it nor `_propagate`.
 */
const alsEnable = typeof (ALS as { _enable?: unknown })._enable === 'function' && typeof (ALS as { _propagate?: unknown })._propagate === 'function'
  ? (uncurryThis((ALS as unknown as { _enable: () => void })._enable) as (storage: AsyncLocalStorage<CallFrame>) => void)
  : undefined;
// Livetrace's own: an application's replacement installed later must not run for us.
const schedule = setImmediate;
/**
 * The class and every method of its prototype, to keep patterns off them (self-used.ts):
 * besides the ones called above, Node's async hooks call the internal ones
 * (`_propagate` for every new async resource) for as long as livetrace's storage exists.
 */
export const contextMethods: readonly unknown[] = [Storage, ...Reflect.ownKeys(ALS).map((key) => Reflect.getOwnPropertyDescriptor(ALS, key)?.value)];

/**
 * The context itself, one per process: two copies of livetrace (the preload's CommonJS
 * build and the ESM build a program imports) dispatch through their own modules, and a
 * call one copy's site dispatches must be the parent of the calls the other's sessions see.
 * `current`: the innermost traced call on the synchronous stack; `storage`: the async
 * context while some session carries one, `users` such sessions.
 */
interface SharedContext {
  current: CallFrame | undefined;
  storage: AsyncLocalStorage<CallFrame> | undefined;
  users: number;
  /** Frames made with `storage` whose calls are not over (see above). */
  inFlight?: number;
  /** The storage is switched off while no call is in flight (async-hooks storages only). */
  idle?: boolean;
  /** A check for idleness is scheduled. */
  idleCheck?: boolean;
  /** Frames made with `storage` so far, and as the last idleness check saw it. */
  made?: number;
  madeAtCheck?: number;
}
// v2: frames count themselves in flight and the storage is switched off between calls; a
// copy of livetrace that does not count its frames must not share (and idle) this one.
// v3: a frame may hold its one hook and token without a [hook, token] list (CallFrame),
// which a v2 copy would not read.
const CONTEXT_KEY = Symbol.for('livetrace.context.v3');
const shared: SharedContext = ((globalThis as Record<symbol, unknown>)[CONTEXT_KEY] as SharedContext | undefined) ??
  ((globalThis as Record<symbol, unknown>)[CONTEXT_KEY] = { current: undefined, storage: undefined, users: 0 } satisfies SharedContext) as SharedContext;

/** A session that needs parents across await starts using the storage. */
export function retainAsyncContext(): void {
  if (shared.users++ === 0) {
    shared.storage = new Storage<CallFrame>();
    shared.inFlight = 0;
    shared.idle = false;
  }
}

export function releaseAsyncContext(): void {
  if (shared.users === 0) return;
  if (--shared.users === 0) {
    if (shared.storage !== undefined) alsDisable(shared.storage);
    shared.storage = undefined;
    shared.inFlight = 0;
    shared.idle = false;
  }
}

/** True while the storage is switched off for want of a call in flight (for tests and docs). */
export function asyncContextIdle(): boolean {
  return shared.idle === true;
}

/** A call with a frame made with the storage is over (once per frame; later calls do nothing). Never throws. */
export function endFrame(frame: PushedFrame): void {
  if (frame.inFlight !== true) return;
  frame.inFlight = false;
  if (frame.storage !== shared.storage) return;
  if (shared.inFlight !== undefined && shared.inFlight > 0 && --shared.inFlight === 0) scheduleIdleCheck();
}

function scheduleIdleCheck(): void {
  if (alsEnable === undefined || shared.idleCheck === true) return;
  shared.idleCheck = true;
  try {
    // Unref'd: the check never keeps the process alive.
    schedule(idleCheck).unref();
  } catch {
    shared.idleCheck = false;
  }
}

/**
 * The storage back on if it is idle, before its store is read or set (a store set with
 * enterWith would turn it on too, but reads of a disabled storage answer nothing). A frame
 * whose call is already over (a generator resumed later) may set it: the next check phase
 * looks again.
 */
function wake(live: AsyncLocalStorage<CallFrame>): void {
  if (shared.idle !== true) return;
  shared.idle = false;
  try {
    alsEnable!(live);
  } catch {
    // Node's own method on our storage: not expected to throw.
  }
  if (shared.inFlight === 0) scheduleIdleCheck();
}

function idleCheck(): void {
  shared.idleCheck = false;
  const live = shared.storage;
  if (live === undefined || shared.inFlight !== 0 || shared.idle === true) return;
  if (shared.made !== shared.madeAtCheck) {
    // Calls were made since the last look: one more turn first, so a function traced in
    // every turn does not switch the hooks off and on each time (2-3 us a turn on Node 20).
    shared.madeAtCheck = shared.made;
    scheduleIdleCheck();
    return;
  }
  try {
    alsDisable(live);
    shared.idle = true;
  } catch {
    // Node's own method on our storage: not expected to throw; the storage stays on.
  }
}

/** True while async context is carried (for tests and docs). */
export function asyncContextActive(): boolean {
  return shared.storage !== undefined;
}

/**
 * The enclosing call. A probe's frame in `shared.current` may be one a throw left there (see
 * above): while the store it was opened with exists, the store of this execution says
 * whether it still encloses anything here. A stale frame is never the context.
 */
function context(): CallFrame | undefined {
  let frame: CallFrame | undefined = shared.current;
  if (frame === undefined) {
    // A hook asks for the parent before the call's frame is made (wake: see above).
    if (shared.storage !== undefined) {
      wake(shared.storage);
      frame = alsGetStore(shared.storage);
    }
  } else if ((frame as PushedFrame).probe === true && shared.storage !== undefined && (frame as PushedFrame).storage === shared.storage) {
    frame = alsGetStore(shared.storage);
  }
  while (frame !== undefined && frame.stale === true) frame = frame.parent;
  return frame;
}

function makeFrame(hook: unknown, token: unknown, matched: readonly unknown[] | undefined, probe: boolean): PushedFrame {
  const live = shared.storage;
  if (live !== undefined) {
    // Switched off while idle: back on before the store is read, so the stores that work
    // created while it was on still carry (see above).
    wake(live);
    shared.inFlight = (shared.inFlight ?? 0) + 1;
    shared.made = (shared.made ?? 0) + 1;
  }
  const store = live === undefined ? undefined : alsGetStore(live);
  const frame: PushedFrame = { parent: context(), hook, token, matched, savedCurrent: shared.current, savedStore: store, storage: live, probe, start: NaN, inFlight: live !== undefined };
  enterFrame(frame, live);
  return frame;
}

function enterFrame(frame: PushedFrame, live: AsyncLocalStorage<CallFrame> | undefined): void {
  shared.current = frame;
  if (live !== undefined) {
    try {
      alsEnterWith(live, frame);
    } catch {
      // enterWith only throws on an exhausted stack; the call keeps its sync parent.
    }
  }
}

/** A frame's fields as its maker fills them. */
type Unset<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A call one hook took whose token was made to be its frame: it has PushedFrame's fields
 * (unset: `token` undefined, `probe` false, `start` NaN) and its `hook` is the hook (the
 * session's tokens, session/call.ts entryToken). The token becomes the call's frame and
 * the enclosing call, as `pushCall(token.hook, token)` would make a frame for it, but
 * without a frame object of its own: one object fewer per reported call. Never throws.
 */
export function adoptFrame(token: PushedFrame): PushedFrame {
  const frame = token as Unset<PushedFrame>;
  const live = shared.storage;
  if (live !== undefined) {
    wake(live);
    shared.inFlight = (shared.inFlight ?? 0) + 1;
    shared.made = (shared.made ?? 0) + 1;
  }
  frame.savedStore = live === undefined ? undefined : alsGetStore(live);
  frame.parent = context();
  frame.token = frame;
  frame.savedCurrent = shared.current;
  frame.storage = live;
  frame.inFlight = live !== undefined;
  enterFrame(frame, live);
  return frame;
}

/** Makes a frame for a call about to run and makes it the enclosing call (`matched`: its [hook, token] pairs). Never throws. */
export function pushFrame(matched: readonly unknown[]): PushedFrame {
  return makeFrame(undefined, undefined, matched, false);
}

/** `pushFrame` for a call one hook took: the frame holds the hook and its token, no list. Never throws. */
export function pushCall(hook: object, token: object): PushedFrame {
  return makeFrame(hook, token, undefined, false);
}

/** A frame's [hook, token] pairs as a list (made here for a frame of one hook: not on the hot path). */
export function matchedOf(frame: CallFrame): readonly unknown[] {
  return frame.matched ?? [frame.hook, frame.token];
}

/** The call returned or threw: the enclosing call is what it was before `pushFrame`. */
export function popFrame(frame: PushedFrame): void {
  shared.current = frame.savedCurrent;
  // A storage released during the call (its session stopped) must not be re-enabled:
  // enterWith on a disabled storage turns it back on.
  if (frame.storage !== undefined && frame.storage === shared.storage) {
    wake(frame.storage);
    try {
      alsEnterWith(frame.storage, frame.savedStore as CallFrame);
    } catch {
      // As above.
    }
  }
}

/**
 * An instrumented async call resumes after an `await` (patcher/body-site.ts): its frame is
 * the enclosing call again for the rest of this execution. Its first `await` put the
 * caller's store back before suspending (the caller runs on from there), so the
 * continuation inherited the caller's. Never throws.
 */
export function resumeFrame(frame: PushedFrame): void {
  if (frame.storage !== undefined && frame.storage === shared.storage) {
    wake(frame.storage);
    try {
      alsEnterWith(frame.storage, frame);
    } catch {
      // As above.
    }
  }
}

/** A probed call begins: its frame is the context from here on in this execution. Never throws. */
export function openFrame(matched: readonly unknown[]): PushedFrame {
  return makeFrame(undefined, undefined, matched, true);
}

/**
 * `frame` is `at`, or under probe frames of calls opened inside it: those have ended
 * by the time `frame`'s call is over (their return was never seen: they threw).
 */
function encloses(frame: PushedFrame, at: CallFrame | undefined): boolean {
  while (at !== undefined && at !== frame && (at as PushedFrame).probe === true) at = at.parent;
  return at === frame;
}

/**
 * A probed call is over. `returned`: it returned here, in the execution that opened
 * it, whose context goes back to the caller's (if the call's frame is still it, or
 * under frames of probed calls that threw inside it). Else it threw: its frame is
 * marked stale, and `shared.current` goes back to the caller's. Never throws.
 */
export function closeFrame(frame: PushedFrame, returned: boolean): void {
  if (encloses(frame, shared.current)) shared.current = frame.savedCurrent;
  if (!returned) {
    frame.stale = true;
    return;
  }
  const live = frame.storage;
  if (live !== undefined && live === shared.storage) wake(live);
  if (live !== undefined && live === shared.storage && encloses(frame, alsGetStore(live))) {
    try {
      alsEnterWith(live, frame.savedStore as CallFrame);
    } catch {
      // As above.
    }
  }
}

/**
 * At a microtask checkpoint no synchronous call is running: whatever probe frame a
 * throw left in `shared.current` encloses nothing any more.
 */
export function checkpoint(): void {
  shared.current = undefined;
}

/** Depth of the parent `enclosing` found last (0 when it found none). */
let foundDepth = 0;

/**
 * Id of the nearest enclosing call of the given session, or -1; its depth is then
 * `enclosingDepth()`. Two numbers without an object: this runs for every reported call.
 */
export function enclosing(sessionKey: object): number {
  let frame = context();
  let depth = 0;
  let found = -1;
  for (; frame !== undefined; frame = frame.parent) {
    const hook = frame.hook;
    if (hook !== undefined) {
      if ((hook as SessionBound).sessionKey === sessionKey) {
        if (found === -1) found = (frame.token as CallToken).id;
        depth++;
      }
      continue;
    }
    const m = frame.matched!;
    for (let i = 0; i < m.length; i += 2) {
      if ((m[i] as SessionBound).sessionKey === sessionKey) {
        if (found === -1) found = (m[i + 1] as CallToken).id;
        depth++;
        break;
      }
    }
  }
  foundDepth = depth;
  return found;
}

/** The depth of the parent the last `enclosing` call found. */
export function enclosingDepth(): number {
  return foundDepth;
}

/** Id and depth of the nearest enclosing call of the given session. */
export function parentOf(sessionKey: object): { id: number; depth: number } | undefined {
  const id = enclosing(sessionKey);
  return id === -1 ? undefined : { id, depth: foundDepth };
}
