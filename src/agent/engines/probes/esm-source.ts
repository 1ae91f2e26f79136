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
 * disables it again. That costs some tens of ms per scan in a small app, so a scan is
 * reused for SCAN_TTL_MS.
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

/** How long one scan of the loaded ES modules is reused, ms. */
export const SCAN_TTL_MS = 2000;

const NOTE = "ES module loaded without livetrace's preload: its exported functions are traced by probes";

let scanned: { at: number; modules: LoadedModule[] } | undefined;
/** Set while a scan runs: a catalog read from inside it gets nothing from this source. */
let listing = false;

/** The file: URLs of the ES modules V8 has loaded, or undefined when the inspector can't tell. */
function esModuleUrls(): string[] | undefined {
  const session = new Session();
  const urls: string[] = [];
  try {
    session.connect();
    session.on('Debugger.scriptParsed', (message: { params: { url?: unknown; isModule?: unknown } }) => {
      const { url, isModule } = message.params;
      if (isModule === true && typeof url === 'string' && url.startsWith('file:')) ArrayPrototypePush(urls, url);
    });
    // On the main thread the session dispatches synchronously: every scriptParsed has
    // been emitted by the time post() returns.
    session.post('Debugger.enable');
    session.post('Debugger.disable');
    return urls;
  } catch (error) {
    log.debug({ err: error }, 'no ES module list from the inspector');
    return undefined;
  } finally {
    try {
      session.disconnect();
    } catch {
      // Not connected.
    }
  }
}

function scan(): LoadedModule[] {
  const now = performance.now();
  if (scanned !== undefined && now - scanned.at < SCAN_TTL_MS) return scanned.modules;
  const modules: LoadedModule[] = [];
  const seen = new SafeMap<string, true>();
  for (const url of esModuleUrls() ?? []) {
    let file: string;
    try {
      file = fileURLToPath(url);
    } catch {
      continue;
    }
    if (seen.has(file) || isOwnFile(file)) continue;
    seen.set(file, true);
    ArrayPrototypePush(modules, esModule(file));
  }
  scanned = { at: now, modules };
  return modules;
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
