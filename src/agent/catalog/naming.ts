/**
 * Naming modules as the user names them in patterns: a path relative to the app root for
 * the app's own files, `<package>/<path>` inside node_modules (`node:<name>` for
 * builtins is given where builtins are listed, catalog/modules.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, normalize, relative, sep } from 'node:path';
import type { ModuleRef } from '../../pattern/match/matcher.js';
import { SafeMap } from '../../safe/intrinsics.js';

let cachedRoot: string | undefined;

/** The app root: the folder of the nearest package.json above the main module, else cwd. */
export function appRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const main = process.argv[1];
  // Not a path in a worker started from code (`new Worker(code, { eval: true })`: '[worker
  // eval]'), whose relative dirname made every session there fail in createRequire.
  let dir = main && isAbsolute(main) ? dirname(main) : process.cwd();
  for (;;) {
    if (!dir.split(sep).includes('node_modules') && existsSync(normalize(dir + sep + 'package.json'))) {
      return (cachedRoot = dir);
    }
    const up = dirname(dir);
    if (up === dir) return (cachedRoot = process.cwd());
    dir = up;
  }
}

/** For tests: forget the cached app root. */
export function resetAppRoot(root?: string): void {
  cachedRoot = root;
}

/** A require() that resolves as the app's own code would. */
export function appRequire(): NodeJS.Require {
  // Not path.join: Node's join calls Array#push, which the program may have replaced.
  return createRequire(normalize(appRoot() + sep + 'noop.js'));
}

const entryCache = new SafeMap<string, string | null>();

function packageEntryFile(packageName: string): string | null {
  let file = entryCache.get(packageName);
  if (file === undefined) {
    try {
      file = appRequire().resolve(packageName);
    } catch {
      file = null;
    }
    entryCache.set(packageName, file);
  }
  return file;
}

export function moduleRefForFile(file: string): ModuleRef {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at !== -1) {
    const inner = file.slice(at + marker.length).split(sep);
    const packageName = inner[0]?.startsWith('@') ? `${inner[0]}/${inner[1]}` : (inner[0] ?? '');
    return {
      id: inner.join('/'),
      kind: 'package',
      packageName,
      packageEntry: packageEntryFile(packageName) === file,
    };
  }
  return { id: appRelative(appRoot(), file), kind: 'app' };
}

/**
 * `relative(root, file)` with '/' separators. Every module the preload loads is named here
 * once, and `path.relative` (two `resolve`s, each a character loop) cost 5-50 µs a call,
 * a sixth of the ES module preload's whole cost per module (docs/benchmarks.md, branch
 * body8): a file under the root whose rest has no `.`, `..` or empty segment is the rest.
 */
function appRelative(root: string, file: string): string {
  if (sep === '/' && isAbsolute(root)) {
    const prefix = root.endsWith('/') ? root : root + '/';
    if (file.startsWith(prefix) && !NOT_NORMAL.test(file.slice(prefix.length - 1))) return file.slice(prefix.length);
  }
  return relative(root, file).split(sep).join('/');
}

/** A `.` or `..` segment, an empty one, or a trailing `/`: left to `path.relative`. */
const NOT_NORMAL = /\/\.{1,2}(?:\/|$)|\/\/|\/$/;
