/**
 * Which CommonJS modules get their function bodies instrumented (source/instrument.ts,
 * patcher/body-site.ts) instead of today's pinning, and the `_compile` step that does it.
 *
 * A full parse per module costs 1-6 ms (docs/transparency.md, measured), so it is paid only
 * for modules a user named: the module globs of `livetrace run -t <patterns>` (the run
 * request the CLI passes in LIVETRACE_RUN), and LIVETRACE_INSTRUMENT='<glob>[,<glob>]' for a
 * plain `--require`/`--import livetrace/register`. A bare `**` names no module in
 * particular and instruments nothing (it would parse every module of the program). Every
 * other module is pinned as before. A package's module (node_modules) is instrumented only
 * when packages are preloaded (LIVETRACE_PRELOAD_PACKAGES=1) or when a glob names its
 * package without a wildcard. A module the rewrite can't handle compiles as it came.
 * LIVETRACE_INSTRUMENT=0 turns it off, `livetrace run`'s selection included.
 */
import { compileFunction } from 'node:vm';
import { parsePattern } from '../../../pattern/index.js';
import { RUN_ENV } from '../../../protocol/run-request.js';
import { bodyRegistry, registerSites, registryExpression } from '../../patcher/body-registry.js';
import { instrumentSource } from '../../source/instrument.js';
import { ArrayPrototypePush } from '../../../safe/intrinsics.js';

export { makeInstrumentFilter } from './select.js';

/** The environment variable naming the modules to instrument (without `livetrace run`). */
export const INSTRUMENT_ENV = 'LIVETRACE_INSTRUMENT';

/** Module globs selected for instrumentation, from the environment. */
export function instrumentGlobs(env: NodeJS.ProcessEnv = process.env): string[] {
  const globs: string[] = [];
  const listed = env[INSTRUMENT_ENV];
  // The way back to pinning only, for `livetrace run` too.
  if (listed === '0') return globs;
  if (listed !== undefined) for (const glob of listed.split(',')) if (glob.trim() !== '') ArrayPrototypePush(globs, glob.trim());
  const run = env[RUN_ENV];
  if (run !== undefined) {
    try {
      const patterns = (JSON.parse(run) as { patterns?: unknown }).patterns;
      if (Array.isArray(patterns)) {
        for (const text of patterns) {
          if (typeof text !== 'string') continue;
          try {
            ArrayPrototypePush(globs, parsePattern(text).module);
          } catch {
            // The run session reports a bad pattern itself.
          }
        }
      }
    } catch {
      // Likewise a bad run request.
    }
  }
  return globs.filter((glob) => glob !== '**');
}

/** The module's source with its function bodies instrumented, or undefined to compile it as it came. Never throws. */
export function instrumentModule(content: string, filename: string): string | undefined {
  try {
    const registry = bodyRegistry();
    const firstId = registry.sites.length;
    const result = instrumentSource(content, { tag: registry.tag }, firstId, registryExpression(registry.nextModule));
    if (result === undefined || !compiles(result.code)) return undefined;
    registerSites(filename, result.sites, firstId);
    return result.code;
  } catch {
    return undefined;
  }
}

const WRAPPER_PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname'];

/**
 * The rewritten text compiles as the module's body, as `_compile` will compile it: a
 * rewrite that broke the syntax (a case the rewrite did not foresee) must never reach
 * `_compile`, whose SyntaxError would end the program; the module then compiles as it
 * came. V8 compiles only the top level eagerly and pre-parses the functions, a fraction of
 * the acorn parse already paid. Nothing runs.
 */
export function compiles(code: string): boolean {
  try {
    compileFunction(code, WRAPPER_PARAMETERS);
    return true;
  } catch {
    return false;
  }
}
