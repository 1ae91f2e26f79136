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
 * - For a short window after a function is patched (LIVETRACE_REACH_CHECK_MS, default
 *   10 s; 0 turns the check off), V8's precise coverage counts every invocation of every
 *   function (Profiler.startPreciseCoverage with call counts, through the probe worker's
 *   inspector session, never the Debugger). Each take returns the counts since the last
 *   one and resets them; the take and the read of the wrapper's own count happen while
 *   the main thread waits for the worker, so both describe the same calls.
 * - Every wrapped call is one invocation of the original, so a function that ran more
 *   often than its wrapper saw was called around the wrapper. Such a function is handed
 *   back as `bypassed` with its internal entry (`~show`, `~AppController#getHello`): the
 *   session moves its hook to a probe, which sees every call wherever the caller got the
 *   function from.
 * - A function whose calls all came through the wrapper (a few of them, so that one
 *   lucky first call does not decide) is `reached` and no longer watched; one not called
 *   in the window is `idle`; one that cannot be checked (no inspector, no source, V8
 *   reports no count for it) is `unchecked`. Idle and unchecked functions are reported
 *   so that the user is told, in the first seconds, which pattern would reach them.
 *
 * Cost: switching precise coverage on deoptimizes the process's functions and keeps
 * V8 from inlining while it is on, so code runs slower during the window (measured on
 * the Express fixture: see docs/reach.md); the window closes as soon as every watched
 * function is decided, and the coverage is stopped then, after which V8 optimizes again.
 * One check runs at a time in the process; functions patched while it runs join it.
 */
import { pathToFileURL } from 'node:url';
import type { FunctionEntry, LoadedModule } from '../../catalog/entries.js';
import { log } from '../../log.js';
import { FunctionPrototypeToString, ArrayPrototypePush } from '../../../safe/intrinsics.js';
import { functionWithText, parseModuleFile, type LocatedFunction, type ParsedSource } from '../../source/locate.js';
import { internalFunctions } from '../probes/internal-source.js';
import { probeEngine } from '../probes/engine.js';
import { DebuggerLink } from '../probes/link.js';
import { TRAMPOLINE_KEY } from '../probes/trampoline.js';

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

interface Watched {
  subject: ReachSubject;
  url: string;
  file: string;
  located: LocatedFunction;
  start: number;
  seenAtStart: number;
  real: number;
  /** V8 reported the function in some take. */
  found: boolean;
  until: number;
}

class ReachCheck {
  private link: DebuggerLink | undefined;
  private readonly watched: Watched[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** Starts checking `subjects` (joining a check that runs). Never throws. */
  watch(subjects: readonly ReachSubject[]): void {
    const windowMs = windowFromEnv();
    if (windowMs === 0 || subjects.length === 0) return;
    const sources = new Map<string, { source: string; parsed: ParsedSource } | undefined>();
    const joining: Watched[] = [];
    for (const subject of subjects) {
      try {
        const found = this.locate(subject, sources);
        if (typeof found === 'string') {
          // Without a source there is no `~` path either: nothing a user could do better.
          if (found !== '') subject.decided({ kind: 'unchecked', reason: found, probePath: undefined });
          continue;
        }
        ArrayPrototypePush(joining, { subject, ...found, seenAtStart: 0, real: 0, found: false, until: performance.now() + windowMs });
      } catch (error) {
        log.debug({ err: error }, 'reach check: cannot locate a function');
      }
    }
    if (joining.length === 0) return;
    try {
      if (this.link === undefined) {
        // Beside another debugger client (DevTools, an in-process session) a worker's
        // session would compete with it, as a probe would: refused the same way.
        probeEngine.ensureUsable();
        this.link = DebuggerLink.open(TRAMPOLINE_KEY);
        this.link.request('coverageStart');
      } else {
        // Counts so far belong to the functions already watched.
        this.take();
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.close();
      for (const w of joining) w.subject.decided({ kind: 'unchecked', reason, probePath: w.located.path });
      return;
    }
    for (const w of joining) w.seenAtStart = w.subject.seen();
    ArrayPrototypePush(this.watched, ...joining);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.poll(), POLL_MS);
      this.timer.unref();
    }
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
    if (located === undefined) return 'its source is not where its module says (a loader or a bundler changed it)';
    return { url: pathToFileURL(file).href, file, located, start: located.end - text.length };
  }

  private poll(): void {
    try {
      this.take();
      const now = performance.now();
      for (let i = this.watched.length - 1; i >= 0; i--) {
        const w = this.watched[i]!;
        const verdict = w.subject.live() ? this.judge(w, now) : { kind: 'gone' as const };
        if (verdict === undefined) continue;
        this.watched.splice(i, 1);
        if (verdict.kind !== 'gone') w.subject.decided(verdict);
      }
    } catch (error) {
      // The worker died or refused: what is still watched cannot be decided.
      const reason = `the coverage check failed: ${error instanceof Error ? error.message : String(error)}`;
      for (const w of this.watched.splice(0)) if (w.subject.live()) w.subject.decided({ kind: 'unchecked', reason, probePath: w.located.path });
    }
    if (this.watched.length === 0) this.close();
  }

  private judge(w: Watched, now: number): Verdict | undefined {
    const seen = w.subject.seen() - w.seenAtStart;
    if (w.real > seen) {
      const probe = internalFunctions(w.subject.module).find((e) => e.path === w.located.path);
      if (probe?.target !== undefined) return { kind: 'bypassed', probe, real: w.real, seen };
      return { kind: 'unchecked', reason: `called around the trace, and a probe cannot reach it: ${probe?.unpatchable ?? 'not found'}`, probePath: undefined };
    }
    if (w.real >= ENOUGH_CALLS) return { kind: 'reached' };
    if (now < w.until) return undefined;
    if (!w.found) return { kind: 'unchecked', reason: 'V8 reports no call count for it', probePath: w.located.path };
    return w.real > 0 ? { kind: 'reached' } : { kind: 'idle', probePath: w.located.path, windowMs: windowFromEnv() };
  }

  /** Adds the invocation counts since the last take to every watched function. */
  private take(): void {
    if (this.link === undefined || this.watched.length === 0) return;
    const counts = this.link.request<number[]>('coverageTake', {
      functions: this.watched.map((w) => ({ url: w.url, file: w.file, start: w.start, codeStart: w.located.codeStart, end: w.located.end })),
    });
    this.watched.forEach((w, i) => {
      const count = counts[i] ?? -1;
      if (count < 0) return;
      w.found = true;
      w.real += count;
    });
  }

  private close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const link = this.link;
    this.link = undefined;
    if (link === undefined) return;
    try {
      if (!link.isClosed) link.request('coverageStop');
    } catch (error) {
      log.debug({ err: error }, 'reach check: stopping coverage failed');
    } finally {
      link.close();
    }
  }
}

export const reachCheck = new ReachCheck();
