/** The ops that read the process without starting a session: list (ls) and deeper. */
import type { DeeperRequest, ListRequest, ModuleListing } from '../../../protocol/messages.js';
import { compilePatterns } from '../../../pattern/index.js';
import { listFunctions, type ListingFilter } from '../../catalog/listing.js';
import { deeper as calleesOf } from '../../deeper/deeper.js';
import type { OpContext } from './context.js';
import { ArrayPrototypePush } from '../../../safe/intrinsics.js';

/** Target size of one `part` frame of a listing. */
const PART_BYTES = 256 * 1024;

/** Long listings go out as `part` frames of about PART_BYTES, then the reply with the rest. */
export function list(ctx: OpContext, request: ListRequest): void {
  const modules = listFunctions(request.pattern === undefined ? undefined : listingFilter(request.pattern));
  let part: ModuleListing[] = [];
  let partBytes = 0;
  for (const listing of modules.flatMap(splitModule)) {
    const bytes = JSON.stringify(listing).length;
    if (part.length > 0 && partBytes + bytes > PART_BYTES) {
      ctx.write({ type: 'part', id: request.id, modules: part });
      part = [];
      partBytes = 0;
    }
    ArrayPrototypePush(part, listing);
    partBytes += bytes;
  }
  ctx.reply({ id: request.id, ok: true, modules: part });
}

/**
 * A module whose listing alone would pass PART_BYTES (20,000 exports) is cut into pieces
 * with the same module name, each under it; the client joins consecutive pieces of one
 * module back together (client/connection.ts), so no frame nears the limit.
 */
function splitModule(listing: ModuleListing): ModuleListing[] {
  if (JSON.stringify(listing).length <= PART_BYTES) return [listing];
  const pieces: ModuleListing[] = [];
  let functions: ModuleListing['functions'] = [];
  let bytes = 0;
  for (const fn of listing.functions) {
    const size = JSON.stringify(fn).length + 1;
    if (functions.length > 0 && bytes + size > PART_BYTES / 2) {
      ArrayPrototypePush(pieces, { ...listing, functions });
      functions = [];
      bytes = 0;
    }
    ArrayPrototypePush(functions, fn);
    bytes += size;
  }
  ArrayPrototypePush(pieces, { ...listing, functions });
  return pieces;
}

export function deeper(ctx: OpContext, request: DeeperRequest): void {
  ctx.reply({ id: request.id, ok: true, results: calleesOf(request.fn) });
}

/**
 * `ls` takes a pattern as `trace` does, or just a module glob ('src/users', 'node:fs'),
 * which lists all of that module's functions.
 */
function listingFilter(pattern: string): ListingFilter {
  const moduleOnly = /^(node:)?[^:]*$/.test(pattern.trim());
  const full = moduleOnly ? `${pattern.trim()}:*` : pattern;
  const [matcher] = compilePatterns([full]);
  if (!matcher) return { module: () => false, fn: () => false, moduleOnly, internal: false };
  return {
    module: (ref) => matcher.matchModule(ref),
    fn: (path) => matcher.matchFunction(path),
    moduleOnly,
    internal: matcher.functionGlob.startsWith('~'),
  };
}
