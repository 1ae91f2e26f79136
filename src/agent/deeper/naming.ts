/**
 * Names as patterns write them: the module glob of a loaded module (its package's name
 * for a package's entry), globs quoted only when a bare one would not read back, and the
 * loaded module a specifier in some file resolves to.
 */
import { isBuiltin } from 'node:module';
import { isBareGlob } from '../../pattern/lex/chars.js';
import { loadedModules } from '../catalog/modules.js';
import { moduleRefForFile } from '../catalog/naming.js';
import { type FunctionEntry, type LoadedModule } from '../catalog/entries.js';

export function quoteGlob(glob: string, kind: 'module' | 'function'): string {
  return isBareGlob(glob, kind) ? glob : JSON.stringify(glob);
}

/** The pattern naming `path` in a loaded module: its id (or package name for a package's entry) and the path. */
export function patternOf(id: string, module: LoadedModule, path: string): string {
  const glob = module.ref.kind === 'package' && module.ref.packageEntry === true && module.ref.packageName !== undefined ? module.ref.packageName : id;
  return `${quoteGlob(glob, 'module')}:${quoteGlob(path, 'function')}`;
}

/** Loaded modules by how the code names them, resolved once per deeper() call. */
export class ModuleIndex {
  private all: LoadedModule[] | undefined;
  private readonly listed = new Map<LoadedModule, FunctionEntry[]>();

  entries(module: LoadedModule): FunctionEntry[] {
    let entries = this.listed.get(module);
    if (entries === undefined) this.listed.set(module, (entries = module.entries()));
    return entries;
  }

  /** The module a specifier names from a file, and the module glob that names it. */
  find(specifier: string, requireHere: NodeRequire): { glob: string; module: LoadedModule | undefined } | undefined {
    if (isBuiltin(specifier)) {
      const id = specifier.startsWith('node:') ? specifier : `node:${specifier}`;
      const builtin = loadedModules([id]).find((m) => m.ref.id === id);
      return { glob: id, module: builtin };
    }
    let file: string;
    try {
      file = requireHere.resolve(specifier);
    } catch {
      return undefined;
    }
    const ref = moduleRefForFile(file);
    this.all ??= loadedModules();
    const module = this.all.find((m) => m.ref.id === ref.id);
    const glob = ref.kind === 'package' && ref.packageEntry === true && ref.packageName !== undefined ? ref.packageName : ref.id;
    return { glob: quoteGlob(glob, 'module'), module };
  }
}
