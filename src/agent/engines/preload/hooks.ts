/**
 * Module loader hooks (`module.register`), run by Node in its loader thread: every ES
 * module of the app goes through rewriteModule on its way in. Which modules: the app's
 * own files, node_modules only when asked, never livetrace's own files, never anything
 * that is not plain JavaScript ESM from a file. A module the rewrite can't handle loads
 * exactly as it came. Nothing here ever throws into the loader.
 *
 * The modules a user selected (the same globs as the CommonJS hook's, instrument.ts, handed
 * over in `initialize`'s data with the body-site registry's tag) get their function bodies
 * instrumented as well, in the same pass (source/instrument-esm.ts); site ids are this
 * thread's own, counted down from -1. A selected module that can't be instrumented takes
 * the plain rewrite.
 */
import type { InitializeHook, LoadHook } from 'node:module';
import { fileURLToPath } from 'node:url';
import { rewriteModule } from '../../source/rewrite.js';
import { lexerReady } from '../../source/rewrite-fast.js';
import { instrumentEsmModule } from '../../source/instrument-esm.js';
import { resetAppRoot } from '../../catalog/naming.js';
import { makeInstrumentFilter } from './select.js';

/** What the main thread passes to `initialize`. */
export interface HooksData {
  /** Rewrite modules under node_modules too. */
  packages: boolean;
  /** URL prefixes never rewritten (livetrace's own files). */
  exclude: string[];
  /** Body instrumentation of the modules the globs select (absent: none). */
  instrument?: {
    globs: string[];
    /** The body-site registry's tag (patcher/body-site.ts). */
    tag: string;
    /** The app's root, as the main thread names modules (catalog/naming.ts). */
    root: string;
  };
}

let settings: HooksData = { packages: false, exclude: [] };
let selected: ((filename: string) => boolean) | undefined;
let nextId = -1;
const decoder = new TextDecoder();

export const initialize: InitializeHook<HooksData> = (data) => {
  if (data === undefined || data === null) return;
  settings = data;
  try {
    const instrument = data.instrument;
    if (instrument === undefined || !/^[A-Za-z0-9]+$/.test(instrument.tag)) return;
    resetAppRoot(instrument.root);
    selected = makeInstrumentFilter(instrument.globs, data.packages, /\.m?js$/i);
  } catch {
    selected = undefined;
  }
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
    if (selected !== undefined && settings.instrument !== undefined && selected(fileURLToPath(url.replace(/[?#].*$/, '')))) {
      const instrumented = instrumentEsmModule(source, settings.instrument.tag, nextId);
      if (instrumented !== undefined) {
        nextId -= instrumented.sites;
        return { ...result, source: instrumented.code };
      }
    }
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
