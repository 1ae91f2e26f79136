/**
 * Module loader hooks (`module.register`), run by Node in its loader thread: every ES
 * module of the app goes through rewriteModule on its way in. Which modules: the app's
 * own files, node_modules only when asked, never livetrace's own files, never anything
 * that is not plain JavaScript ESM from a file. A module the rewrite can't handle loads
 * exactly as it came. Nothing here ever throws into the loader.
 */
import type { InitializeHook, LoadHook } from 'node:module';
import { rewriteModule } from '../../source/rewrite.js';
import { lexerReady } from '../../source/rewrite-fast.js';

/** What the main thread passes to `initialize`. */
export interface HooksData {
  /** Rewrite modules under node_modules too. */
  packages: boolean;
  /** URL prefixes never rewritten (livetrace's own files). */
  exclude: string[];
}

let settings: HooksData = { packages: false, exclude: [] };
const decoder = new TextDecoder();

export const initialize: InitializeHook<HooksData> = (data) => {
  if (data !== undefined && data !== null) settings = data;
};

export const load: LoadHook = async (url, context, nextLoad) => {
  const result = await nextLoad(url, context);
  if (result.format !== 'module' || !included(url) || result.source === undefined || result.source === null) return result;
  try {
    // Once: es-module-lexer's WebAssembly (rewrite-fast.ts). Not awaited when packages are
    // rewritten too: the lexer is itself an ES module in node_modules, so its own load
    // would come here and wait for itself. Modules that arrive before it is ready take
    // the acorn path, which gives the same rewrite.
    if (settings.packages) void lexerReady();
    else await lexerReady();
    const source = typeof result.source === 'string' ? result.source : decoder.decode(result.source as Uint8Array);
    const rewritten = rewriteModule(source);
    return rewritten === undefined ? result : { ...result, source: rewritten };
  } catch {
    return result;
  }
};

function included(url: string): boolean {
  if (!url.startsWith('file:')) return false;
  if (!settings.packages && url.includes('/node_modules/')) return false;
  return !settings.exclude.some((prefix) => url.startsWith(prefix));
}
