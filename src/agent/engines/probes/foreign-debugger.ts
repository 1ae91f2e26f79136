/**
 * Is another debugger client using this process's Debugger?
 *
 * Probes must not run beside one: our worker resumes every pause it did not cause (a
 * DevTools user would see their breakpoints skipped), and the other client would see a
 * flood of scripts, one per probe hit. No inspector API lists the sessions of a process,
 * and `inspector.url()` only says that a server listens (started with --inspect, by
 * SIGUSR1, or by inspector.open()), not that anyone is connected; Node 20's /json/list
 * does not say it either. What does change, as soon as any session enables the Debugger
 * domain (DevTools, VS Code, `node inspect`, an APM's in-process debugger), is V8 itself:
 * it turns its compilation cache off so that every script is reported to the debugger.
 * So we compile the same unique script twice with `vm.Script` (compiling runs nothing):
 * the second compile is a cache hit, tens of microseconds, unless a debugger is
 * enabled, when it costs as much as the first. The test is taken five times and the
 * fastest recompile is compared with the fastest compile: a GC or a preemption can slow
 * a compile down, never speed one up.
 *
 * It says nothing while our own session has the Debugger enabled (it would see us), so
 * it runs only before our worker enables it. A process started with
 * --no-compilation-cache has no cache to observe: there only the server hint is used.
 */
import { Script } from 'node:vm';
import { clock } from '../../clock.js';

export interface DebuggerCheck {
  /** True when another client has the Debugger enabled. */
  busy: boolean;
  /** What was observed, for the error message and logs. */
  evidence: string;
}

// About 20 KB: its compile takes hundreds of microseconds, a cache hit a few tens.
const FILLER = 'x = [x, 1, "a", {k: x}].length + (x | 0);\n'.repeat(500);
let serial = 0;

function compileNs(source: string): number {
  const start = clock();
  new Script(source, { filename: 'livetrace:debugger-check' });
  return clock() - start;
}

/** One trial: how much the second compile of a fresh script cost, relative to the first. */
function trial(): { first: number; second: number } {
  const source = `// livetrace debugger check ${process.pid} ${serial++} ${Date.now()}\nvar x = 0;\n${FILLER}`;
  const first = compileNs(source);
  const second = compileNs(source);
  return { first, second };
}

/**
 * The inspector server's URL, if one listens. `node:inspector` is loaded only here, and
 * may be missing: a Node built without the inspector throws on loading it.
 */
function inspectorUrl(): string | undefined {
  try {
    const inspector = process.getBuiltinModule('node:inspector') as typeof import('node:inspector') | undefined;
    return inspector?.url();
  } catch {
    return undefined;
  }
}

function cacheDisabledByFlag(): boolean {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return /--no-compilation-cache|--no_compilation_cache/.test(flags);
}

/** Checks for another Debugger client. Call it only while our own session has the Debugger disabled. */
export function checkForeignDebugger(): DebuggerCheck {
  const server = inspectorUrl();
  const where = server === undefined ? 'no inspector server' : `inspector server at ${server}`;
  if (cacheDisabledByFlag()) return { busy: false, evidence: `${where}; compilation cache off by flag, not checked` };
  // Five trials: on a loaded machine three were seen to be preempted all alike.
  const trials = [trial(), trial(), trial(), trial(), trial()];
  // Delays only ever add time, so the fastest of each is the truest. A cache hit is a few
  // percent of a compile; with a debugger on, a recompile is a compile.
  const compile = Math.min(...trials.map((t) => t.first));
  const recompile = Math.min(...trials.map((t) => t.second));
  const busy = recompile * 4 >= compile;
  const figures = trials.map((t) => `${Math.round(t.first / 1000)}/${Math.round(t.second / 1000)} us`).join(', ');
  return {
    busy,
    evidence: `${where}; V8's compilation cache is ${busy ? 'off (a Debugger session is enabled)' : 'on'} (compile/recompile ${figures})`,
  };
}
