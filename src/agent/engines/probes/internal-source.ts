/**
 * Internal functions for the catalog: every function in a loaded module's source,
 * named by its lexical path with the `~` mark (locate.ts), each a ProbeTarget. A pattern
 * reaches them only when its function glob starts with `~` (`src/users:~hashPassword`,
 * `src/**:~*Password`), so `src/users:*` never arms a probe by accident.
 *
 * The source is read from the module's file and parsed once per version of the file
 * (modification time and size); the targets are kept per module URL and path, so every
 * resolve names the same target and sessions share one probe per function. Files over
 * a size limit (bundles) are not parsed (source/parse.ts).
 */
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { LivetraceError } from '../../../protocol/errors.js';
import type { FunctionEntry, LoadedModule } from '../../catalog/entries.js';
import { addInternalSource } from '../../catalog/resolve.js';
import { log } from '../../log.js';
import { probeEngine } from './engine.js';
import { INTERNAL_MARK, parseModuleFile } from '../../source/locate.js';
import { ProbeTarget } from './target.js';
import { declareParameters } from '../../source/params.js';

interface Parsed {
  mtimeMs: number;
  size: number;
  entries: FunctionEntry[];
}

const parsedFiles = new Map<string, Parsed>();
const targets = new Map<string, ProbeTarget>();

function targetFor(url: string, path: string, kind: ProbeTarget['kind']): ProbeTarget {
  const key = `${url}\n${path}`;
  let target = targets.get(key);
  if (target === undefined || target.kind !== kind) targets.set(key, (target = new ProbeTarget(url, path, kind)));
  return target;
}

/** The internal functions of a module (none without a file, or for a file that isn't plain JavaScript). */
export function internalFunctions(module: LoadedModule): FunctionEntry[] {
  const file = module.file;
  if (file === undefined) return [];
  let stat: { mtimeMs: number; size: number };
  try {
    stat = statSync(file);
  } catch {
    return [];
  }
  const cached = parsedFiles.get(file);
  if (cached !== undefined && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.entries;
  let entries: FunctionEntry[] = [];
  try {
    const { parsed } = parseModuleFile(file);
    const url = pathToFileURL(file).href;
    entries = parsed.functions.map((fn): FunctionEntry => {
      const target = targetFor(url, fn.path, fn.kind);
      declareParameters(target.subject, fn.node.params);
      const why = target.unpatchable();
      return why === undefined ? { path: fn.path, kind: fn.kind, target } : { path: fn.path, kind: fn.kind, unpatchable: why };
    });
  } catch (error) {
    log.debug({ err: error, file }, 'no internal functions');
  }
  parsedFiles.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, entries });
  return entries;
}

addInternalSource({
  wants: (functionGlob) => functionGlob.startsWith(INTERNAL_MARK),
  entries(module) {
    const entries = internalFunctions(module);
    // Refuse before anything is hooked, rather than list probes that can't be armed.
    if (entries.length > 0) probeEngine.ensureUsable();
    return entries;
  },
  list: internalFunctions,
});
