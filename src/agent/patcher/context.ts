/**
 * Call-tree context: which traced calls enclose the current one, across await, timers
 * and callbacks. It rides on AsyncLocalStorage, which on Node 20 makes every async
 * operation in the process slower from its first use (about 3.6x per promise here), so
 * the storage exists only while at least one session asks for parents, and is disabled
 * (and dropped) when the last one ends. With no storage, calls run directly.
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
    return { parent: this.storage?.getStore(), matched };
  }

  run(frame: CallFrame, original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
    const storage = this.storage;
    if (storage === undefined) return invoke(original, self, args, newTarget);
    return storage.run(frame, invoke, original, self, args, newTarget);
  }

  /** Id and depth of the nearest enclosing call of the given session. */
  parentOf(sessionKey: object): { id: number; depth: number } | undefined {
    let frame = this.storage?.getStore();
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
