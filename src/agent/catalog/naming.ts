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
  return { id: relative(appRoot(), file).split(sep).join('/'), kind: 'app' };
}
