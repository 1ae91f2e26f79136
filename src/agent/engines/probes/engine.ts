/**
 * The probe engine: arms and disarms probes, and keeps the Debugger on exactly while at
 * least one probe is armed.
 *
 * Enabling the Debugger makes every async call in the process about 13 times slower and
 * every probe hit compiles a script, so:
 * - the worker and its session exist only while a probe is armed: the first arm starts
 *   the worker (checking first that no other debugger client has the Debugger on,
 *   foreign-debugger.ts) and enables the domain; the last disarm disables it and ends
 *   the worker. Disabling also clears V8's debug state, so the program's functions can
 *   be optimized again.
 * - each probe has a hit budget (LIVETRACE_PROBE_HITS_PER_SEC, default 200 hits a
 *   second): past it, its breakpoints are taken away until the second is over. A hot
 *   function is then probed on a sample of its calls, and the time the process spends
 *   in conditions stays bounded.
 * - a synchronous function's return breakpoints (its value, its duration) cost a second
 *   condition per call and a pause per reported call (about 1.5 ms); pauses are limited
 *   to LIVETRACE_PROBE_PAUSES_PER_SEC (default 30) in the process, and
 *   LIVETRACE_PROBE_RETURNS=0 leaves return breakpoints out. A probe whose calls the
 *   sessions keep rejecting parks its return breakpoints (trampoline.ts `parked`): a
 *   rejected call then costs one condition, as an inspector logpoint does, and the next
 *   call a session takes pauses once at its entry to have them set again.
 *
 * The reach check (engines/reach/check.ts) sets its counting breakpoints here too
 * (`count`): a probe whose only condition counts calls, under the same bookkeeping, so
 * the Debugger is on while either kind is set and one worker serves both.
 *
 * Arming locates the function again in the source V8 actually runs (which a loader may
 * have changed), asks V8 for the function's break locations (the first one is its
 * entry; an async function's entry comes before its parameters' defaults run, so its
 * outer promise is the latest one made), and sets the breakpoints.
 */
import { getLineInfo } from 'acorn';
import { LivetraceError } from '../../../protocol/errors.js';
import { clock } from '../../clock.js';
import { log } from '../../log.js';
import type { Site } from '../../patcher/site.js';
import { checkForeignDebugger } from './foreign-debugger.js';
import { DebuggerLink } from './link.js';
import { locateFunctions, type LocatedFunction, type ParsedSource } from '../../source/locate.js';
import { releaseOuterPromises, retainOuterPromises } from './outer-promise.js';
import {
  TRAMPOLINE_KEY,
  calibrateCondition,
  countCondition,
  entryCondition,
  exitCondition,
  insideProbe,
  installTrampoline,
  registerCounter,
  registerProbe,
  unregisterProbe,
} from './trampoline.js';
import { budget, SecondWindow } from './hit-budget.js';
import { PARK_AFTER, type ProbeRecord } from './probe-record.js';
import type { BreakpointSpec } from './worker-program.js';
import { ArrayPrototypePush } from '../../../safe/intrinsics.js';

/** What the engine needs to know about a function to probe it. */
export interface ProbeSubject {
  /** file:// URL of the module, as V8 names its script. */
  readonly url: string;
  /** '~hashPassword' */
  readonly path: string;
}

interface Location {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
  type?: string;
}

interface Armed {
  id: number;
  async: boolean;
}

const DEFAULT_HITS_PER_SECOND = 200;
const DEFAULT_PAUSES_PER_SECOND = 30;
/** How long a foreign-debugger check is trusted, ms. */
const CHECK_TTL_MS = 1000;
/**
 * How long the worker outlives the last probe, its Debugger off, ms. Starting it costs
 * the process some 35-40 ms of CPU (and the program's thread waits for it), which every
 * session start paid again when the last session's check had just ended it; idle with
 * the Debugger off, it costs the program nothing, and it is unref'd.
 */
export const LINGER_MS = 30_000;

function perSecondFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
}

budget.hitsPerSecond = perSecondFromEnv('LIVETRACE_PROBE_HITS_PER_SEC', DEFAULT_HITS_PER_SECOND);
budget.pausesPerSecond = perSecondFromEnv('LIVETRACE_PROBE_PAUSES_PER_SEC', DEFAULT_PAUSES_PER_SECOND);

/**
 * Return breakpoints on synchronous functions (LIVETRACE_PROBE_RETURNS=0 turns them
 * off): they give a reported call its value and duration, at the price of a second
 * condition on every call and a pause on every reported one.
 */
export const returns = { enabled: process.env.LIVETRACE_PROBE_RETURNS !== '0' };

class ProbeEngine {
  private link: DebuggerLink | undefined;
  /** The worker after the last probe went, its Debugger off, until LINGER_MS is over. */
  private idle: { link: DebuggerLink; timer: NodeJS.Timeout } | undefined;
  /** A worker starting without blocking (prepare). */
  private preparing: Promise<void> | undefined;
  private readonly armed = new Map<ProbeSubject, Armed>();
  /** Why the last `arm` failed, for the session's list of what could not be traced. */
  lastFailure: string | undefined;
  private nextId = 1;
  /** V8's source of each script, parsed, while the Debugger is on. */
  private readonly scripts = new Map<string, { scriptId: string; source: string; parsed: ParsedSource } | null>();
  private lastCheck: { at: number; busy: boolean; evidence: string } | undefined;
  /** Disarmed probes whose breakpoints are still to be removed. */
  private readonly retired: number[] = [];
  private removalQueued = false;

  /** True while the Debugger is on (some probe is armed). */
  get active(): boolean {
    return this.link !== undefined;
  }

  get armedCount(): number {
    return this.armed.size;
  }

  /**
   * Throws LT_PROBE_DEBUGGER_BUSY when another debugger client has the Debugger enabled.
   * Free while our own probes are armed (we checked when we enabled it).
   */
  ensureUsable(): void {
    if (this.link !== undefined) return;
    const now = performance.now();
    if (this.lastCheck === undefined || now - this.lastCheck.at > CHECK_TTL_MS) {
      this.lastCheck = { at: now, ...checkForeignDebugger() };
      log.debug({ evidence: this.lastCheck.evidence }, 'probe engine: debugger check');
    }
    if (this.lastCheck.busy) {
      throw new LivetraceError('LT_PROBE_DEBUGGER_BUSY', `another debugger client is using this process: ${this.lastCheck.evidence}`);
    }
  }

  /** Arms a probe on `subject` running `site`'s hooks. False (and logged) when it can't. */
  arm(subject: ProbeSubject, site: Site): boolean {
    return this.setUp(subject, 'a probe cannot be armed from inside another probe', 'probe not armed', (link) => {
      const armed = this.place(link, subject, site);
      this.armed.set(subject, armed);
      if (armed.async) retainOuterPromises();
    }, (message) => `the probe could not be armed: ${message}`);
  }

  /**
   * Sets a counting breakpoint on `subject`'s entry (the reach check's): `hit` runs in
   * its condition on every call, the condition never pauses, and nothing else of a probe
   * runs. It is a probe for the engine's bookkeeping (the Debugger stays on while it is
   * set; `disarm(subject)` removes it). Its breakpoint is set by URL, so it may share its
   * location with a probe's entry breakpoint on the same function (V8 refuses a second
   * breakpoint of the same kind at one place, not one of each kind). False (and
   * `lastFailure`) when it can't be set.
   */
  count(subject: ProbeSubject, hit: () => void): boolean {
    return this.setUp(subject, 'a breakpoint cannot be set from inside a probe', 'counting breakpoint not set', (link) => {
      const { entry } = this.locate(link, subject);
      const id = this.nextId++;
      registerCounter(id, hit);
      try {
        link.request('arm', { probe: id, breakpoints: [{ location: bare(entry), condition: countCondition(id), exit: false, url: subject.url }] });
      } catch (error) {
        unregisterProbe(id);
        throw error;
      }
      this.armed.set(subject, { id, async: false });
    }, (message) => message);
  }

  /**
   * What arming a probe and setting a counting breakpoint share: never from inside a
   * probe, the worker started on first use (and shut down again if this first use fails),
   * and a failure kept in `lastFailure` instead of thrown.
   */
  private setUp(subject: ProbeSubject, inside: string, logLine: string, body: (link: DebuggerLink) => void, failure: (message: string) => string): boolean {
    if (this.armed.has(subject)) return true;
    this.lastFailure = undefined;
    if (insideProbe()) {
      this.lastFailure = inside;
      return false;
    }
    let started = false;
    try {
      if (this.link === undefined) {
        this.start();
        started = true;
      }
      body(this.link!);
      return true;
    } catch (error) {
      log.debug({ err: error, fn: subject.path, url: subject.url }, logLine);
      this.lastFailure = failure(error instanceof Error ? error.message : String(error));
      if (started || this.armed.size === 0) this.shutdown();
      return false;
    }
  }

  /** A worker is up (running, or idle with its Debugger off): start() will not wait for one to boot. */
  get ready(): boolean {
    return this.link !== undefined || (this.idle !== undefined && !this.idle.link.isClosed);
  }

  /**
   * Starts the worker without blocking the program while it boots (DebuggerLink.openAsync)
   * and keeps it as the idle worker, its session disconnected, for the next start().
   * Resolves once a worker is up, or could not be started (start() then tries again and
   * says why); never rejects. Concurrent calls share one start. The reach check calls
   * this before its first breakpoint, so that a session's start (and its first calls)
   * does not wait for a thread and an isolate to boot.
   */
  prepare(): Promise<void> {
    if (this.ready) return Promise.resolve();
    this.preparing ??= DebuggerLink.openAsync(TRAMPOLINE_KEY).then(
      (link) => {
        this.preparing = undefined;
        // A probe armed meanwhile started its own (synchronously): this one is not needed.
        if (this.ready) {
          link.close();
          return;
        }
        try {
          link.request('disable');
        } catch (error) {
          log.debug({ err: error }, 'probe worker: disconnecting the new worker failed');
          link.close();
          return;
        }
        this.park(link);
      },
      (error: unknown) => {
        this.preparing = undefined;
        log.debug({ err: error }, 'probe worker did not start');
      },
    );
    return this.preparing;
  }

  /** Starts the worker (or takes the idle one) and enables the Debugger (the first probe). */
  private start(): void {
    this.ensureUsable();
    installTrampoline();
    const idle = this.idle;
    this.idle = undefined;
    if (idle !== undefined) clearTimeout(idle.timer);
    this.link = idle !== undefined && !idle.link.isClosed ? idle.link : DebuggerLink.open(TRAMPOLINE_KEY);
    this.link.request('enable');
    calibrateCondition();
  }

  /** True while the worker waits, its Debugger off, for a probe to come (LINGER_MS). */
  get lingering(): boolean {
    return this.idle !== undefined;
  }

  /** Ends the idle worker now (tests, and an agent that stops). */
  endIdle(): void {
    const idle = this.idle;
    this.idle = undefined;
    if (idle === undefined) return;
    clearTimeout(idle.timer);
    idle.link.close();
  }

  /**
   * Disarms: from now on the probe's conditions run no hook. Its breakpoints are removed
   * at once. Inside a probe's condition or pause (a session reaching its max there, a
   * reach check deciding) the worker can't be waited for: it is told to remove them
   * without an answer, and the rest (the last probe turns the Debugger off and ends the
   * worker) happens at the next microtask checkpoint, when that call is over.
   */
  disarm(subject: ProbeSubject): void {
    const armed = this.armed.get(subject);
    if (armed === undefined) return;
    this.armed.delete(subject);
    unregisterProbe(armed.id);
    if (armed.async) releaseOuterPromises();
    ArrayPrototypePush(this.retired, armed.id);
    if (!insideProbe()) this.removeRetired();
    else {
      // Its breakpoints go now, without waiting: the worker removes them while this
      // thread runs on (inspector messages run as interrupts), so a hot loop that is
      // still calling the function stops paying for its condition within a few calls.
      this.link?.notify('disarm', { probe: armed.id });
      if (this.removalQueued) return;
      this.removalQueued = true;
      // A microtask runs once the stack is empty: past the condition, the pause and the call.
      queueMicrotask(() => {
        this.removalQueued = false;
        try {
          this.removeRetired();
        } catch (error) {
          log.debug({ err: error }, 'probe removal failed');
        }
      });
    }
  }

  private removeRetired(): void {
    const ids = this.retired.splice(0);
    for (const id of ids) {
      try {
        this.link?.request('disarm', { probe: id });
      } catch (error) {
        log.debug({ err: error }, 'probe disarm failed');
      }
    }
    if (this.armed.size === 0) this.shutdown();
  }

  /** For tests and diagnostics: the worker's counters, while it runs. */
  counts(): Record<string, unknown> | undefined {
    return this.link?.request('counts');
  }

  private shutdown(): void {
    const link = this.link;
    this.link = undefined;
    this.scripts.clear();
    if (link === undefined) return;
    let disabled = false;
    try {
      if (!link.isClosed) {
        link.request('disable');
        disabled = true;
      }
    } catch (error) {
      log.debug({ err: error }, 'disabling the Debugger failed');
    }
    if (!disabled) {
      link.close();
      return;
    }
    // Kept for the next session's probes or reach check, its Debugger off.
    this.park(link);
  }

  /** Keeps `link` (its Debugger off, its session disconnected) as the idle worker for LINGER_MS. */
  private park(link: DebuggerLink): void {
    this.endIdle();
    const timer = setTimeout(() => {
      if (this.idle?.link === link) this.endIdle();
    }, LINGER_MS);
    timer.unref();
    this.idle = { link, timer };
  }

  private script(link: DebuggerLink, url: string): { scriptId: string; source: string; parsed: ParsedSource } {
    let script = this.scripts.get(url);
    if (script === undefined) {
      const found = link.request<{ scriptId: string; source: string } | null>('script', { url });
      script = found === null ? null : { ...found, parsed: locateFunctions(found.source, url) };
      this.scripts.set(url, script);
    }
    if (script === null) throw new LivetraceError('LT_PROBE_UNAVAILABLE', `no script ${url} is loaded`, { input: url });
    return script;
  }

  /** `subject` in the source V8 runs, and its break locations (the first is its entry). */
  private locate(link: DebuggerLink, subject: ProbeSubject): { fn: LocatedFunction; locations: Location[]; entry: Location } {
    const script = this.script(link, subject.url);
    const fn = script.parsed.functions.find((f) => f.path === subject.path);
    if (fn === undefined) {
      throw new LivetraceError('LT_PROBE_UNAVAILABLE', `${subject.path} is not in the source V8 runs for ${subject.url}`, { input: subject.path });
    }
    // The end is exclusive, and an expression-bodied arrow returns right at its end.
    const locations = link.request<Location[]>('locations', {
      start: position(script, fn.codeStart),
      end: position(script, fn.end + 1),
    });
    const entry = locations[0];
    if (entry === undefined) throw new LivetraceError('LT_PROBE_UNAVAILABLE', `V8 has no break location in ${subject.path}`, { input: subject.path });
    return { fn, locations, entry };
  }

  private place(link: DebuggerLink, subject: ProbeSubject, site: Site): Armed {
    const { fn, locations, entry } = this.locate(link, subject);
    const id = this.nextId++;
    const exits = fn.async || !returns.enabled ? [] : locations.filter((l) => l.type === 'return');
    const breakpoints: BreakpointSpec[] = [
      { location: bare(entry), condition: entryCondition(id, fn.receiver, fn.argsExpression), exit: false },
      ...exits.filter((l) => !sameLocation(l, entry)).map((l) => ({ location: bare(l), condition: exitCondition(id), exit: true })),
    ];
    const record: ProbeRecord = {
      id,
      site,
      async: fn.async,
      returns: breakpoints.length > 1,
      overBudget: (probe) => this.cool(probe),
      releaseReturns: (probe) => this.link?.notify('coolReturns', { probe: probe.id }),
      park: (probe) => this.link?.notify('park', { probe: probe.id }),
      open: [],
      hits: new SecondWindow(),
      cooling: false,
      returnsHeld: false,
      parked: false,
      idleReturns: 0,
      parkAfter: PARK_AFTER,
    };
    registerProbe(record);
    try {
      link.request('arm', { probe: id, breakpoints });
    } catch (error) {
      unregisterProbe(id);
      throw error;
    }
    return { id, async: fn.async };
  }

  /**
   * Over budget: the worker removes the probe's breakpoints until its second is over
   * (its return breakpoints only once no call of it is open: `returnsHeld`).
   */
  private cool(probe: ProbeRecord): void {
    const left = Math.max(100, Math.ceil(1000 - (clock() - probe.hits.start) / 1e6));
    this.link?.notify('cool', { probe: probe.id, ms: left, returns: !probe.returnsHeld });
  }
}

function position(script: { scriptId: string; source: string }, offset: number): Location {
  const { line, column } = getLineInfo(script.source, offset);
  return { scriptId: script.scriptId, lineNumber: line - 1, columnNumber: column };
}

function bare(location: Location): Location {
  return { scriptId: location.scriptId, lineNumber: location.lineNumber, columnNumber: location.columnNumber };
}

function sameLocation(a: Location, b: Location): boolean {
  return a.lineNumber === b.lineNumber && a.columnNumber === b.columnNumber;
}

export const probeEngine = new ProbeEngine();
