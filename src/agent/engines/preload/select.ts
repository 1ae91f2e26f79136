/**
 * Which module files a selection of module globs names (instrument.ts says where the globs
 * come from): the one test for both halves of the preload, the CommonJS `_compile` hook in
 * the main thread and the ES module load hook in Node's loader thread (hooks.ts), which
 * gets the globs in its `initialize` data. Kept apart from instrument.ts so the loader
 * thread imports only the glob compiler and the module naming, never the patcher.
 */
import { compileModuleGlob } from '../../../pattern/glob.js';
import type { ModuleRef } from '../../../pattern/match/matcher.js';
import { moduleRefForFile } from '../../catalog/naming.js';

interface Selector {
  test: (module: ModuleRef) => boolean;
  /** The glob names a package without a wildcard in its name. */
  namesPackage: (module: ModuleRef) => boolean;
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
export function makeInstrumentFilter(globs: string[], packages: boolean, extensions: RegExp = /\.(?:c?js)$/i): ((filename: string) => boolean) | undefined {
  const selectors = globs.map(selector).filter((s): s is Selector => s !== undefined);
  if (selectors.length === 0) return undefined;
  return (filename) => {
    if (!extensions.test(filename)) return false;
    const module = moduleRefForFile(filename);
    return selectors.some((s) => s.test(module) && (module.kind !== 'package' || packages || s.namesPackage(module)));
  };
}

