/**
 * Call-tree context: which traced calls enclose the current one, across await, timers
 * and callbacks. It rides on AsyncLocalStorage, which on Node 20 makes every async
 * operation in the process slower from its first use (about 3.6x per promise here), so
 * the storage exists only while at least one session asks for parents, and is disabled
 * (and dropped) when the last one ends. With no storage, calls run directly.
 *
 * A wrapper's call runs inside its frame (`run`). A probe can't wrap the call it sees;
 * it *opens* its frame at the call's entry, for the rest of the current execution
 * (`open`: what the probed function runs and schedules, across await and callbacks, as
 * under a wrapper) and puts the caller's context back at the call's return (`close`).
 * A probed call that throws meets no return: its frame stays the caller's context until
 * the throw is noticed (a shallower return of the same function, or the next microtask
 * checkpoint), then it is marked `stale`, and a stale frame is no parent where it is
 * the context itself (the caller's code after the throw).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** A token a hook returns from `enter`: the call's id within the process. */
export interface CallToken {
  readonly id: number;
}

/** One traced call on the stack of enclosing calls: its matched [hook, token] pairs. */
export interface CallFrame {
  readonly parent: CallFrame | undefined;
  readonly matched: readonly unknown[];
  /** A probe's call that threw: its frame may still be its caller's context (see above). */
  stale?: boolean;
}

interface SessionBound {
  readonly sessionKey: object;
}

const reflectApply = Reflect.apply;
const reflectConstruct = Reflect.construct;

function invoke(original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  return newTarget === undefined ? reflectApply(original, self, args) : reflectConstruct(original, args, newTarget);
}

class CallContext {
  private storage: AsyncLocalStorage<CallFrame> | undefined;
  private users = 0;

  /** A session that tracks parents starts using the storage. */
  retain(): void {
    if (this.users++ === 0) this.storage = new AsyncLocalStorage<CallFrame>();
  }

  release(): void {
    if (this.users === 0) return;
    if (--this.users === 0) {
      this.storage?.disable();
      this.storage = undefined;
    }
  }

  get active(): boolean {
    return this.storage !== undefined;
  }

  enter(matched: readonly unknown[]): CallFrame {
    return { parent: this.current(), matched };
  }

  /** The context, past a stale probe frame left by a throw. */
  private current(): CallFrame | undefined {
    let frame = this.storage?.getStore();
    while (frame?.stale === true) frame = frame.parent;
    return frame;
  }

  /**
   * A probe's call begins: `frame` is the context from here on in this execution.
   * Returns the context to put back when the call returns.
   */
  open(frame: CallFrame): CallFrame | undefined {
    const storage = this.storage;
    if (storage === undefined) return undefined;
    const previous = storage.getStore();
    storage.enterWith(frame);
    return previous;
  }

  /**
   * A probe's call is over. `returned`: it returned here, in the execution that opened
   * it, whose context goes back to `previous` (if it is still the call's, or a stale
   * frame left by a throw inside it). Else it threw: its frame is marked stale.
   */
  close(frame: CallFrame, previous: CallFrame | undefined, returned: boolean): void {
    if (!returned) {
      frame.stale = true;
      return;
    }
    const storage = this.storage;
    if (storage === undefined) return;
    let at = storage.getStore();
    while (at !== undefined && at !== frame && at.stale === true) at = at.parent;
    if (at === frame) storage.enterWith(previous as CallFrame);
  }

  run(frame: CallFrame, original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
    const storage = this.storage;
    if (storage === undefined) return invoke(original, self, args, newTarget);
    return storage.run(frame, invoke, original, self, args, newTarget);
  }

  /** Id and depth of the nearest enclosing call of the given session. */
  parentOf(sessionKey: object): { id: number; depth: number } | undefined {
    let frame = this.current();
    let depth = 0;
    let found: number | undefined;
    for (; frame !== undefined; frame = frame.parent) {
      const m = frame.matched;
      for (let i = 0; i < m.length; i += 2) {
        if ((m[i] as SessionBound).sessionKey === sessionKey) {
          if (found === undefined) found = (m[i + 1] as CallToken).id;
          depth++;
          break;
        }
      }
    }
    return found === undefined ? undefined : { id: found, depth };
  }
}

export const callContext = new CallContext();
