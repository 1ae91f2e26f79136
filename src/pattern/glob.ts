/**
 * Module and function globs, matched with micromatch.
 *
 * Module globs. A glob with a '/' or a file extension is a path: it matches the module's id relative to the
 * app root (or, for a package module, 'name/path/in/package'), with the extension
 * optional ('src/users' matches src/users.js, .ts, .mjs, .cjs, and src/users/index.js).
 * A bare word is a name: a package's entry module by package name, a builtin ('fs' and
 * 'node:fs' both match node:fs), or an app module by file name without extension
 * (an index module also by its directory's name). '**' alone matches every module.
 *
 * Function globs. A function path is made of segments joined by '.' (a property:
 * 'db.users.find', 'UserRepo.create') or '#' (the prototype: 'UserRepo#save'). As with
 * '/' in paths, '*' stays within one segment and '**' crosses segments: 'UserRepo#*'
 * matches UserRepo#save but not UserRepo#a.b; 'db.**' matches everything under db.
 * Both the glob and the path are rewritten to '/'-separated form ('UserRepo/#/save'),
 * so micromatch's path rules give exactly that. A path starting with '~' names a
 * function found in the module's source, not its exports; only a glob starting with
 * '~' matches one.
 */
import * as micromatchModule from 'micromatch';
import type { ModuleRef } from './match/matcher.js';
import { hardenRegExp } from '../safe/read.js';
import { ArrayPrototypePush } from '../safe/intrinsics.js';
import { INTERNAL, functionForm, globProblem, moduleForm, useGlobCompiler } from './glob-check.js';

type Micromatch = typeof micromatchModule;
// ESM sees a CommonJS module's exports as `default`; the CommonJS build gets them directly.
const micromatch: Micromatch = (micromatchModule as unknown as { default?: Micromatch }).default ?? micromatchModule;

const OPTIONS = { dot: true } as const;
const EXTENSION = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/**
 * Compiled globs, shared: checking a pattern and compiling it need the same regex, and
 * sessions tend to repeat globs. The regexes hold no state (no g or y flag). Bounded,
 * emptied when full, since patterns arrive from outside.
 */
const compiled = new Map<string, RegExp>();
const CACHE_LIMIT = 512;

function compile(glob: string): RegExp {
  let regex = compiled.get(glob);
  if (regex === undefined) {
    regex = hardenRegExp(micromatch.makeRe(glob, OPTIONS));
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(glob, regex);
  }
  return regex;
}

// The checks (glob-check.ts) compile with this micromatch from now on.
useGlobCompiler(compile);

export { globProblem };

export function compileFunctionGlob(glob: string): (path: string) => boolean {
  // Internal functions are reached only through inspector probes, which cost far more:
  // only a glob that asks for them with '~' matches them, so '**' means every export.
  const internal = glob.startsWith(INTERNAL);
  if (glob === '**') return (path) => !path.startsWith(INTERNAL);
  const regex = compile(functionForm(glob));
  return (path) => path.startsWith(INTERNAL) === internal && regex.test(functionForm(path));
}

function withoutExtension(id: string): string {
  return id.replace(EXTENSION, '');
}

/** The forms a module path may be named by: as is, without extension, and an index module by its directory. */
function pathForms(id: string): string[] {
  const stem = withoutExtension(id);
  const forms = [id, stem];
  if (stem.endsWith('/index')) ArrayPrototypePush(forms, stem.slice(0, -'/index'.length));
  return forms;
}

/** The bare names of an app module: its file name without extension, and an index module's directory name. */
function appNames(id: string): string[] {
  const parts = withoutExtension(id).split('/');
  const base = parts[parts.length - 1] ?? '';
  const names = [base];
  const parent = parts[parts.length - 2];
  if (base === 'index' && parent !== undefined) ArrayPrototypePush(names, parent);
  return names;
}

function builtinNames(id: string): string[] {
  return id.startsWith('node:') ? [id, id.slice('node:'.length)] : [id, `node:${id}`];
}

export function compileModuleGlob(glob: string): (module: ModuleRef) => boolean {
  if (glob === '**') return () => true;
  const normalized = moduleForm(glob);
  const regex = compile(normalized);
  const test = (text: string): boolean => regex.test(text);
  // A glob with a file extension names a file too: 'users.cjs' is the app's top-level
  // users.cjs, as events name it (a name would match any users.* anywhere).
  const isPath = normalized.includes('/') || EXTENSION.test(normalized);
  return (module) => {
    if (module.kind === 'builtin') return builtinNames(module.id).some(test);
    const entryName = module.kind === 'package' && module.packageEntry === true ? module.packageName : undefined;
    if (entryName !== undefined && test(entryName)) return true;
    if (isPath) return pathForms(module.id).some(test);
    return module.kind === 'app' && appNames(module.id).some(test);
  };
}
