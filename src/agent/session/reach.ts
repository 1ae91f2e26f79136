/**
 * The session's side of the reach check (engines/reach/check.ts): a function whose calls
 * go around its exports wrapper (a framework holds a reference taken before the trace)
 * moves to its probe, and the session says so in one `note` record; a function that
 * could not be checked gets a note naming the `~` pattern that would reach it. A silent
 * "0 calls" for a function that was called is what this prevents.
 */
import { isMainThread } from 'node:worker_threads';
import type { SessionRecord } from '../../protocol/events.js';
import { reachCheck, type ReachSubject, type Verdict } from '../engines/reach/check.js';
import { INTERNAL_MARK } from '../source/locate.js';
import type { SessionHook, SessionHooks } from './hooks.js';
import { noteRecord } from './records.js';
import { ArrayPrototypePush, SafeSet } from '../../safe/intrinsics.js';

/** What the reach check needs of its session. */
export interface ReachContext {
  readonly id: string;
  running(): boolean;
  hooks(): SessionHooks;
  push(record: SessionRecord): void;
  internalError(error: unknown, doing: string): void;
}

/** The pattern that reaches `hook`'s function by a probe: its module as ids name it, the `~` path. */
function probePattern(hook: SessionHook, probePath: string): string {
  const module = hook.module.replace(/\.(c|m)?js$/, '');
  return `${module}:${probePath.startsWith(INTERNAL_MARK) ? probePath : INTERNAL_MARK + probePath}`;
}

export class SessionReach {
  private unchecked: SessionHook[] = [];
  /** Subjects of this session the check still watches: dropped when the session stops. */
  private readonly watching = new SafeSet<ReachSubject>();

  constructor(private readonly ctx: ReachContext) {}

  /** Hooks a pattern just attached: those of the exports engine are checked. */
  hooked(hooks: SessionHook[]): void {
    // An instrumented function (its body calls the tracer, patcher/body-site.ts) is seen
    // however its callers hold it: nothing to check.
    for (const hook of hooks) if (hook.engine === 'exports' && hook.site.wrapper !== hook.site.original) ArrayPrototypePush(this.unchecked, hook);
  }

  /**
   * Starts checking the hooks added since the last call (after their records are queued).
   * Not in a worker thread: the check's probe worker debugs the process's main thread
   * (Session#connectToMainThread), not the worker whose function it would watch, so it
   * would watch the wrong isolate, and it cost each traced worker one more thread (a pool
   * of four: 16 threads, up to 20 while its sessions started); its notes would not reach
   * the operator either (a worker relays calls and figures only, threads/worker.ts).
   */
  check(): void {
    const hooks = this.unchecked;
    this.unchecked = [];
    if (hooks.length === 0 || !this.ctx.running() || !isMainThread) return;
    // Functions found idle are decided in one poll of the check: told in one line, after it.
    let idle: { hook: SessionHook; probePath: string | undefined; windowMs: number }[] = [];
    const flushIdle = (): void => {
      const list = idle;
      idle = [];
      if (list.length > 0 && this.ctx.running()) this.idleNote(list);
    };
    const subjects = hooks.map((hook): ReachSubject => {
      const subject: ReachSubject = {
        original: hook.site.original,
        module: hook.loaded,
        seen: () => hook.entered,
        live: () => this.ctx.running() && this.ctx.hooks().has(hook),
        decided: (verdict) => {
          this.watching.delete(subject);
          try {
            if (verdict.kind !== 'idle') this.decided(hook, verdict);
            else if (ArrayPrototypePush(idle, { hook, probePath: verdict.probePath, windowMs: verdict.windowMs }) === 1) queueMicrotask(flushIdle);
          } catch (error) {
            this.ctx.internalError(error, 'acting on a reach check');
          }
        },
      };
      this.watching.add(subject);
      return subject;
    });
    reachCheck.watch(subjects);
  }

  /** The session stopped: the check's breakpoints for its functions go now, not at the check's next poll. */
  stop(): void {
    if (this.watching.size === 0) return;
    const watching = [...this.watching];
    this.watching.clear();
    reachCheck.drop(watching);
  }

  private decided(hook: SessionHook, verdict: Exclude<Verdict, { kind: 'idle' }>): void {
    if (!this.ctx.running() || verdict.kind === 'reached') return;
    const name = hook.fn;
    if (verdict.kind === 'unchecked') {
      const pattern = verdict.probePath === undefined ? undefined : probePattern(hook, verdict.probePath);
      const message =
        `could not check that calls of ${name} reach the trace (${verdict.reason})` +
        (pattern === undefined ? '' : `; if its calls do not show, trace '${pattern}'`);
      this.ctx.push(noteRecord(this.ctx.id, 'unchecked', message, { fn: name, ...(pattern === undefined ? {} : { pattern }) }));
      return;
    }
    const pattern = probePattern(hook, verdict.probe.path);
    const missed = verdict.real - verdict.seen;
    const moved = this.ctx.hooks().switchToProbe(hook, verdict.probe);
    if (typeof moved === 'string') {
      const message =
        `${name} is called through references taken before the trace (${missed} of ${verdict.real} calls went around it), ` +
        `and a probe could not take over (${moved}); trace '${pattern}' instead`;
      this.ctx.push(noteRecord(this.ctx.id, 'unchecked', message, { fn: name, pattern }));
      return;
    }
    const message =
      `${name} is called through references taken before the trace (${missed} of ${verdict.real} calls went around it); ` +
      `traced by a probe instead ('${pattern}')`;
    this.ctx.push(noteRecord(this.ctx.id, 'switched', message, { fn: name, pattern }));
  }

  /** One line for every function not called while its reach was checked. */
  private idleNote(idle: { hook: SessionHook; probePath: string | undefined; windowMs: number }[]): void {
    const seconds = Math.round(idle[0]!.windowMs / 100) / 10;
    const withProbe = idle.filter((i) => i.probePath !== undefined);
    const example = withProbe[0];
    const names = idle.slice(0, 3).map((i) => i.hook.fn.slice(i.hook.fn.lastIndexOf(':') + 1));
    const list = idle.length === 1 ? idle[0]!.hook.fn : `${idle.length} functions (${names.join(', ')}${idle.length > 3 ? ', ...' : ''})`;
    const pattern = example === undefined ? undefined : probePattern(example.hook, example.probePath!);
    const message =
      `${list} ${idle.length === 1 ? 'was' : 'were'} not called in the first ${seconds} s, so livetrace could not check that calls reach the trace` +
      (pattern === undefined ? '' : `; if calls do not show, trace ${idle.length === 1 ? '' : 'them by their ~ name, e.g. '}'${pattern}'`);
    this.ctx.push(noteRecord(this.ctx.id, 'unchecked', message, idle.length === 1 ? { fn: idle[0]!.hook.fn, ...(pattern === undefined ? {} : { pattern }) } : {}));
  }
}
