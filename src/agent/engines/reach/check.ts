/**
 * The reach check: do the calls of a function patched by the exports engine really go
 * through its wrapper?
 *
 * The exports engine replaces a property; a caller that took the function out of it
 * before the trace (Express's router holding each controller's handler, Nest's router
 * holding `instance[methodName]`, a destructured `require`) keeps calling the original,
 * and a pattern the user wrote the natural way records nothing. Nothing at patch time
 * tells which functions are held like that, so the agent looks at what happens instead:
 *
 * - Each patched function gets one breakpoint on its entry, through the probe engine
 *   (probes/engine.ts `count`), whose condition only counts the call on the main thread
 *   and never pauses. The wrapper counts a call (`entered`) before it calls the
 *   original, so when the breakpoint is hit more often than the wrapper was entered
 *   since the check began, this very call came around the wrapper.
 * - Such a function is handed back as `bypassed` with its internal entry (`~show`,
 *   `~AppController#getHello`): the session moves its hook to a probe, which sees every
 *   call wherever the caller got the function from.
 * - A function whose calls all came through the wrapper (a few of them, so that one
 *   lucky first call does not decide) is `reached`; one not called in the window
 *   (LIVETRACE_REACH_CHECK_MS, default 10 s; 0 turns the check off) is `idle`; one that
 *   cannot be checked (another debugger client, no inspector, its source changed by a
 *   loader) is `unchecked`. Idle and unchecked functions are reported so that the user
 *   is told, in the first seconds, which pattern would reach them.
 * - A function is decided inside its breakpoint's condition, and its breakpoint is
 *   removed right there (the worker removes it while the program runs on, engine.ts
 *   `disarm`); the verdict is told at the next microtask, outside the condition, since
 *   the session may arm a probe then. Several sessions checking one function share its
 *   breakpoint. The breakpoint is set by URL, so it can sit where a probe's sits.
 *
 * Cost (measured with bench/reach.mjs; figures and commands in docs/reach.md "Cost"):
 * - the rest of the process's synchronous code pays nothing: a breakpoint deoptimizes
 *   only its own function and the code that inlined it, while it is set (an unrelated
 *   function measured 1.3-2.4 ns a call during a check, 1.3-1.9 ns without a session);
 * - each call that reaches a breakpoint runs its condition (V8 compiles it anew each
 *   time, 35-60 us here): ENOUGH_CALLS of them decide a function reached, one a function
 *   called around its wrapper, plus the few that land before the removal is processed
 *   (measured in a tight loop: 5-11 and 1-3 conditions in all, +1.3 to +3.3 ms);
 * - while any function is still watched the Debugger is on, which is what a probe costs
 *   the process too: every promise step (`await`, `.then`) takes V8's slower debugger
 *   path (an awaited async call measured 60-96 ns, 710-820 ns with the Debugger on),
 *   and code compiled from strings misses the compilation cache. That lasts until every
 *   watched function is decided, at most the window: a function nobody calls keeps it
 *   on that long.
 * The mechanism before this one, precise coverage with call counts, deoptimized every
 * function of the process and kept V8 from inlining for the window: calls 10 to 20
 * times slower.
 */
import { pathToFileURL } from 'node:url';
import type { FunctionEntry, LoadedModule } from '../../catalog/entries.js';
import { log } from '../../log.js';
import {
  ArrayPrototypePush,
  ArrayPushBuiltin,
  FunctionPrototypeToString,
  RegExpPrototypeExec,
  SafeMap,
  StringPrototypeIncludes,
  StringPrototypeStartsWith,
} from '../../../safe/intrinsics.js';
import { readModuleSource } from '../../source/parse.js';
import { functionWithText, parseModuleFile, type LocatedFunction, type ParsedSource } from '../../source/locate.js';
import { internalFunctions } from '../probes/internal-source.js';
import { probeEngine, type ProbeSubject } from '../probes/engine.js';
import { engine } from '../../patcher/guard.js';

const DEFAULT_WINDOW_MS = 10_000;
const POLL_MS = 500;
/** Calls through the wrapper, with none around it, that make a function `reached`. */
const ENOUGH_CALLS = 5;

function windowFromEnv(): number {
  const raw = process.env.LIVETRACE_REACH_CHECK_MS;
  const value = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? Math.floor(value) : DEFAULT_WINDOW_MS;
}

export type Verdict =
  | { kind: 'bypassed'; probe: FunctionEntry; real: number; seen: number }
  | { kind: 'reached' }
  | { kind: 'idle'; probePath: string | undefined; windowMs: number }
  | { kind: 'unchecked'; reason: string; probePath: string | undefined };

/** One patched function to check. */
export interface ReachSubject {
  /** The function the wrapper calls. */
  readonly original: Function;
  readonly module: LoadedModule;
  /** Calls its wrapper has seen so far (a running count). */
  seen(): number;
  /** False once the hook is gone (the session stopped, or the function was switched). */
  live(): boolean;
  /** Told once. */
  decided(verdict: Verdict): void;
}

/** A subject whose function was found in its module's source: it can have a breakpoint. */
interface Joining {
  readonly subject: ReachSubject;
  readonly url: string;
  readonly located: LocatedFunction;
}

/** What a breakpoint's condition found; made a Verdict outside the condition. */
type Outcome = { kind: 'bypassed'; real: number; seen: number } | { kind: 'reached' };

interface Watched {
  readonly subject: ReachSubject;
  readonly located: LocatedFunction;
  readonly counter: Counter;
  /** The wrapper's count when the breakpoint was set. */
  enteredAtStart: number;
  /** Calls that reached the breakpoint. */
  hits: number;
  readonly until: number;
  outcome: Outcome | undefined;
}

/** One function's counting breakpoint, and the sessions' checks that share it. */
interface Counter {
  readonly key: string;
  readonly target: ProbeSubject;
  readonly watchers: Watched[];
}

const NOT_WHERE_SAID = 'its source is not where its module says (a loader or a bundler changed it)';

/** A generator's text (`function*`, `async function *g`, a method `*items`, `async *items`). */
const GENERATOR_TEXT = /^(?:async\s+)?(?:function\s*)?\*/;

/**
 * What `locate` would settle without the parse: '' to skip quietly, why it can't be
 * checked, or undefined when the parse should find it (then `locate` decides, after the
 * worker boot). Reads each module's text once (`sources`).
 */
function screen(subject: ReachSubject, sources: Map<string, string | undefined>): string | undefined {
  const file = subject.module.file;
  if (file === undefined) return '';
  // parseSource refuses then (source/parse.ts), and locate skips the function quietly.
  if (Array.prototype.push !== ArrayPushBuiltin) return '';
  if (!sources.has(file)) sources.set(file, readModuleSource(file));
  const source = sources.get(file);
  if (source === undefined) return '';
  const text = FunctionPrototypeToString(subject.original);
  if (StringPrototypeStartsWith(text, 'class') || RegExpPrototypeExec(GENERATOR_TEXT, text) !== null) return '';
  return StringPrototypeIncludes(source, text) ? undefined : NOT_WHERE_SAID;
}

class ReachCheck {
  private readonly counters = new SafeMap<string, Counter>();
  /** Decided in a condition, to be told at the next microtask. */
  private told: Watched[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** Starts checking `subjects` (joining a check that runs). Never throws. */
  watch(subjects: readonly ReachSubject[]): void {
    const windowMs = windowFromEnv();
    if (windowMs === 0 || subjects.length === 0) return;
    if (probeEngine.ready) {
      const joining = this.locateAll(subjects);
      if (joining.length > 0 && this.usable(joining)) this.arm(joining, windowMs);
      return;
    }
    // The first check in a while: its probe worker boots on its own thread first, and the
    // breakpoints are set once it is up, so the session starts (and its first calls are
    // reported) without the program's thread waiting for the boot. Calls in between are
    // not counted: each function's count starts when its breakpoint is set. The debugger
    // check waits for the boot too: it compiles a 20 KB script ten times (16-31 ms of the
    // program's thread, measured at load 4-6), which came before a session's first event.
    // The booted worker has not enabled its Debugger (it does on a probe's first request),
    // so the check still sees only another client's.
    //
    // Locating the functions waits for the boot as well: it parses each module whole, and
    // on a session's first start acorn runs cold (the largest piece of trace() left once
    // parameter names were read from the head alone, source/params.ts). Whether to boot
    // the worker at all is still settled now, without the parse (`screen`): a module not
    // read, a class, a generator, a text the module does not hold, or a program that
    // replaced Array.prototype.push (the worker's start would run Node's stream
    // internals with it, replaced-globals test) boots nothing, as when the parse decided.
    const sources = new Map<string, string | undefined>();
    const waiting: ReachSubject[] = [];
    for (const subject of subjects) {
      try {
        const why = screen(subject, sources);
        if (why === undefined) ArrayPrototypePush(waiting, subject);
        else if (why !== '') subject.decided({ kind: 'unchecked', reason: why, probePath: undefined });
      } catch (error) {
        log.debug({ err: error }, 'reach check: cannot locate a function');
      }
    }
    if (waiting.length === 0) return;
    void probeEngine.prepare().then(() => {
      engine.busy++;
      try {
        const live: ReachSubject[] = [];
        for (const subject of waiting) if (subject.live()) ArrayPrototypePush(live, subject);
        const joining = this.locateAll(live);
        if (joining.length > 0 && this.usable(joining)) this.arm(joining, windowMs);
      } catch (error) {
        log.debug({ err: error }, 'reach check: cannot start watching');
      } finally {
        engine.busy--;
      }
    });
  }

  /** The subjects found in their modules' parsed sources; the others are told why, or skipped quietly. */
  private locateAll(subjects: readonly ReachSubject[]): Joining[] {
    const sources = new Map<string, { source: string; parsed: ParsedSource } | undefined>();
    const joining: Joining[] = [];
    for (const subject of subjects) {
      try {
        const found = this.locate(subject, sources);
        if (typeof found === 'string') {
          // Without a source there is no `~` path either: nothing a user could do better.
          if (found !== '') subject.decided({ kind: 'unchecked', reason: found, probePath: undefined });
          continue;
        }
        ArrayPrototypePush(joining, { subject, url: found.url, located: found.located });
      } catch (error) {
        log.debug({ err: error }, 'reach check: cannot locate a function');
      }
    }
    return joining;
  }

  /** False, with each function told why, when another debugger client is using the process. */
  private usable(joining: readonly Joining[]): boolean {
    try {
      // Beside another debugger client (DevTools, an in-process session) our breakpoints
      // would compete with it, as a probe's would: refused the same way.
      probeEngine.ensureUsable();
      return true;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      for (const j of joining) j.subject.decided({ kind: 'unchecked', reason, probePath: j.located.path });
      return false;
    }
  }

  /** Sets the counting breakpoints of located functions (the worker is up, or starts now). */
  private arm(joining: readonly Joining[], windowMs: number): void {
    const until = performance.now() + windowMs;
    for (const j of joining) {
      try {
        const counter = this.counter(j.url, j.located.path);
        if (typeof counter === 'string') {
          j.subject.decided({ kind: 'unchecked', reason: `its entry breakpoint could not be set: ${counter}`, probePath: j.located.path });
          continue;
        }
        // No call ran since the breakpoint was set: this thread was waiting for the worker.
        ArrayPrototypePush(counter.watchers, { subject: j.subject, located: j.located, counter, enteredAtStart: j.subject.seen(), hits: 0, until, outcome: undefined });
      } catch (error) {
        log.debug({ err: error }, 'reach check: cannot watch a function');
      }
    }
    if (this.timer === undefined && this.counters.size > 0) {
      this.timer = setInterval(() => this.poll(), POLL_MS);
      this.timer.unref();
    }
  }

  /** The function's counting breakpoint, set now unless another check has it; why not, if it can't be. */
  private counter(url: string, path: string): Counter | string {
    const key = `${url}\n${path}`;
    const existing = this.counters.get(key);
    if (existing !== undefined) return existing;
    const counter: Counter = { key, target: { url, path }, watchers: [] };
    if (!probeEngine.count(counter.target, () => this.hit(counter))) return probeEngine.lastFailure ?? 'unknown error';
    this.counters.set(key, counter);
    return counter;
  }

  /** Where `subject` is in its module's source; '' to skip it quietly, or why it can't be checked. */
  private locate(
    subject: ReachSubject,
    sources: Map<string, { source: string; parsed: ParsedSource } | undefined>,
  ): { url: string; file: string; located: LocatedFunction; start: number } | string {
    const file = subject.module.file;
    if (file === undefined) return '';
    if (!sources.has(file)) {
      let parsed: { source: string; parsed: ParsedSource } | undefined;
      try {
        parsed = parseModuleFile(file);
      } catch {
        parsed = undefined;
      }
      sources.set(file, parsed);
    }
    const source = sources.get(file);
    if (source === undefined) return '';
    const text = FunctionPrototypeToString(subject.original);
    // A class is called by `new`, and its own code is spread over field initializers.
    if (text.startsWith('class')) return '';
    const located = functionWithText(source.parsed, source.source, text);
    if (located === undefined) return NOT_WHERE_SAID;
    // A generator's body, where a breakpoint would be, first runs at next(), not at the call.
    if (located.generator) return '';
    return { url: pathToFileURL(file).href, file, located, start: located.end - text.length };
  }

  /**
   * A call reached `counter`'s breakpoint: runs inside its condition, on the program's
   * thread, in the middle of the call. Decides what it can; told later (`tell`).
   */
  private hit(counter: Counter): void {
    const watchers = counter.watchers;
    for (let i = watchers.length - 1; i >= 0; i--) {
      const w = watchers[i]!;
      w.hits++;
      const seen = w.subject.seen() - w.enteredAtStart;
      if (w.hits > seen) w.outcome = { kind: 'bypassed', real: w.hits, seen };
      else if (w.hits >= ENOUGH_CALLS) w.outcome = { kind: 'reached' };
      else continue;
      watchers.splice(i, 1);
      if (ArrayPrototypePush(this.told, w) === 1) queueMicrotask(() => this.tell());
    }
    if (watchers.length === 0) this.release(counter);
  }

  /** Tells the functions decided in conditions (now outside them: a probe can be armed). */
  private tell(): void {
    const list = this.told;
    this.told = [];
    for (const w of list) {
      try {
        if (!w.subject.live()) continue;
        const outcome = w.outcome!;
        w.subject.decided(outcome.kind === 'reached' ? outcome : this.bypassed(w, outcome.real, outcome.seen));
      } catch (error) {
        log.debug({ err: error }, 'reach check: telling a verdict failed');
      }
    }
  }

  private bypassed(w: Watched, real: number, seen: number): Verdict {
    const probe = internalFunctions(w.subject.module).find((e) => e.path === w.located.path);
    if (probe?.target !== undefined) return { kind: 'bypassed', probe, real, seen };
    return { kind: 'unchecked', reason: `called around the trace, and a probe cannot reach it: ${probe?.unpatchable ?? 'not found'}`, probePath: undefined };
  }

  /** Stops watching `subjects` (their session stopped): told nothing, and breakpoints no check needs are removed. */
  drop(subjects: readonly ReachSubject[]): void {
    const gone = new Set(subjects);
    this.counters.forEach((counter) => {
      const watchers = counter.watchers;
      for (let i = watchers.length - 1; i >= 0; i--) if (gone.has(watchers[i]!.subject)) watchers.splice(i, 1);
    });
    this.counters.forEach((counter) => {
      if (counter.watchers.length === 0) this.release(counter);
    });
  }

  /** Ends the window of the functions not decided in it, and forgets those whose session went. */
  private poll(): void {
    try {
      this.expire();
    } catch (error) {
      log.debug({ err: error }, 'reach check: poll failed');
    }
  }

  private expire(): void {
    const now = performance.now();
    const ended: Watched[] = [];
    this.counters.forEach((counter) => {
      const watchers = counter.watchers;
      for (let i = watchers.length - 1; i >= 0; i--) {
        const w = watchers[i]!;
        const live = w.subject.live();
        if (live && now < w.until) continue;
        watchers.splice(i, 1);
        if (live) ArrayPrototypePush(ended, w);
      }
    });
    this.counters.forEach((counter) => {
      if (counter.watchers.length === 0) this.release(counter);
    });
    for (const w of ended) {
      try {
        w.subject.decided(this.judgeAtEnd(w));
      } catch (error) {
        log.debug({ err: error }, 'reach check: telling a verdict failed');
      }
    }
  }

  private judgeAtEnd(w: Watched): Verdict {
    const seen = w.subject.seen() - w.enteredAtStart;
    if (w.hits > 0) return { kind: 'reached' };
    if (seen === 0) return { kind: 'idle', probePath: w.located.path, windowMs: windowFromEnv() };
    // The wrapper saw calls its original's entry never did: the breakpoint is not where they run.
    return { kind: 'unchecked', reason: 'its calls never reached its entry breakpoint', probePath: w.located.path };
  }

  /** Removes the function's breakpoint (at once, even inside its condition); the last one stops the poll. */
  private release(counter: Counter): void {
    if (this.counters.get(counter.key) !== counter) return;
    this.counters.delete(counter.key);
    try {
      probeEngine.disarm(counter.target);
    } catch (error) {
      log.debug({ err: error }, 'reach check: removing a breakpoint failed');
    }
    if (this.counters.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

export const reachCheck = new ReachCheck();
