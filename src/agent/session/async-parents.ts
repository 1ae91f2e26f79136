/**
 * Parents within a synchronous call cost nothing (patcher/context.ts); parents across
 * await and callbacks need an AsyncLocalStorage, which on Node 20 and 22 turns on async
 * hooks (every promise of the process slower while on, a `callbackTrampoline` frame
 * under every native callback for good). A session tracing one function can only nest
 * that function in itself, so it does without: its recursion is seen within a
 * synchronous call, not across await. Once it traces a second function (at start, by
 * `add`, or as modules load) it takes the storage, for calls that begin from then on.
 */
import { releaseAsyncContext, retainAsyncContext } from '../patcher/context.js';

/** One session's hold on the async call-tree context. */
export class AsyncParents {
  /** This session holds the async call-tree context. */
  private held = false;

  constructor(private readonly wanted: boolean) {}

  /** After the session's functions changed: takes the context once it traces two or more. */
  update(running: boolean, matchedFunctions: number): void {
    if (this.held || !this.wanted || !running) return;
    if (matchedFunctions < 2) return;
    this.held = true;
    retainAsyncContext();
  }

  /** Gives the context back when the session stops (once; later calls do nothing). */
  release(): void {
    if (!this.held) return;
    this.held = false;
    releaseAsyncContext();
  }
}
