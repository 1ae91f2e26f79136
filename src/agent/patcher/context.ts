/**
 * Call-tree context: which traced calls enclose the current one, across await, timers
 * and callbacks. It rides on AsyncLocalStorage, which on Node 20 makes every async
 * operation in the process slower from its first use (about 3.6x per promise here), so
 * the storage exists only while at least one session asks for parents, and is disabled
 * (and dropped) when the last one ends. With no storage, calls run directly.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ReflectApply, ReflectConstruct, uncurryThis } from '../../safe/intrinsics.js';
import { engine } from './guard.js';

/** A token a hook returns from `enter`: the call's id within the process. */
export interface CallToken {
  readonly id: number;
}

/** One traced call on the stack of enclosing calls: its matched [hook, token] pairs. */
export interface CallFrame {
  readonly parent: CallFrame | undefined;
  readonly matched: readonly unknown[];
}

interface SessionBound {
  readonly sessionKey: object;
}

/**
 * AsyncLocalStorage's methods as they were when livetrace loaded: a pattern may patch
 * the public ones (they are excluded from matching, self-used.ts, but an older copy of
 * livetrace or the application may have wrapped them), and livetrace's own calls must
 * never go through a wrapper.
 */
const Storage = AsyncLocalStorage;
const ALS = Storage.prototype;
const alsRun = uncurryThis(ALS.run) as <R>(storage: AsyncLocalStorage<CallFrame>, store: CallFrame, fn: (...args: any[]) => R, ...args: unknown[]) => R;
const alsGetStore = uncurryThis(ALS.getStore) as (storage: AsyncLocalStorage<CallFrame>) => CallFrame | undefined;
const alsDisable = uncurryThis(ALS.disable) as (storage: AsyncLocalStorage<CallFrame>) => void;
/**
 * The class and every method of its prototype, to keep patterns off them (self-used.ts):
 * besides the ones called above, Node's async hooks call the internal ones
 * (`_propagate` for every new async resource) for as long as livetrace's storage exists.
 */
export const contextMethods: readonly unknown[] = [Storage, ...Reflect.ownKeys(ALS).map((key) => Reflect.getOwnPropertyDescriptor(ALS, key)?.value)];

function invoke(original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  return newTarget === undefined ? ReflectApply(original, self, args) : ReflectConstruct(original, args, newTarget);
}

/**
 * Runs the original from inside `AsyncLocalStorage#run`, which is livetrace's work (its
 * internals may call methods a pattern patched) up to the callback: the application's
 * code runs with the guard lowered, and it is raised again on the way out.
 */
function invokeAsApplication(original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  const saved = engine.busy;
  engine.busy = 0;
  try {
    return invoke(original, self, args, newTarget);
  } finally {
    engine.busy = saved;
  }
}

class CallContext {
  private storage: AsyncLocalStorage<CallFrame> | undefined;
  private users = 0;

  /** A session that tracks parents starts using the storage. */
  retain(): void {
    if (this.users++ === 0) this.storage = new Storage<CallFrame>();
  }

  release(): void {
    if (this.users === 0) return;
    if (--this.users === 0) {
      if (this.storage !== undefined) alsDisable(this.storage);
      this.storage = undefined;
    }
  }

  get active(): boolean {
    return this.storage !== undefined;
  }

  enter(matched: readonly unknown[]): CallFrame {
    const storage = this.storage;
    return { parent: storage === undefined ? undefined : alsGetStore(storage), matched };
  }

  run(frame: CallFrame, original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
    const storage = this.storage;
    if (storage === undefined) return invoke(original, self, args, newTarget);
    engine.busy++;
    try {
      return alsRun(storage, frame, invokeAsApplication, original, self, args, newTarget);
    } finally {
      engine.busy--;
    }
  }

  /** Id and depth of the nearest enclosing call of the given session. */
  parentOf(sessionKey: object): { id: number; depth: number } | undefined {
    let frame = this.storage === undefined ? undefined : alsGetStore(this.storage);
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
