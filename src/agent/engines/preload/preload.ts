/**
 * Turns on the preload engine when livetrace is preloaded (`--import livetrace/register`,
 * `--require livetrace/register`, `livetrace run`): ES modules loaded from now on become
 * rebindable (esm.ts) and CommonJS exports get idle dispatchers (cjs.ts).
 *
 * Settings (environment):
 *   LIVETRACE_PRELOAD=0            off: the agent starts, modules load untouched
 *   LIVETRACE_PRELOAD_PACKAGES=1   also node_modules (default: the app's own files only)
 *   LIVETRACE_INSTRUMENT=<glob>,.. modules whose function bodies call the tracer instead
 *                                  of being pinned (CommonJS, instrument.ts) or patched
 *                                  through their rebindable exports (ESM, hooks.ts);
 *                                  `livetrace run` adds its patterns' module globs
 *
 * It only acts on the main thread of a process that names a preload on its command line
 * or in NODE_OPTIONS. Node runs `--require` preloads in its loader thread too, and in
 * every worker; the agent's sessions live in the main thread, so wrappers anywhere else
 * would only cost. Attaching to a running process loads the same entry, and by then the
 * app is loaded: installing load hooks then would change how its later imports load
 * without being asked, so an attach (no preload flag) leaves them off.
 */
import { isMainThread } from 'node:worker_threads';
import { agentEntry } from '../../../protocol/install.js';
import { log } from '../../log.js';
import { installCjsPreload } from './cjs.js';
import { installEsmPreload } from './esm.js';
import { instrumentGlobs, makeInstrumentFilter } from './instrument.js';
import { installToString } from '../../patcher/wrapper.js';

const PRELOAD_FLAG = /^(--import|--require|-r|--loader|--experimental-loader)(=|$)/;

export function installPreload(): void {
  try {
    if (!isMainThread || process.env.LIVETRACE_PRELOAD === '0' || !hasPreloadFlag()) return;
    const packages = process.env.LIVETRACE_PRELOAD_PACKAGES === '1';
    // Before the program's first line: a library that keeps the native toString in a
    // variable would see a callable Proxy wrapper as native code (lodash's isNative).
    installToString();
    const globs = instrumentGlobs();
    const instrument = makeInstrumentFilter(globs, packages);
    installCjsPreload(instrument === undefined ? { packages } : { packages, instrument });
    installEsmPreload({ packages, root: agentEntry().root, instrument: globs });
  } catch (error) {
    log.debug({ err: error }, 'preload engine not installed');
  }
}

function hasPreloadFlag(): boolean {
  const fromEnv = (process.env.NODE_OPTIONS ?? '').split(/\s+/);
  return [...process.execArgv, ...fromEnv].some((arg) => PRELOAD_FLAG.test(arg));
}
