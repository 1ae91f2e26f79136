/**
 * "One level deeper": what a function calls, as patterns ready to trace.
 *
 * `deeper('src/users.js:findUser')` finds the function (an export, or an internal
 * function with `~`), reads its source, and lists every call in it (its callbacks
 * included) with the callee named the way a pattern names it:
 *
 *   db.query(sql)              src/db.js:query          (db = require('./db'))
 *   query(sql)                 src/db.js:query          (const { query } = require('./db'),
 *                                                          or import { query } from './db.js')
 *   hashPassword(pw)           src/users.js:~hashPassword  (not exported: a probe)
 *   normalize(user)            src/users.js:normalize   (exported: a wrapper)
 *   this.save(user)            src/users.js:UserRepo#save  (in a method of UserRepo)
 *   new UserRepo()             src/users.js:UserRepo
 *   fs.readFileSync(p)         node:fs:readFileSync
 *   items.map(normalize)       src/users.js:normalize   (a function passed on is called too)
 *
 * Names are looked up in the scopes the function closes over, from its own parameters
 * and locals out to the module's top level. A callee that can't be named statically
 * (a parameter, a method of some object, a global) is listed without a pattern and says
 * why. For each callee that is named, the engine that would trace it is given: the
 * registry's engine for an export of a loaded module, 'probe' for an internal function.
 *
 * Nothing runs: the source is parsed, and exported functions are matched to their
 * source text with the intrinsic Function.prototype.toString. Reading the source (its
 * scopes, its calls) is agent/source's job (scopes.ts, callees.ts); this op names what
 * that reading finds with the catalog of loaded modules and the engines.
 */
import type { Callee, DeeperResult } from '../../protocol/messages.js';
import { createRequire } from 'node:module';
import { LivetraceError } from '../../protocol/errors.js';
import type { Engine } from '../../protocol/events.js';
import { compilePatterns } from '../../pattern/index.js';
import type { Matcher } from '../../pattern/match/matcher.js';
import { unwrap } from '../patcher/site.js';
import { internalFunctions } from '../engines/probes/internal-source.js';
import { moduleCalls, type CalleeRef } from '../source/callees.js';
import { classWithText, functionWithText, INTERNAL_MARK, parseModuleFile, type LocatedFunction, type ParsedSource } from '../source/locate.js';
import { ProbeTarget } from '../engines/probes/target.js';
import type { FunctionEntry, LoadedModule } from '../catalog/entries.js';
import { loadedModules } from '../catalog/modules.js';
import { moduleRefForFile } from '../catalog/naming.js';
import { nearMisses } from '../catalog/near-misses.js';
import { ModuleIndex, patternOf, quoteGlob } from './naming.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export type { Callee, DeeperResult };

/** Functions deeper() looks into at most for one pattern. */
const MAX_FUNCTIONS = 20;
const fnToString = Function.prototype.toString;

/** What each function matching `pattern` calls. Throws LT_PATTERN_* for a bad or unmatched pattern, LT_PROBE_UNAVAILABLE for a source it can't read. */
export function deeper(pattern: string): DeeperResult[] {
  const matchers = compilePatterns([pattern]);
  const modules = loadedModules(matchers.map((m) => m.moduleGlob));
  const found: { module: LoadedModule; entry: FunctionEntry }[] = [];
  for (const module of modules) {
    for (const matcher of matchers) {
      if (!safely(() => matcher.matchModule(module.ref))) continue;
      for (const entry of entriesFor(module, matcher)) {
        if (safely(() => matcher.matchFunction(entry.path))) ArrayPrototypePush(found, { module, entry });
      }
    }
  }
  if (found.length === 0) {
    const near = matchers.flatMap((m) => nearMisses(m.moduleGlob, m.functionGlob));
    throw new LivetraceError('LT_PATTERN_NO_MATCH', `no loaded function matches '${pattern}'`, {
      input: pattern,
      ...(near.length > 0 ? { hint: `Did you mean: ${[...new Set(near)].slice(0, 5).join(', ')}?` } : {}),
    });
  }
  const results: DeeperResult[] = [];
  const analyses = new Map<string, ModuleAnalysis>();
  for (const { module, entry } of found.slice(0, MAX_FUNCTIONS)) {
    const file = module.file;
    if (file === undefined) continue;
    let analysis = analyses.get(file);
    if (analysis === undefined) analyses.set(file, (analysis = analyze(module, file)));
    const fn = analysis.functionOf(entry);
    if (fn === undefined) continue;
    ArrayPrototypePush(results, {
      fn: `${module.ref.id}:${entry.path}`,
      module: module.ref.id,
      file,
      line: fn.line,
      callees: analysis.callees(fn),
    });
  }
  if (results.length === 0) {
    throw new LivetraceError('LT_PROBE_UNAVAILABLE', `the source of '${pattern}' could not be found`, {
      input: pattern,
      hint: 'deeper reads the function in its module file; builtins, native and bound functions have none.',
    });
  }
  return results;
}

function safely(test: () => boolean): boolean {
  try {
    return test();
  } catch {
    return false;
  }
}

function entriesFor(module: LoadedModule, matcher: Matcher): FunctionEntry[] {
  return matcher.functionGlob.startsWith(INTERNAL_MARK) ? internalFunctions(module) : module.entries();
}

interface ModuleAnalysis {
  functionOf(entry: FunctionEntry): LocatedFunction | undefined;
  callees(fn: LocatedFunction): Callee[];
}

interface Named {
  pattern: string | null;
  engine: Engine | null;
  note?: string;
}

function analyze(module: LoadedModule, file: string): ModuleAnalysis {
  const { source, parsed } = parseModuleFile(file);
  const calls = moduleCalls(source, parsed);
  const byPath = new Map(parsed.functions.map((f) => [f.path, f]));
  const exported = exportsOf(module, parsed, source);
  const modules = new ModuleIndex();
  const requireHere = createRequire(file);

  const ownPattern = (fn: LocatedFunction): Named => {
    const path = exported.get(fn);
    if (path !== undefined) return { pattern: patternOf(module.ref.id, module, path.path), engine: path.engine };
    if (fn.kind === 'generator') return { pattern: patternOf(module.ref.id, module, fn.path), engine: null, note: 'a generator: not probed' };
    return { pattern: patternOf(module.ref.id, module, fn.path), engine: 'probe' };
  };

  const moduleExport = (specifier: string, path: string, copy: boolean): Named => {
    const target = modules.find(specifier, requireHere);
    const exportPath = path === '' ? 'default' : path;
    if (target === undefined) return { pattern: null, engine: null, note: `cannot resolve '${specifier}'` };
    const pattern = `${target.glob}:${quoteGlob(exportPath, 'function')}`;
    if (target.module === undefined) return { pattern, engine: null, note: 'module not loaded' };
    const entry = modules.entries(target.module).find((e) => e.path === exportPath);
    if (entry === undefined) return { pattern, engine: null, note: 'not a function export of the loaded module' };
    if (entry.target === undefined) return { pattern, engine: null, note: entry.unpatchable ?? 'not patchable' };
    if (copy && entry.target.engine === 'exports') {
      // The copy was taken when this module loaded: a wrapper put on the export now is
      // never called through it. The preload pins wrappers before anyone copies (its
      // engine is then 'preload' already); else only a probe sees the call.
      const internal = internalFunctions(target.module).find((f) => f.path === INTERNAL_MARK + exportPath && f.target !== undefined);
      const note = 'called through a copy taken from require(): the exports wrapper would not see it';
      if (internal !== undefined) return { pattern: `${target.glob}:${quoteGlob(internal.path, 'function')}`, engine: 'probe', note };
      const how = target.module.ref.kind === 'builtin' ? '' : "; start with --import livetrace/register, or probe it by its '~' name";
      return { pattern, engine: null, note: `${note}${how}` };
    }
    return { pattern, engine: entry.target.engine };
  };

  /** What a callee is, as a pattern and the engine that would trace it. */
  const named = (ref: CalleeRef): Named => {
    switch (ref.kind) {
      case 'function':
        return ownPattern(ref.fn);
      case 'module':
        return moduleExport(ref.specifier, ref.path, ref.copy === true);
      case 'own-export':
        return { pattern: patternOf(module.ref.id, module, ref.path), engine: null };
      case 'unnamed':
        return { pattern: null, engine: null, note: ref.note };
    }
  };

  return {
    functionOf(entry) {
      if (entry.target instanceof ProbeTarget) return byPath.get(entry.path);
      const value = entry.target?.read();
      if (typeof value !== 'function') return undefined;
      let text: string;
      try {
        text = fnToString.call(unwrap(value));
      } catch {
        return undefined;
      }
      return functionWithText(parsed, source, text);
    },
    callees(fn) {
      // One entry per callee (per call text when it has no pattern), at its first line.
      const list = new Map<string, Callee>();
      for (const call of calls.callsIn(fn)) {
        const name = named(call.ref);
        const key = name.pattern ?? `?${call.call}`;
        const existing = list.get(key);
        if (existing !== undefined) {
          existing.count++;
          continue;
        }
        const callee: Callee = { pattern: name.pattern, call: call.call, line: call.line, count: 1, engine: name.engine };
        const why = name.note ?? call.note;
        if (why !== undefined) callee.note = why;
        list.set(key, callee);
      }
      return [...list.values()].sort((a, b) => a.line - b.line);
    },
  };
}

/** The module's exported functions, by the function their source text is: what a wrapper would trace. */
function exportsOf(module: LoadedModule, parsed: ParsedSource, source: string): Map<LocatedFunction, { path: string; engine: Engine | null }> {
  const out = new Map<LocatedFunction, { path: string; engine: Engine | null }>();
  for (const entry of module.entries()) {
    const value = entry.target?.read();
    if (typeof value !== 'function') continue;
    let text: string;
    try {
      text = fnToString.call(unwrap(value));
    } catch {
      continue;
    }
    const fn = functionWithText(parsed, source, text) ?? classWithText(parsed, source, text);
    if (fn !== undefined && !out.has(fn)) out.set(fn, { path: entry.path, engine: entry.target?.engine ?? null });
  }
  return out;
}
