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

/** What the main thread passes to `initialize`. */
export interface HooksData {
  /** Rewrite modules under node_modules too. */
  packages: boolean;
  /** URL prefixes never rewritten (livetrace's own files). */
  exclude: string[];
  /** Body instrumentation of the modules the globs select (absent: none). */
  instrument?: {
    globs: string[];
    /** The body-site registry's tag (patcher/body-registry.ts). */
    tag: string;
    /** The app's root, as the main thread names modules (catalog/naming.ts). */
    root: string;
  };
}

let settings: HooksData = { packages: false, exclude: [] };
const decoder = new TextDecoder();

interface BodyTools {
  selected: (filename: string) => boolean;
  instrument: typeof import('../../source/instrument-esm.js').instrumentEsmModule;
  tag: string;
}
/** Loaded only when something is selected: the glob compiler alone (micromatch) cost every preloaded process some 40 ms of CPU. */
let tools: Promise<BodyTools | undefined> | undefined;
let ready: BodyTools | undefined | null = null;
let nextId = -1;

export const initialize: InitializeHook<HooksData> = (data) => {
  if (data === undefined || data === null) return;
  settings = data;
  const instrument = data.instrument;
  if (instrument === undefined || !/^[A-Za-z0-9]+$/.test(instrument.tag)) return;
  tools = (async (): Promise<BodyTools | undefined> => {
    const [{ instrumentEsmModule }, { makeInstrumentFilter }, { resetAppRoot }] = await Promise.all([
      import('../../source/instrument-esm.js'),
      import('./select.js'),
      import('../../catalog/naming.js'),
    ]);
    resetAppRoot(instrument.root);
    const selected = makeInstrumentFilter(instrument.globs, data.packages, /\.m?js$/i);
    return selected === undefined ? undefined : { selected, instrument: instrumentEsmModule, tag: instrument.tag };
  })().then(
    (loaded) => (ready = loaded),
    () => (ready = undefined),
  );
};

/**
 * The instrumentation tools for this module, or undefined. Waited for, except for a
 * package's module while they are still loading with packages rewritten too: it could be
 * one the tools import, whose load would wait for itself (as the lexer above).
 */
async function bodyTools(url: string): Promise<BodyTools | undefined> {
  if (tools === undefined) return undefined;
  if (ready !== null) return ready;
  if (settings.packages && url.includes('/node_modules/')) return undefined;
  return (await tools) ?? undefined;
}

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
    const body = await bodyTools(url);
    if (body !== undefined && body.selected(fileURLToPath(url.replace(/[?#].*$/, '')))) {
      const instrumented = body.instrument(source, body.tag, nextId);
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
