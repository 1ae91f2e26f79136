/**
 * `livetrace shell`: one expression evaluated in the target, Erlang's remote shell for Node.
 *
 * The expression runs on the main thread, in the main context, through the agent's own
 * in-process inspector session (inspector-link.ts): Runtime.evaluate in REPL mode, which
 * gives top-level `await` and `let` declarations that later evaluations see, as in Node's
 * REPL. No inspector port is opened. What it gives whoever can reach the agent's socket is
 * said in docs/security.md: everything the process can do.
 *
 * Limits, so a mistyped expression does not take the service down:
 * - V8 terminates the evaluation after `timeoutMs` (Runtime.evaluate's own timeout, which
 *   cancels the termination as the evaluation unwinds: only the evaluation ends, the loop
 *   goes on). An evaluation still awaiting a promise at the deadline is abandoned; the
 *   promise stays pending in the target, unobserved. Both are LT_EVAL_TIMEOUT.
 * - `safe` evaluates with throwOnSideEffect: V8 refuses anything that may write state
 *   (LT_EVAL_SIDE_EFFECT). REPL mode is off then (V8 counts its async wrapper as a side
 *   effect), so there is no top-level await under --safe.
 * - The result (or what was thrown) is captured with the trace bounds and redaction.
 *
 * `$('src/users')` gives a module by its livetrace name (CommonJS exports, ES namespace).
 * The expression's scope is the global one, so `$` is a global property for the time of the
 * evaluation only (non-enumerable, removed afterwards), and only when the process has no
 * global `$` of its own: then `$livetrace` is the name (it is always defined too). ES module
 * namespaces named by a literal `$('...')` are imported before the evaluation, because `$`
 * must answer synchronously.
 *
 * A promise the expression creates and drops (neither returns nor awaits) is the
 * application's like any other: if it rejects later, that is an unhandled rejection of the
 * process. A returned promise is awaited, which handles it.
 *
 * Every evaluation is written to the target's stderr, one line, before it runs: a remote
 * shell that leaves no trace in the service's log would be a backdoor.
 */
import { writeSync } from 'node:fs';
import { LivetraceError } from '../../protocol/errors.js';
import type { EvalResult } from '../../protocol/observer.js';
import { log } from '../log.js';
import { inspectorLink } from './inspector-link.js';
import { findModule, importNamespace } from './modules.js';

export const DEFAULT_EVAL_TIMEOUT_MS = 5000;
/** An awaited promise gets this much past the timeout before the evaluation is abandoned. */
const AWAIT_GRACE_MS = 500;
/** The expression as written to the target's stderr, at most. */
const AUDIT_CHARS = 500;

export interface EvalOptions {
  safe?: boolean;
  timeoutMs?: number;
  /** Who asked, for the audit line ('livetrace 0.1.0 pid 1234'). */
  client?: string;
}

/** Evaluations running now; `$` stays defined until the last one ends. */
let running = 0;
let ownDollar = false;

export async function evaluate(expression: string, options: EvalOptions = {}): Promise<EvalResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_EVAL_TIMEOUT_MS;
  const safe = options.safe === true;
  if (/\bimport\s*\(/.test(expression)) {
    // Node 20 gives inspector-compiled code no dynamic-import callback: import() can only
    // fail there, and its rejection surfaces as the process's unhandled rejection, which
    // ends it. So it is refused before anything runs.
    throw new LivetraceError('LT_EVAL_UNSUPPORTED', "import() cannot run in a shell evaluation: use $('module') for a loaded module, or require()", {
      input: clip(expression),
    });
  }
  audit(expression, safe, options.client);
  const link = await inspectorLink();
  await preloadNamespaces(expression);
  defineHelpers();
  const started = performance.now();
  try {
    const { reply, delivered } = await link.request(
      { op: 'evaluate', expression, timeoutMs, safe },
      {
        deadlineMs: timeoutMs + AWAIT_GRACE_MS,
        onDeadline: () => timedOut(expression, timeoutMs, 'the awaited promise had not settled'),
      },
    );
    const ms = Math.round((performance.now() - started) * 10) / 10;
    if (reply.outcome === 'timeout') throw timedOut(expression, timeoutMs, 'it was interrupted');
    if (reply.outcome === 'side-effect') {
      throw new LivetraceError('LT_EVAL_SIDE_EFFECT', 'refused under --safe: the expression may have side effects', { input: clip(expression) });
    }
    if (delivered === undefined) throw new LivetraceError('LT_INSPECTOR_UNAVAILABLE', 'the evaluation gave no value back', { input: clip(expression) });
    return { value: delivered.captured.value, thrown: delivered.thrown, truncated: delivered.captured.truncated, ms };
  } finally {
    removeHelpers();
  }
}

function timedOut(expression: string, timeoutMs: number, what: string): LivetraceError {
  return new LivetraceError('LT_EVAL_TIMEOUT', `the evaluation did not finish within ${timeoutMs} ms: ${what}`, { input: clip(expression) });
}

function clip(expression: string): string {
  return expression.length > 200 ? `${expression.slice(0, 200)}…` : expression;
}

function audit(expression: string, safe: boolean, client: string | undefined): void {
  const shown = JSON.stringify(expression.length > AUDIT_CHARS ? `${expression.slice(0, AUDIT_CHARS)}…` : expression);
  const line = `[livetrace] shell${safe ? ' --safe' : ''} evaluation in pid ${process.pid}${client === undefined ? '' : ` from ${client}`}: ${shown}\n`;
  try {
    writeSync(2, line);
  } catch {
    // A closed or full stderr does not stop the evaluation; the debug log still has it.
  }
  log.info({ expression: expression.slice(0, AUDIT_CHARS), safe, client }, 'shell evaluation');
}

/** `$('a')`, `$("a")`, `$livetrace('a')` with a literal name: ES namespaces to import first. */
async function preloadNamespaces(expression: string): Promise<void> {
  for (const match of expression.matchAll(/\$(?:livetrace)?\(\s*(['"`])([^'"`]{1,300})\1\s*\)/g)) {
    try {
      const found = findModule(match[2]!, match[2]!);
      if (found.kind === 'esm' && found.exports === undefined) await importNamespace(found, match[2]!);
    } catch {
      // The expression's own call of $ reports a bad name, as a thrown error.
    }
  }
}

function moduleByName(name: unknown): unknown {
  if (typeof name !== 'string') throw new TypeError("$(name) takes a module's livetrace name, e.g. $('src/users')");
  let found;
  try {
    found = findModule(name, name);
  } catch (error) {
    throw new Error(error instanceof Error ? error.message : String(error));
  }
  if (found.kind === 'esm' && found.exports === undefined) {
    throw new Error(`${found.id} is an ES module whose namespace is not imported yet: write its name as a literal, $('${name}'), or use await import()`);
  }
  return found.exports;
}

function defineHelpers(): void {
  running++;
  if (running > 1) return;
  const global = globalThis as Record<string, unknown>;
  define('$livetrace');
  ownDollar = !('$' in global);
  if (ownDollar) define('$');
}

function define(name: string): void {
  try {
    Object.defineProperty(globalThis, name, { value: moduleByName, enumerable: false, configurable: true, writable: true });
  } catch {
    // A frozen global: the helpers are missing, the evaluation runs anyway.
  }
}

function removeHelpers(): void {
  running--;
  if (running > 0) return;
  const global = globalThis as Record<string, unknown>;
  for (const name of ownDollar ? ['$', '$livetrace'] : ['$livetrace']) {
    try {
      // Only ours: an evaluation may have assigned its own value to the name.
      if (Object.getOwnPropertyDescriptor(global, name)?.value === moduleByName) delete global[name];
    } catch {
      // Leave it.
    }
  }
  ownDollar = false;
}
