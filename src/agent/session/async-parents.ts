/**
 * Parents within a synchronous call cost nothing (patcher/context.ts); parents across
 * await and callbacks need an AsyncLocalStorage, which on Node 20 and 22 turns on async
 * hooks (every promise of the process slower while on, a `callbackTrampoline` frame
 * under every native callback for good). A session tracing one function can only nest
 * that function in itself, so it does without: its recursion is seen within a
 * synchronous call, not across await. Once it traces a second function (at start, by
 * `add`, or as modules load) it takes the storage, for calls that begin from then on.
 * A session whose patterns only count or time calls (`count`, `hist`: the dashboard's
 * Latency page) reports no parent at all, so it never takes it, however many functions
 * it traces: on Node 20 the storage made each of its calls cost several times more.
 */
import { releaseAsyncContext, retainAsyncContext } from '../patcher/context.js';

/** One session's hold on the async call-tree context. */
export class AsyncParents {
  /** This session holds the async call-tree context. */
  private held = false;

  constructor(private readonly wanted: boolean) {}

  /** After the session's functions changed: takes the context once it traces two or more, if it reports calls with parents. */
  update(running: boolean, matchedFunctions: number, reportsCalls: boolean): void {
    if (this.held || !this.wanted || !running || !reportsCalls) return;
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
