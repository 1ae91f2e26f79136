/**
 * The body-site registry: one per process, on a global symbol, so every copy of livetrace
 * and every rewritten module reach the same sites. A CommonJS module's sites are made as
 * it compiles (`registerSites`, ids counting up) and taken by its first statement; an ES
 * module's are made by its own preamble in the main thread (`define`, negative ids
 * allocated by the loader thread), since its rewrite runs where this registry is not.
 * `bodySiteOf` finds an instrumented function's site from the marker in its text.
 */
import { fileURLToPath } from 'node:url';
import { BodySite } from './body-site.js';
import { BODY_REGISTRY_KEY, markedSites, stripInserted } from '../source/instrument-markers.js';
import { ArrayPrototypePush, FunctionPrototypeToString, SafeMap } from '../../safe/intrinsics.js';

export interface BodyRegistry {
  version: 1;
  /** Marks inserted text and suffixes inserted identifiers: letters and digits. */
  tag: string;
  /** By site id. */
  sites: (BodySite | undefined)[];
  /** Site arrays of modules compiled but not yet evaluated, by module id. */
  pending: Map<number, BodySite[]>;
  nextModule: number;
  /** Called by a rewritten module's first statement: its sites. */
  take(moduleId: number): BodySite[];
  /** Sites created by `define` (negative ids, not counted by `sites.length`). */
  defined: number;
  /**
   * Called by a rewritten ES module's first statement (source/instrument-esm.ts): creates
   * its sites, one per row, and returns them in row order (undefined for a row it refused).
   * Never throws.
   */
  define(url: string, rows: readonly SiteRow[]): (BodySite | undefined)[];
}

/** A site as an ES module's preamble hands it to `define`: [id (negative), name, line, offset, once, async]. */
export type SiteRow = [id: number, name: string, line: number, offset: number, once: boolean, async: boolean];

const REGISTRY_KEY = Symbol.for(BODY_REGISTRY_KEY);
function randomTag(): string {
  let tag = 'lt';
  for (let i = 0; i < 6; i++) tag += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)];
  return tag;
}

/** The process's registry (created on first use). */
export function bodyRegistry(): BodyRegistry {
  const global = globalThis as Record<symbol, unknown>;
  const existing = global[REGISTRY_KEY] as BodyRegistry | undefined;
  if (existing !== undefined) return existing;
  const registry: BodyRegistry = {
    version: 1,
    tag: randomTag(),
    sites: [],
    pending: new SafeMap(),
    nextModule: 0,
    take(moduleId) {
      const sites = registry.pending.get(moduleId) ?? [];
      registry.pending.delete(moduleId);
      return sites;
    },
    defined: 0,
    define(url, rows) {
      const out: (BodySite | undefined)[] = [];
      try {
        const file = url.startsWith('file:') ? fileURLToPath(url.replace(/[?#].*$/, '')) : url;
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i];
          // A module evaluated twice under one URL never happens; two URLs get distinct ids.
          if (!Array.isArray(row) || !Number.isSafeInteger(row[0]) || row[0] >= 0 || registry.sites[row[0]] !== undefined) {
            ArrayPrototypePush(out, undefined);
            continue;
          }
          const [id, name, line, offset, once, async] = row;
          const site = new BodySite(id, file, String(name), Number(line), Number(offset), once === true, async === true);
          registry.sites[id] = site;
          registry.defined++;
          ArrayPrototypePush(out, site);
        }
      } catch {
        // Never into the module's evaluation: the rows not made stay idle (the preamble's fallback).
      }
      return out;
    },
  };
  Object.defineProperty(global, REGISTRY_KEY, { value: registry, configurable: true, enumerable: false, writable: false });
  return registry;
}

function existingRegistry(): BodyRegistry | undefined {
  return (globalThis as Record<symbol, unknown>)[REGISTRY_KEY] as BodyRegistry | undefined;
}

/** The JavaScript expression a rewritten module reads its sites with. */
export function registryExpression(moduleId: number): string {
  return `globalThis[Symbol.for('${BODY_REGISTRY_KEY}')].take(${moduleId})`;
}

/** The body site of an instrumented function, or undefined for any other function. Never throws. */
export function bodySiteOf(fn: Function): BodySite | undefined {
  const registry = existingRegistry();
  if (registry === undefined || (registry.sites.length === 0 && !(registry.defined > 0))) return undefined;
  try {
    // The built-in, not `Function.prototype.toString` as found: a copy of livetrace loaded
    // after another one replaced it (wrapper-identity.ts: the --import preload's ESM build
    // beside the CJS build that compiled the module) would read texts with the markers cut out.
    const text = FunctionPrototypeToString(fn as () => void);
    for (const [id, at] of markedSites(text, registry.tag)) {
      const site = registry.sites[id];
      if (site !== undefined && site.offset === at) return site;
    }
  } catch {
    // Not a function we can read: not instrumented.
  }
  return undefined;
}

/** A function's text without what the rewrite inserted (toString; texts without the tag are returned as they are). */
export function originalText(text: string): string {
  const registry = existingRegistry();
  return registry === undefined ? text : stripInserted(text, registry.tag);
}

/**
 * Registers the sites of one rewritten module, before it is evaluated: ids from `firstId`
 * (the registry's `sites.length` when the rewrite ran), module id `registry.nextModule`.
 */
export function registerSites(file: string, infos: readonly { name: string; line: number; offset: number; once: boolean; async?: boolean; generator?: boolean }[], firstId: number): void {
  const registry = bodyRegistry();
  const moduleId = registry.nextModule++;
  const sites: BodySite[] = [];
  infos.forEach((info, i) => {
    const site = new BodySite(firstId + i, file, info.name, info.line, info.offset, info.once, info.async === true, info.generator === true);
    registry.sites[firstId + i] = site;
    ArrayPrototypePush(sites, site);
  });
  registry.pending.set(moduleId, sites);
}
