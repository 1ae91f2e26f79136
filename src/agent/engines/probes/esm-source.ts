/**
 * ES modules of a process livetrace attached to without its preload.
 *
 * Node keeps no list of the ES modules it loaded that JavaScript can read: the preload
 * (`--import livetrace/register`) hears of each as it loads, but a process started with
 * plain `node` and attached to later has no such record, and its ES modules (a Fastify
 * app's routes, any `.mjs`) were simply absent from `ls` and from every pattern. V8 knows
 * them: an inspector session that enables the Debugger is told of every script, with
 * `isModule` for an ES module. So when the catalog is read and no other source knows any
 * ES module, a short in-process session (main thread, where the inspector answers
 * synchronously) enables the Debugger, keeps the `file:` URLs of the modules, and
 * disables it again.
 *
 * That scan costs the process tens of milliseconds (about 30 ms of CPU with 500 ES
 * modules loaded): V8 reports every script again at each enable, and enabling also
 * clears its compilation cache. So a scan is done only when a script may have loaded
 * since the last one. V8 numbers its scripts in order, one id after another, and the
 * Runtime domain (no Debugger needed) compiles a throwaway script (a syntax error: nothing runs) and tells its id: the
 * id right after the previous check's throwaway means no script at all was compiled in
 * between (no ES module, no CommonJS module, no eval), and the last scan stands. A check
 * costs a fraction of a millisecond. Only the scripts with ids past the last scan's are
 * looked at, and the modules found are kept (the same objects from one read to the
 * next). A read within SCAN_TTL_MS of the last check reuses it without checking.
 *
 * Such a module's exports are live bindings nobody can replace, so its exported
 * functions are listed under their exported names with the probe engine: the pattern a
 * user writes first (`routes/items:getItem`) arms a probe on the function's source, and
 * its other functions are there with their `~` names as in any module. Not scanned:
 * inside a probe's condition or pause (the inspector would not answer), and never when
 * another source (the preload) is registered.
 */
import { Session } from 'node:inspector';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyNode, Program } from 'acorn';
import type { FunctionEntry, LoadedModule } from '../../catalog/entries.js';
import { addModuleSource, moduleSourceCount } from '../../catalog/modules.js';
import { moduleRefForFile } from '../../catalog/naming.js';
import { isOwnFile } from '../../capture/stack.js';
import { parseModuleFile } from '../../source/locate.js';
import { log } from '../../log.js';
import { ArrayPrototypePush, SafeMap } from '../../../safe/intrinsics.js';
import { internalFunctions } from './internal-source.js';
import { insideProbe } from './trampoline.js';

/** How long one check (and scan) of the loaded ES modules is reused, ms. */
export const SCAN_TTL_MS = 2000;

const NOTE = "ES module loaded without livetrace's preload: its exported functions are traced by probes";

let scanned: { at: number; modules: LoadedModule[] } | undefined;
/** Set while a scan runs: a catalog read from inside it gets nothing from this source. */
let listing = false;
/** The modules found so far, by file (kept from one scan to the next). */
const byFile = new SafeMap<string, LoadedModule>();
/** The highest script id the last scan saw (ids only grow). */
let lastScriptId = -1;
/** The id of the last check's throwaway script; -1 before the first. */
let lastMarkId = -1;
let markSerial = 0;

/** Figures for tests and bench/esm-scan.mjs: full scans done, checks that found nothing new, reads that needed neither (esModulesPossible). */
export const scanCounts = { scans: 0, unchanged: 0, skipped: 0 };

/** Posts on a connected main-thread session, which answers synchronously. */
function post<T>(session: Session, method: string, params?: object): T {
  let out: { error: Error | null; result: T } | undefined;
  session.post(method, params ?? {}, (error: Error | null, result?: object) => {
    out = { error, result: result as T };
  });
  if (out === undefined) throw new Error(`no synchronous answer to ${method}`);
  if (out.error !== null) throw out.error;
  return out.result;
}

/**
 * Has V8 compile a throwaway script and returns its id: the next script id V8 hands
 * out. The script is a syntax error, so nothing runs, and the error's details name its
 * script; Runtime.evaluate needs no Runtime.enable (which would replay the console
 * messages V8 stored while any session was connected). Its text is new each time, since
 * a text compiled before may come back from the compilation cache with its old script.
 */
function nextScriptId(session: Session): number {
  const { exceptionDetails } = post<{ exceptionDetails?: { scriptId?: string } }>(session, 'Runtime.evaluate', {
    expression: `}// livetrace: script id mark ${markSerial++}`,
    silent: true,
  });
  const id = Number(exceptionDetails?.scriptId);
  if (!Number.isInteger(id)) throw new Error(`no script id from Runtime.evaluate: ${String(exceptionDetails?.scriptId)}`);
  return id;
}

/**
 * Looks at the scripts V8 loaded since the last scan and adds their ES modules to
 * `byFile`. False when the inspector can't tell.
 */
function update(): boolean {
  const session = new Session();
  try {
    session.connect();
    const mark = nextScriptId(session);
    // Nothing compiled since the last check's mark: the last scan is whole.
    if (lastMarkId !== -1 && mark === lastMarkId + 1) {
      lastMarkId = mark;
      scanCounts.unchanged++;
      return true;
    }
    scanCounts.scans++;
    let highest = lastScriptId;
    session.on('Debugger.scriptParsed', (message: { params: { scriptId?: unknown; url?: unknown; isModule?: unknown } }) => {
      const { url, isModule } = message.params;
      const id = Number(message.params.scriptId);
      if (!(id > lastScriptId)) return;
      if (id > highest) highest = id;
      if (isModule === true && typeof url === 'string' && url.startsWith('file:')) found(url);
    });
    // On the main thread the session dispatches synchronously: every scriptParsed has
    // been emitted by the time post() returns.
    post(session, 'Debugger.enable');
    post(session, 'Debugger.disable');
    lastScriptId = highest;
    // The mark after the scan: the scan's own compiles are behind it.
    lastMarkId = nextScriptId(session);
    return true;
  } catch (error) {
    log.debug({ err: error }, 'no ES module list from the inspector');
    return false;
  } finally {
    try {
      session.disconnect();
    } catch {
      // Not connected.
    }
  }
}

function found(url: string): void {
  let file: string;
  try {
    file = fileURLToPath(url);
  } catch {
    return;
  }
  if (byFile.has(file) || isOwnFile(file)) return;
  byFile.set(file, esModule(file));
}

/**
 * Node's record of the internal modules it loaded, by name ("NativeModule
 * internal/modules/esm/module_job"). A live array: Node appends to it as it loads.
 */
const moduleLoadList = (process as unknown as { moduleLoadList?: unknown }).moduleLoadList;

/** Loaded by Node for every CommonJS process before any program code runs: proof the list is named as we expect. */
const CJS_LOADER = 'NativeModule internal/modules/cjs/loader';
/** Loaded by Node the first time it links or runs any ES module (import(), an ES main, require() of one). */
const MODULE_JOB = 'NativeModule internal/modules/esm/module_job';

/**
 * False only when no ES module can have been loaded in this process: Node never ran its
 * ES module jobs. The in-process scan costs a CommonJS process 35-47 ms of inspector
 * `Debugger.enable` at its first session's start (most of what an attach waits for at
 * that point) to find nothing. Node 20 and 22 load `internal/modules/esm/module_job` the
 * first time anything goes through the ES module loader: an ES main module, `import()`
 * (even of a CommonJS file), `--import`, require() of an ES module; a CommonJS process
 * that never did has no ES module. (Node 24 loads it, with the rest of the ES module
 * loader, at start-up in every process: there this says "possible" and the scan runs as
 * before; checked on 20.20, 22.23 and 24.22.) True whenever in doubt: no list, or a list without
 * the CommonJS loader's name (a Node whose internal names we do not know), so the worst
 * a renamed internal can do is cost the scan again. `vm.SourceTextModule` (behind a flag)
 * compiles modules without a job, but those are not files a pattern names.
 */
export function esModulesPossible(): boolean {
  if (!Array.isArray(moduleLoadList)) return true;
  const list = moduleLoadList as unknown[];
  let knownNames = false;
  for (let i = list.length - 1; i >= 0; i--) {
    const entry = list[i];
    if (entry === MODULE_JOB) return true;
    if (entry === CJS_LOADER) knownNames = true;
  }
  return !knownNames;
}

/** The ES modules loaded, from a check (and a scan if need be) at most `ttlMs` old. */
function scan(ttlMs = SCAN_TTL_MS): LoadedModule[] {
  const now = performance.now();
  if (scanned !== undefined && now - scanned.at < ttlMs) return scanned.modules;
  // Nothing to find (and nothing found before: the list only grows), without the scan's cost.
  if (scanned === undefined && !esModulesPossible()) {
    scanCounts.skipped++;
    return [];
  }
  const before = byFile.size;
  if (!update()) return scanned?.modules ?? [];
  let modules = scanned?.modules;
  if (modules === undefined || byFile.size !== before) {
    modules = [];
    byFile.forEach((module) => ArrayPrototypePush(modules!, module));
  }
  scanned = { at: now, modules };
  return modules;
}

/** For tests and bench/esm-scan.mjs: the modules as a catalog read after SCAN_TTL_MS would find them. */
export function scanEsModulesNow(): LoadedModule[] {
  return scan(0);
}

function esModule(file: string): LoadedModule {
  const module: LoadedModule = { ref: moduleRefForFile(file), file, entries: () => exportedFunctions(module), note: NOTE };
  return module;
}

interface Exports {
  mtimeMs: number;
  size: number;
  /** Exported name to the top-level name it exports. */
  names: [string, string][];
}

const exportsByFile = new SafeMap<string, Exports>();

/**
 * The module's exported functions under their exported names (`getItem`, `default`,
 * `Repo#save` for a method of an exported class), each the probe target of the function
 * its `~` name locates.
 */
export function exportedFunctions(module: LoadedModule): FunctionEntry[] {
  const internal = internalFunctions(module);
  if (internal.length === 0 || module.file === undefined) return [];
  const names = exportNames(module.file);
  const out: FunctionEntry[] = [];
  for (let n = 0; n < names.length; n++) {
    const [exported, local] = names[n]!;
    for (let i = 0; i < internal.length; i++) {
      const entry = internal[i]!;
      const path = entry.path.slice(1);
      if (path === local) ArrayPrototypePush(out, { ...entry, path: exported });
      else if (path.startsWith(`${local}#`) || path.startsWith(`${local}.`)) ArrayPrototypePush(out, { ...entry, path: exported + path.slice(local.length) });
    }
  }
  return out;
}

function exportNames(file: string): [string, string][] {
  let stat: { mtimeMs: number; size: number };
  try {
    stat = statSync(file);
  } catch {
    return [];
  }
  const cached = exportsByFile.get(file);
  if (cached !== undefined && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.names;
  let names: [string, string][] = [];
  try {
    names = exportsOf(parseModuleFile(file).parsed.program);
  } catch (error) {
    log.debug({ err: error, file }, 'no exports');
  }
  exportsByFile.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, names });
  return names;
}

function nameOf(node: AnyNode | null | undefined): string | undefined {
  if (node?.type === 'Identifier') return node.name;
  if (node?.type === 'Literal' && typeof node.value === 'string') return node.value;
  return undefined;
}

/** [exported, local] for the module's own exports of top-level names (re-exports from elsewhere are that module's). */
function exportsOf(program: Program): [string, string][] {
  const out: [string, string][] = [];
  for (const statement of program.body as AnyNode[]) {
    if (statement.type === 'ExportNamedDeclaration') {
      if (statement.source) continue;
      const declaration = statement.declaration as AnyNode | null | undefined;
      if (declaration?.type === 'FunctionDeclaration' || declaration?.type === 'ClassDeclaration') {
        const name = nameOf(declaration.id);
        if (name !== undefined) ArrayPrototypePush(out, [name, name]);
      } else if (declaration?.type === 'VariableDeclaration') {
        for (const declarator of declaration.declarations) {
          const name = nameOf(declarator.id as AnyNode);
          if (name !== undefined) ArrayPrototypePush(out, [name, name]);
        }
      }
      for (const specifier of statement.specifiers ?? []) {
        const local = nameOf(specifier.local as AnyNode);
        const exported = nameOf(specifier.exported as AnyNode);
        if (local !== undefined && exported !== undefined) ArrayPrototypePush(out, [exported, local]);
      }
    } else if (statement.type === 'ExportDefaultDeclaration') {
      const declaration = statement.declaration as AnyNode;
      const named = declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration' ? nameOf(declaration.id) : undefined;
      // locate.ts names an anonymous default export `~default`, a named one by its name.
      const local = named ?? (declaration.type === 'Identifier' ? declaration.name : 'default');
      ArrayPrototypePush(out, ['default', local]);
    }
  }
  return out;
}

addModuleSource({
  // The last scan, if any: a scan costs the process tens of milliseconds, which `info`
  // (asking every second or two while watched) must not pay.
  known() {
    return scanned?.modules ?? [];
  },
  modules() {
    if (listing) return [];
    if (insideProbe()) return scanned?.modules ?? [];
    listing = true;
    try {
      // The preload (another source) hears of every ES module as it loads, with exports
      // it can patch: nothing to add, and no scan to pay for.
      if (moduleSourceCount() > 1) return [];
      return scan();
    } catch (error) {
      log.debug({ err: error }, 'ES module scan failed');
      return [];
    } finally {
      listing = false;
    }
  },
});
