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
import { compileModuleGlob } from '../../../pattern/glob.js';
import { parsePattern } from '../../../pattern/index.js';
import type { ModuleRef } from '../../../pattern/index.js';
import { RUN_ENV } from '../../../protocol/run-request.js';
import { moduleRefForFile } from '../../catalog/naming.js';
import { bodyRegistry, registerSites, registryExpression } from '../../patcher/body-site.js';
import { instrumentSource } from '../../source/instrument.js';
import { ArrayPrototypePush } from '../../../safe/intrinsics.js';

/** The environment variable naming the modules to instrument (without `livetrace run`). */
export const INSTRUMENT_ENV = 'LIVETRACE_INSTRUMENT';

interface Selector {
  test: (module: ModuleRef) => boolean;
  /** The glob names a package without a wildcard in its name. */
  namesPackage: (module: ModuleRef) => boolean;
}

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

function selector(glob: string): Selector | undefined {
  try {
    const test = compileModuleGlob(glob);
    const first = (glob.startsWith('./') ? glob.slice(2) : glob).split('/');
    const packagePart = first[0]?.startsWith('@') ? `${first[0]}/${first[1] ?? ''}` : (first[0] ?? '');
    const literal = !/[*?[\]{}()!+@]/.test(packagePart.replace(/^@/, ''));
    return { test, namesPackage: (module) => literal && module.kind === 'package' && module.packageName === packagePart.replace(/\.[cm]?js$/, '') };
  } catch {
    return undefined;
  }
}

/** Decides per file; undefined when nothing is selected (the common case: no cost at all). */
export function makeInstrumentFilter(globs: string[], packages: boolean): ((filename: string) => boolean) | undefined {
  const selectors = globs.map(selector).filter((s): s is Selector => s !== undefined);
  if (selectors.length === 0) return undefined;
  return (filename) => {
    if (!/\.(?:c?js)$/i.test(filename)) return false;
    const module = moduleRefForFile(filename);
    return selectors.some((s) => s.test(module) && (module.kind !== 'package' || packages || s.namesPackage(module)));
  };
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
